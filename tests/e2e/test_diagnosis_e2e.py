"""Issue 4 through the real Claude Code binary: a test that fails once and passes on re-run is
reported flaky (and its re-run passed); a syntax error in an imported module is reported at its
file, line and column, with the line read from the file."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from claude_code import ClaudeRun, require_claude_binary, run_claude
from daemon_fixtures import DaemonFactory, Home, fresh_home
from fake_messages_api import FakeMessagesAPI, bash, text
from test_recoverd_e2e import settings_from_example

FLAKY_TEST = textwrap.dedent("""\
    import pathlib


    def test_passes_on_the_second_run():
        marker = pathlib.Path(__file__).with_name(".ran-once")
        if not marker.exists():
            marker.write_text("x")
            assert False, "fails the first time only"
    """)
BROKEN_MODULE = textwrap.dedent("""\
    def greet(name):
        return {"hello": name
    """)


@dataclass
class Session:
    run: ClaudeRun
    api: FakeMessagesAPI
    home: Home
    project: Path


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    require_claude_binary()
    root = tmp_path_factory.mktemp("diag")
    project, claude_home = root / "project", root / "home"
    (project / ".claude").mkdir(parents=True)
    (project / "pkg").mkdir()
    claude_home.mkdir()
    (project / ".claude" / "settings.json").write_text(json.dumps(settings_from_example()))
    (project / "test_flaky.py").write_text(FLAKY_TEST)
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "greeting.py").write_text(BROKEN_MODULE)
    (project / "main.py").write_text("from pkg.greeting import greet\nprint(greet('x'))\n")
    python = sys.executable  # has pytest; the same interpreter for the run and the re-run
    turns = [bash(f"{python} -m pytest -q test_flaky.py"), bash(f"{python} main.py"),
             text("done")]
    with fresh_home() as home:
        factory = DaemonFactory()
        try:
            factory(home)
            with FakeMessagesAPI(turns) as api:
                run = run_claude(project, claude_home, api.url, "run the tests and the app",
                                 extra_env={"RECOVERD_HOME": str(home.root)}, timeout=180)
                yield Session(run, api, home, project)
        finally:
            factory.stop_all()


def test_a_flaky_test_is_reported_flaky_and_its_rerun_passed(session: Session) -> None:
    assert session.run.returncode == 0, session.run.describe()
    contexts = session.api.hook_contexts("PostToolUseFailure")
    flaky = next(c for c in contexts if "test_flaky.py" in c)
    assert "test_flaky.py::test_passes_on_the_second_run" in flaky
    assert "they passed. Verdict: flaky" in flaky
    finished = session.home.wait_for_log("recovery.finished",
                                         lambda r: r.get("purpose") == "rerun")
    assert finished["outcome"] == "flaky" and finished["exit_code"] == 0


def test_a_syntax_error_in_an_imported_module_is_located(session: Session) -> None:
    contexts = session.api.hook_contexts("PostToolUseFailure")
    syntax = next(c for c in contexts if "Syntax error" in c)
    # Python reports '{' was never closed at the brace: line 2, column 12 of pkg/greeting.py.
    assert "`pkg/greeting.py:2:12`" in syntax, syntax
    assert '> 2 |     return {"hello": name' in syntax
    assert "Confirmed:" in syntax and "still reports it" in syntax
    classified = [r for r in session.home.log_events("event.classified")
                  if r.get("class") == "syntax_error"]
    assert classified and classified[0]["location"] == {"file": "pkg/greeting.py", "line": 2,
                                                        "col": 12}
