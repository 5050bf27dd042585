"""The README stays true: its pattern example loads, and CI runs its exact test command."""

from __future__ import annotations

import json
from pathlib import Path

import re2

from recoverd.pattern_files import load_file
from recoverd.patterns import LoadReport

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def fenced(language: str) -> list[str]:
    return [m.group(1) for m in re2.finditer(rf"(?s)```{language}\n(.*?)```", README)]


def test_pattern_example_loads_and_its_examples_match(tmp_path: Path) -> None:
    blocks = fenced("toml")
    assert blocks, "the README has no toml pattern example"
    path = tmp_path / "readme.toml"
    path.write_text(blocks[0], encoding="utf-8")
    report = LoadReport()
    loaded = load_file(path, report)
    assert report.errors == []
    assert loaded is not None and len(loaded[0]) == 1


def test_ci_runs_the_readme_test_command() -> None:
    section = README.split("## Run the tests", 1)[1]
    command = section.split("```sh\n", 1)[1].split("```", 1)[0].strip()
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert ci_lines[-1] == command


def test_settings_example_registers_failure_and_success_hooks() -> None:
    settings = json.loads((REPO / "settings.example.json").read_text(encoding="utf-8"))
    for event in ("PostToolUseFailure", "PostToolUse"):
        (group,) = settings["hooks"][event]
        assert group["matcher"] == "Bash"
        (hook,) = group["hooks"]
        assert hook["type"] == "command" and isinstance(hook["timeout"], int)
        assert hook["command"].endswith("-I -S /ABSOLUTE/PATH/TO/recoverd/hooks/recoverd-hook")
        # The hook's own deadline must end before Claude Code's timeout kills it.
        assert hook["timeout"] > 45
