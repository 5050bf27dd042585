"""The whole path with the real Claude Code binary: Bash failure → hook → daemon → model context.

settings.example.json (with its placeholders filled in) wires the real hook; a real daemon
answers; the fake Messages API records what Claude Code sends to the model next.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from claude_code import ClaudeRun, require_claude_binary, run_claude
from daemon_fixtures import DaemonFactory, fresh_home, wait_for
from fake_messages_api import FakeMessagesAPI, bash, system_texts, text, tool_use_id

from recoverd import client

REPO = Path(__file__).resolve().parents[2]
MISSING = "recoverd_e2e_no_such_module"
FAILING = f'python3 -c "import {MISSING}"'
SUCCEEDING = "echo all-good"
PREFIX_FAILURE = "PostToolUseFailure:Bash hook additional context: "


def settings_from_example() -> dict[str, Any]:
    """settings.example.json with its two placeholders replaced, as the README tells users."""
    raw = (REPO / "settings.example.json").read_text(encoding="utf-8")
    raw = raw.replace("/ABSOLUTE/PATH/TO/recoverd-venv/bin/python", sys.executable)
    raw = raw.replace("/ABSOLUTE/PATH/TO/recoverd/hooks/recoverd-hook",
                      str(REPO / "hooks" / "recoverd-hook"))
    settings: dict[str, Any] = json.loads(raw)
    return settings


@dataclass
class Session:
    run: ClaudeRun
    api: FakeMessagesAPI
    home: Path


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    require_claude_binary()
    root = tmp_path_factory.mktemp("e2e")
    project, claude_home = root / "project", root / "home"
    (project / ".claude").mkdir(parents=True)
    claude_home.mkdir()
    (project / ".claude" / "settings.json").write_text(json.dumps(settings_from_example()))
    turns = [bash(FAILING), bash(SUCCEEDING), text("done")]
    with fresh_home() as home:
        factory = DaemonFactory()
        try:
            factory(home)
            with FakeMessagesAPI(turns) as api:
                run = run_claude(project, claude_home, api.url, "run the two commands",
                                 extra_env={"RECOVERD_HOME": str(home.root)}, timeout=120)
                yield Session(run, api, home.root)
        finally:
            factory.stop_all()


def test_failure_reaches_the_model_as_recoverd_diagnosis(session: Session) -> None:
    run, api = session.run, session.api
    assert run.returncode == 0, run.describe()
    after_failure = api.request_after(tool_use_id(0))
    assert after_failure is not None, run.describe()
    contexts = api.hook_contexts("PostToolUseFailure")
    assert len(contexts) == 1, contexts
    context = contexts[0]
    assert context.startswith(PREFIX_FAILURE + "[recoverd] "), context
    assert MISSING in context
    assert "missing_python_module" in context
    # It is the message right after the failing tool_result, in that very request.
    messages = after_failure["messages"]
    texts = [json.dumps(m) for m in messages]
    result_index = next(i for i, t in enumerate(texts) if tool_use_id(0) in t and
                        "tool_result" in t)
    follower = messages[result_index + 1]
    assert follower["role"] == "system"
    assert MISSING in json.dumps(follower)


def test_success_adds_no_context(session: Session) -> None:
    assert session.api.hook_contexts("PostToolUse") == []
    after_success = session.api.request_after(tool_use_id(1))
    assert after_success is not None
    # In the request after the success, the only recoverd text is still the failure's one.
    recoverd_texts = [t for t in system_texts(after_success) if "[recoverd]" in t]
    assert len(recoverd_texts) == 1 and MISSING in recoverd_texts[0], recoverd_texts


def test_daemon_logged_both_events(session: Session) -> None:
    def classified() -> dict[str, dict[str, Any]]:
        lines = [json.loads(line) for line in
                 (session.home / "recoverd.log").read_text().splitlines() if line.strip()]
        return {r["source"]: r for r in lines if r.get("event") == "event.classified"}

    # The failure was answered over the socket; the success was left in the spool, which the
    # daemon drains on its own time (within a poll).
    by_source = wait_for(lambda: (lambda seen: seen if len(seen) == 2 else None)(classified()),
                         "both events in the log")
    assert by_source["PostToolUseFailure"]["class"] == "missing_python_module"
    assert by_source["PostToolUseFailure"]["subject"] == MISSING
    assert by_source["PostToolUseFailure"]["replied"] is True
    assert by_source["PostToolUseFailure"]["spooled"] is False
    assert by_source["PostToolUse"]["class"] == "no_error"
    assert by_source["PostToolUse"]["replied"] is False
    assert by_source["PostToolUse"]["spooled"] is True
    status = client.ping(session.home / "recoverd.sock")
    assert status is not None and status["requests"] >= 1
