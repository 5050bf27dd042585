"""The two ways of wiring recoverd in, through the real Claude Code binary: settings written by
`recoverd install --scope local`, and the plugin loaded with `--plugin-dir`. Either way a failed
`python3 -c "import <missing>"` comes back to the model with recoverd's diagnosis."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from claude_code import ClaudeRun, require_claude_binary, run_claude
from daemon_fixtures import DaemonFactory, Home, daemons_serving, fresh_home
from fake_messages_api import FakeMessagesAPI, bash, text, tool_use_id

REPO = Path(__file__).resolve().parents[2]
MISSING = "recoverd_install_e2e_no_such_module"
FAILING = f'python3 -c "import {MISSING}"'
PREFIX = "PostToolUseFailure:Bash hook additional context: [recoverd] "


@dataclass
class Session:
    run: ClaudeRun
    api: FakeMessagesAPI
    home: Home
    project: Path


def assert_diagnosed(session: Session) -> None:
    run, api = session.run, session.api
    assert run.returncode == 0, run.describe()
    (context,) = api.hook_contexts("PostToolUseFailure")
    assert context.startswith(PREFIX), context
    assert MISSING in context and "missing_python_module" in context
    request = api.request_after(tool_use_id(0))
    assert request is not None, run.describe()
    messages = request["messages"]
    at = next(i for i, m in enumerate(messages) if tool_use_id(0) in json.dumps(m)
              and "tool_result" in json.dumps(m))
    assert messages[at + 1]["role"] == "system" and MISSING in json.dumps(messages[at + 1])
    classified = session.home.log_events("event.classified")
    assert any(r["source"] == "PostToolUseFailure" and r["subject"] == MISSING
               for r in classified), classified


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A fresh project wired by `recoverd install --scope local`, which also starts the daemon."""
    require_claude_binary()
    root = tmp_path_factory.mktemp("install-e2e")
    project, claude_home = root / "project", root / "home"
    project.mkdir()
    claude_home.mkdir()
    with fresh_home() as home:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "recoverd", "install", "--scope", "local",
                 "--project-dir", str(project)],
                check=False, env=home.env(HOME=str(claude_home)), capture_output=True,
                text=True, timeout=60, cwd=project)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "recoverd started: pid" in done.stdout, done.stdout
            with FakeMessagesAPI([bash(FAILING), text("done")]) as api:
                run = run_claude(project, claude_home, api.url, "import the module",
                                 extra_env={"RECOVERD_HOME": str(home.root)}, timeout=120)
                yield Session(run, api, home, project)
        finally:
            home.cli("stop")
        assert daemons_serving(home.root) == []


def test_install_wrote_only_the_local_settings(installed: Session) -> None:
    claude_dir = installed.project / ".claude"
    assert sorted(p.name for p in claude_dir.iterdir()) == ["settings.local.json"]
    data = json.loads((claude_dir / "settings.local.json").read_text())
    assert set(data["hooks"]) == {"PostToolUseFailure", "PostToolUse"}
    command = data["hooks"]["PostToolUseFailure"][0]["hooks"][0]["command"]
    assert command == f"{sys.executable} -I -S {REPO / 'hooks' / 'recoverd-hook'}"


def test_installed_settings_bring_the_diagnosis_to_the_model(installed: Session) -> None:
    assert_diagnosed(installed)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """No settings file at all: the hooks come from the plugin at the repository's root."""
    require_claude_binary()
    root = tmp_path_factory.mktemp("plugin-e2e")
    project, claude_home = root / "project", root / "home"
    project.mkdir()
    claude_home.mkdir()
    with fresh_home() as home:
        factory = DaemonFactory()
        try:
            factory(home)
            with FakeMessagesAPI([bash(FAILING), text("done")]) as api:
                run = run_claude(project, claude_home, api.url, "import the module",
                                 extra_env={"RECOVERD_HOME": str(home.root)}, timeout=120,
                                 plugin_dir=REPO)
                yield Session(run, api, home, project)
        finally:
            factory.stop_all()


def test_the_plugin_is_loaded_from_its_folder(plugin: Session) -> None:
    assert not (plugin.project / ".claude").exists()
    assert not (plugin.project.parent / "home" / ".claude" / "settings.json").exists()
    (init,) = plugin.run.events_of("system", "init")
    loaded = [p for p in init.get("plugins") or [] if p.get("name") == "recoverd"]
    assert loaded and loaded[0]["source"] == "recoverd@inline", init.get("plugins")
    assert loaded[0]["path"] == str(REPO)
    started = [e for e in plugin.run.hook_events("hook_started")
               if e.get("hook_event") == "PostToolUseFailure"]
    assert started, plugin.run.describe()


def test_the_plugin_brings_the_diagnosis_to_the_model(plugin: Session) -> None:
    assert_diagnosed(plugin)
