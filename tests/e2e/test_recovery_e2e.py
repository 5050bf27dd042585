"""A real recovery seen through the real Claude Code binary: the project's requirements declare
a package its venv lacks; Claude runs `python app.py`; when the hook returns, the package is in
the venv, the retried command passed, and the next request to the model says so."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from claude_code import ClaudeRun, require_claude_binary, run_claude
from daemon_fixtures import DaemonFactory, Home, fresh_home
from fake_messages_api import FakeMessagesAPI, bash, text, tool_use_id
from package_index import PackageIndex, TrapProxy, pip_env
from test_recoverd_e2e import settings_from_example

DIST = "recoverd-e2e-greeting"
MODULE = "recoverd_e2e_greeting"


@dataclass
class Healed:
    run: ClaudeRun
    api: FakeMessagesAPI
    home: Home
    venv: Path
    downloads: int


@pytest.fixture(scope="module")
def healed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Healed]:
    require_claude_binary()
    root = tmp_path_factory.mktemp("heal")
    project, claude_home, wheels = root / "project", root / "home", root / "wheels"
    (project / ".claude").mkdir(parents=True)
    claude_home.mkdir()
    (project / ".claude" / "settings.json").write_text(json.dumps(settings_from_example()))
    venv = project / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    (project / "app.py").write_text(f"import {MODULE}\nprint({MODULE}.GREETING)\n")
    with TrapProxy() as trap, PackageIndex(wheels) as index, fresh_home() as home:
        index.add_wheel(DIST, "1.0", {f"{MODULE}/__init__.py": "GREETING = 'hello, healed'\n"})
        (project / "requirements.txt").write_text(f"--index-url {index.url}\n{DIST}==1.0\n")
        # What the hook inherits from Claude Code: an activated venv and pip settings that keep
        # every install on 127.0.0.1 (the trap proxy fails the test if anything tries to leave).
        forwarded = {k: v for k, v in pip_env(index.url, trap_proxy=trap.url).items()
                     if k.startswith("PIP_") or "proxy" in k.lower()}
        path = f"{venv / 'bin'}:{pip_env(index.url)['PATH']}"
        factory = DaemonFactory()
        try:
            factory(home)
            turns = [bash("python app.py"), text("done")]
            with FakeMessagesAPI(turns) as api:
                run = run_claude(project, claude_home, api.url, "run the app", timeout=180,
                                 extra_env={"RECOVERD_HOME": str(home.root), "PATH": path,
                                            "VIRTUAL_ENV": str(venv), **forwarded})
                yield Healed(run, api, home, venv, index.file_downloads(DIST))
        finally:
            factory.stop_all()
        assert trap.requests() == [], f"traffic tried to leave the machine: {trap.requests()}"


def test_the_package_is_in_the_projects_venv(healed: Healed) -> None:
    assert healed.run.returncode == 0, healed.run.describe()
    done = subprocess.run([str(healed.venv / "bin" / "python"), "-c",
                           f"import {MODULE}; print({MODULE}.GREETING)"],
                          capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "hello, healed", done.stderr
    assert healed.downloads == 1


def test_the_model_is_told_it_was_installed_and_the_retry_passed(healed: Healed) -> None:
    (context,) = healed.api.hook_contexts("PostToolUseFailure")
    assert "[recoverd]" in context and MODULE in context
    assert "-m pip install -r requirements.txt" in context
    assert f"Installed: {DIST}" in context
    assert "Retried `python app.py`: passed" in context
    assert "hello, healed" in context  # the retried command's own output
    request = healed.api.request_after(tool_use_id(0))
    assert request is not None and "Retried `python app.py`: passed" in json.dumps(request)


def test_the_log_has_the_recovery(healed: Healed) -> None:
    (finished,) = healed.home.log_events("recovery.finished")
    assert finished["outcome"] == "healed" and finished["retry_exit_code"] == 0
    assert finished["argv"][-2:] == ["-r", "requirements.txt"]
