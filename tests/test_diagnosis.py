"""The text Claude reads: prefixed, specific, with a next step it can act on."""

from __future__ import annotations

import json

from recoverd import diagnosis, events
from recoverd.catalogue import Catalogue
from recoverd.classifier import classify

CATALOGUE = Catalogue()


def text_for(command: str, output: str, exit_code: int) -> str:
    event = events.parse(json.dumps({"tool_input": {"command": command}, "cwd": "/tmp",
                                     "exit_code": exit_code, "stderr": output}))
    return diagnosis.render(classify(event, CATALOGUE.base), command)


def test_a_missing_command_comes_with_install_candidates_never_sudo() -> None:
    text = text_for("rg TODO .", "bash: line 1: rg: command not found", 127)
    assert text.startswith("[recoverd] The command `rg` is not installed")
    step = next(line for line in text.splitlines() if line.startswith("Next step:"))
    assert "ripgrep" in step and "not run by recoverd" in step
    assert "sudo" not in text


def test_a_missing_module_names_the_distribution() -> None:
    text = text_for("python3 app.py", "ModuleNotFoundError: No module named 'yaml'", 1)
    assert "`yaml` is provided by the PyPI distribution `PyYAML`" in text
    assert len(text) < diagnosis.LIMIT
