"""`recoverd doctor`: exit 0 on a healthy setup; each problem found, with its one-line fix, and
exit 1."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daemon_fixtures import REPO, DaemonFactory, Home, RunningDaemon

from recoverd import config, doctor_checks

HOOK = REPO / "hooks" / "recoverd-hook"
COMMAND = f"{sys.executable} -I -S {HOOK}"


def doctor(home: Home, project: Path, *args: str, **env: str | None
           ) -> subprocess.CompletedProcess[str]:
    env.setdefault("HOME", str(project.parent / "home"))  # user settings: none unless written
    return subprocess.run([sys.executable, "-m", "recoverd", "doctor", "--project-dir",
                           str(project), *args], check=False, env=home.env(**env),
                          capture_output=True, text=True, timeout=120, cwd=project)


def findings(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    report = json.loads(done.stdout)
    assert report["ok"] is (done.returncode == 0)
    result: list[dict[str, Any]] = report["findings"]
    return result


def failed(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [f for f in findings(done) if f["status"] == "fail"]


def group(command: str = COMMAND, timeout: int | None = 60, matcher: str = "Bash"
          ) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "command", "command": command}
    if timeout is not None:
        entry["timeout"] = timeout
    return {"matcher": matcher, "hooks": [entry]}


def write_local(project: Path, hooks: dict[str, Any], **extra: Any) -> Path:
    path = project / ".claude" / "settings.local.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"hooks": hooks, **extra}, indent=2))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    made = tmp_path / "project"
    made.mkdir()
    (tmp_path / "home").mkdir()
    return made


def wired(project: Path) -> Path:
    return write_local(project, {"PostToolUseFailure": [group()], "PostToolUse": [group()]})


def test_a_healthy_setup_passes(project: Path, daemon: RunningDaemon) -> None:
    wired(project)
    done = doctor(daemon.home, project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "everything looks right" in done.stdout
    assert f"running: pid {daemon.pid}" in done.stdout
    assert "recoverd runs on PostToolUseFailure (Bash)" in done.stdout
    latency = next(line for line in done.stdout.splitlines() if "latency" in line)
    assert "ms (median of 5)" in latency and "ratio" in latency
    as_json = doctor(daemon.home, project, "--json")
    assert as_json.returncode == 0
    checks = {f["check"] for f in findings(as_json)}
    assert {"interpreter", "state", "socket", "daemon", "patterns", "settings",
            "latency"} <= checks
    assert daemon.ping() is not None  # the measured hook runs did not disturb it


def test_post_tool_use_only_is_blind_to_failures(project: Path, daemon: RunningDaemon) -> None:
    write_local(project, {"PostToolUse": [group()]})
    done = doctor(daemon.home, project)
    assert done.returncode == 1
    assert "registered on PostToolUse only: it is blind to failures" in done.stdout
    assert "fix: recoverd install" in done.stdout
    (finding,) = failed(doctor(daemon.home, project, "--json"))
    assert finding["check"] == "settings" and finding["fix"] == "recoverd install"


def test_missing_paths_a_short_timeout_and_a_wrong_matcher(project: Path,
                                                           daemon: RunningDaemon) -> None:
    write_local(project, {
        "PostToolUseFailure": [
            group(command=f"/nonexistent/venv/bin/python -I -S {HOOK}"),
            group(command=f"{sys.executable} -I -S /moved/away/hooks/recoverd-hook"),
            group(timeout=30),
            group(matcher="Edit|Write"),
        ],
        "PostToolUse": [group()],
    })
    done = doctor(daemon.home, project, "--json")
    assert done.returncode == 1
    messages = [f["message"] for f in failed(done)]
    assert any("the interpreter /nonexistent/venv/bin/python does not exist" in m
               for m in messages), messages
    assert any("the hook /moved/away/hooks/recoverd-hook does not exist" in m
               for m in messages), messages
    assert any("timeout 30s is not above the hook's own deadline (45s)" in m
               for m in messages), messages
    assert any("matcher 'Edit|Write' does not match Bash" in m for m in messages), messages
    assert all(f["fix"] for f in failed(done))


def test_not_wired_anywhere(project: Path, daemon: RunningDaemon) -> None:
    done = doctor(daemon.home, project)
    assert done.returncode == 1
    assert "recoverd is not wired into Claude Code's user, project or local settings" \
        in done.stdout
    assert "fix: recoverd install" in done.stdout


def test_a_malformed_settings_file(project: Path, daemon: RunningDaemon) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"hooks": [')
    wired(project)
    done = doctor(daemon.home, project)
    assert done.returncode == 1
    assert f"{path}: not valid JSON" in done.stdout


def test_the_daemon_not_running(project: Path, home: Home) -> None:
    wired(project)
    done = doctor(home, project)
    assert done.returncode == 1
    assert "the daemon is not running" in done.stdout
    assert "fix: recoverd start" in done.stdout


def test_pattern_errors_and_loose_permissions(project: Path, home: Home,
                                              start_daemon: DaemonFactory) -> None:
    home.patterns.mkdir(parents=True)
    (home.patterns / "broken.toml").write_text('[[pattern]]\nid = "x"\nregex = "("\n')
    running = start_daemon(home)
    wired(project)
    os.chmod(home.root, 0o755)
    try:
        done = doctor(running.home, project, "--json")
    finally:
        os.chmod(home.root, 0o700)
    assert done.returncode == 1
    bad = failed(done)
    assert any(f["check"] == "patterns" and "broken.toml" in f["message"] for f in bad), bad
    assert any(f["check"] == "state" and "mode 0755, not 0700" in f["message"]
               and f["fix"].startswith("chmod 700") for f in bad), bad


def test_store_integrity(tmp_path: Path) -> None:
    """In-process on a home of its own: a running daemon keeps its store open (WAL), and a
    file overwritten under it would still read well through the daemon's WAL pages."""
    cfg = config.load({"RECOVERD_HOME": str(tmp_path)})
    assert doctor_checks.check_store(cfg) == []  # no store yet: nothing to say
    store = tmp_path / "store.sqlite3"
    with sqlite3.connect(store) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    (ok,) = doctor_checks.check_store(cfg)
    assert ok.status == "ok" and "integrity ok" in ok.message
    store.write_bytes(b"this is not a database" * 100)
    (bad,) = doctor_checks.check_store(cfg)
    assert bad.status == "fail" and "cannot be read" in bad.message
    assert "move" in bad.fix and "recoverd stop" in bad.fix


def test_the_plugin_counts_as_wired(project: Path, daemon: RunningDaemon) -> None:
    home_dir = project.parent / "home"
    (home_dir / ".claude").mkdir(parents=True)
    (home_dir / ".claude" / "settings.json").write_text(
        json.dumps({"enabledPlugins": {"recoverd@team-tools": True}}))
    done = doctor(daemon.home, project)
    assert done.returncode == 0, done.stdout
    assert "enabled as a Claude Code plugin" in done.stdout
