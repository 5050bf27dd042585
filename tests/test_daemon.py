"""The daemon as a real process: lifecycle through the CLI, signals, reloads, permissions, load."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from daemon_fixtures import (
    STOP_DEADLINE,
    DaemonFactory,
    Home,
    RunningDaemon,
    bind_stale_socket,
    failure_event,
    is_gone,
    output_failure_event,
    stop_pid,
    wait_for,
)

from recoverd import client, pidfile, protocol

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

MELTDOWN = "warming up\nFROBNICATOR MELTDOWN: capacitor\n"
EXTRA_TOML = '''
[[pattern]]
id = "extra_frobnicator_meltdown"
class = "runtime_error"
description = "the frobnicator melted down"
regex = \'\'\'^FROBNICATOR MELTDOWN: (?P<subject>\\w+)$\'\'\'
captures = { subject = "the part that melted" }
action = "report"
examples = [{ output = "FROBNICATOR MELTDOWN: capacitor", subject = "capacitor" }]
near_misses = ["frobnicator ok"]
'''
OVERHEAT = "GRUNTLER OVERHEATED in bay 7\n"
WATCHED_TOML = '''
[[pattern]]
id = "watched_gruntler_overheated"
class = "runtime_error"
regex = \'\'\'^GRUNTLER OVERHEATED in (?P<subject>bay \\d+)$\'\'\'
captures = { subject = "where" }
action = "report"
examples = [{ output = "GRUNTLER OVERHEATED in bay 7", subject = "bay 7" }]
'''
# Broken entries, each with the `file:entry:key` its error must name.
BROKEN = {
    "invalid_regex": ('regex = "(unclosed"', "broken.toml:broken_one:regex:"),
    "unknown_class": ('regex = "^BROKEN$"\nclass = "no_such_class"',
                      "broken.toml:broken_one:class:"),
    "unmatched_example": ('regex = "^NEVER$"', "broken.toml:broken_one:examples:"),
}


def broken_toml(body: str) -> str:
    lines = ['[[pattern]]', 'id = "broken_one"', 'action = "report"',
             'examples = ["BROKEN"]', body]
    if "class =" not in body:
        lines.append('class = "runtime_error"')
    return "\n".join(lines) + "\n"


def diagnose(home: Home, output: str, command: str = "frob --now") -> str:
    """The daemon's additionalContext for a failed command that printed `output` ('' if none)."""
    body = client.request(home.sock, "hook", output_failure_event(home.root, command, output))
    if not body:
        return ""
    return json.loads(body)["hookSpecificOutput"]["additionalContext"]


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not recoverd, to be named by a stale pidfile."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(5.0)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait(5.0)
    return proc.pid


# -- lifecycle through the CLI -------------------------------------------------------------------


def test_start_status_stop_through_the_cli(home: Home) -> None:
    started = home.cli("start", "--json")
    assert started.returncode == 0, started.stderr
    pid = json.loads(started.stdout)["pid"]
    try:
        status = home.cli("status", "--json")
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        assert data["ok"] is True and data["pid"] == pid
        assert pidfile.read(home.pidfile) == pid and pidfile.is_recoverd(pid)

        again = home.cli("start", "--json")
        assert again.returncode == 0 and json.loads(again.stdout)["pid"] == pid

        stopped = home.cli("stop", "--json")
        assert stopped.returncode == 0, stopped.stderr
        assert json.loads(stopped.stdout) == {"stopped": True, "pid": pid}
        assert is_gone(pid)
        assert not home.sock.exists()
        assert not home.pidfile.exists()

        after = home.cli("status")
        assert after.returncode == 1
        assert "not running" in after.stdout
    finally:
        if pidfile.is_recoverd(pid):
            stop_pid(pid)


@pytest.mark.parametrize("owner", ["dead", "someone_else"])
def test_a_stale_pidfile_is_reported_overwritten_and_never_signalled(
        home: Home, sleeper: subprocess.Popen[bytes], owner: str) -> None:
    stale = dead_pid() if owner == "dead" else sleeper.pid
    home.pidfile.write_text(f"{stale}\n")

    status = home.cli("status")
    assert status.returncode == 1
    assert f"stale pidfile names pid {stale}" in status.stdout
    assert json.loads(home.cli("status", "--json").stdout)["stale_pid"] == stale

    stop = home.cli("stop")  # nothing of ours runs: it must not signal the named pid
    assert stop.returncode == 0, stop.stderr
    assert "not running" in stop.stdout
    assert sleeper.poll() is None, "stop signalled a process that is not recoverd"

    start = home.cli("start", "--json")
    assert start.returncode == 0, start.stderr
    pid = json.loads(start.stdout)["pid"]
    try:
        assert pid != stale
        assert pidfile.read(home.pidfile) == pid
        stop = home.cli("stop")
        assert stop.returncode == 0, stop.stderr
        assert is_gone(pid)
    finally:
        if pidfile.is_recoverd(pid):
            stop_pid(pid)
    assert sleeper.poll() is None, "stop signalled a process that is not recoverd"


def test_a_second_serve_on_the_same_home_refuses(home: Home, daemon: RunningDaemon) -> None:
    second = home.cli("serve", timeout=15)
    assert second.returncode == 1
    assert f"a daemon already runs for {home.root} (pid {daemon.pid})" in second.stderr
    # The first one is untouched: still answering, its socket and pidfile in place.
    assert daemon.ping()["pid"] == daemon.pid
    assert pidfile.read(home.pidfile) == daemon.pid
    assert home.sock.exists()


# -- pattern reloads -----------------------------------------------------------------------------


def reload_with_sighup(running: RunningDaemon) -> dict:
    generation = running.ping()["generation"]
    os.kill(running.pid, signal.SIGHUP)

    def newer() -> dict | None:
        status = running.ping()
        return status if status and status["generation"] > generation else None

    return wait_for(newer, "the generation to increase after SIGHUP")


def test_sighup_reloads_the_user_patterns(home: Home, start_daemon: DaemonFactory) -> None:
    running = start_daemon(home, RECOVERD_WATCH_PATTERNS="0")  # only SIGHUP can reload
    before = running.ping()
    assert diagnose(home, MELTDOWN) == ""  # unknown output: nothing to say
    (home.patterns / "extra.toml").write_text(EXTRA_TOML)

    status = reload_with_sighup(running)
    assert status["patterns"] == before["patterns"] + 1
    context = diagnose(home, MELTDOWN)
    assert context.startswith("[recoverd]")
    assert "pattern extra_frobnicator_meltdown" in context and "capacitor" in context
    home.wait_for_log("pattern.reloaded")


def test_pattern_files_are_hot_reloaded_without_a_signal(home: Home,
                                                         daemon: RunningDaemon) -> None:
    assert diagnose(home, OVERHEAT) == ""
    generation = daemon.ping()["generation"]
    (home.patterns / "watched.toml").write_text(WATCHED_TOML)

    context = wait_for(lambda: diagnose(home, OVERHEAT), "the watcher to load watched.toml")
    assert "pattern watched_gruntler_overheated" in context and "bay 7" in context
    assert daemon.ping()["generation"] > generation
    assert not home.log_events("pattern.reload_requested")  # no SIGHUP was involved


def test_a_reload_does_not_trigger_the_next_one(home: Home, daemon: RunningDaemon) -> None:
    """A reload reads every pattern file; reading must not count as a change (watchdog also
    reports opened/closed files), or the daemon reloads forever and burns a core."""
    (home.patterns / "watched.toml").write_text(WATCHED_TOML)
    wait_for(lambda: diagnose(home, OVERHEAT), "the watcher to load watched.toml")
    settled = daemon.ping()["generation"]
    deadline = time.monotonic() + 3.0  # several debounce periods (0.3 s each)
    while time.monotonic() < deadline:
        assert daemon.ping()["generation"] == settled, "the daemon keeps reloading by itself"
        time.sleep(0.2)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_pattern_file_keeps_the_last_good_set(home: Home, start_daemon: DaemonFactory,
                                                       case: str) -> None:
    body, culprit = BROKEN[case]
    running = start_daemon(home, RECOVERD_WATCH_PATTERNS="0")
    (home.patterns / "extra.toml").write_text(EXTRA_TOML)
    good = reload_with_sighup(running)

    (home.patterns / "broken.toml").write_text(broken_toml(body))
    os.kill(running.pid, signal.SIGHUP)
    failed = home.wait_for_log("pattern.reload_failed")
    assert culprit in failed["error"], failed
    home.wait_for_log("pattern.kept_last_good")

    assert "pattern extra_frobnicator_meltdown" in diagnose(home, MELTDOWN)
    status = home.cli("status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["patterns"] == good["patterns"]
    assert data["generation"] == good["generation"]
    assert data["pattern_errors"] == []
    assert running.ping()["pid"] == running.pid


# -- files and permissions -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["created_by_the_daemon", "existing_and_loose"])
def test_state_socket_pidfile_and_logs_are_private(home: Home, start_daemon: DaemonFactory,
                                                  layout: str) -> None:
    state = Home(home.root / "state")
    if layout == "existing_and_loose":
        state.root.mkdir()
        os.chmod(state.root, 0o755)
    # A permissive umask: the modes must come from the daemon, not from the test's umask.
    # A small log, so that a rollover starts a new file.
    start_daemon(state, umask=0, RECOVERD_LOG_MAX_BYTES="2000")
    for index in range(4):
        client.request(state.sock, "hook", failure_event(state.root, module=f"mod_{index}"))
    rotated = state.root / "recoverd.log.1"
    wait_for(rotated.exists, "the log to roll over")
    state.wait_for_log("event.classified", lambda r: r.get("subject") == "mod_3")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode)
             for p in (state.root, state.sock, state.pidfile, state.log, rotated)}
    assert modes == {"state": 0o700, "recoverd.sock": 0o600, "recoverd.pid": 0o600,
                     "recoverd.log": 0o600, "recoverd.log.1": 0o600}
    assert stat.S_ISSOCK(state.sock.stat().st_mode)


# -- load and bad requests -----------------------------------------------------------------------


def test_two_hundred_concurrent_connections_are_all_answered(home: Home,
                                                             daemon: RunningDaemon) -> None:
    count = 200
    barrier = threading.Barrier(count, timeout=30)

    def one(index: int) -> str:
        payload = failure_event(home.root, module=f"mod_{index}", session=f"s{index}")
        barrier.wait()
        body = client.request(home.sock, "hook", payload, timeout=30.0)
        return json.loads(body)["hookSpecificOutput"]["additionalContext"]

    with ThreadPoolExecutor(max_workers=count) as pool:
        replies = list(pool.map(one, range(count)))
    assert len(replies) == count
    for index, context in enumerate(replies):
        assert context.startswith("[recoverd]") and f"`mod_{index}`" in context
    assert daemon.ping()["requests"] >= count


# raw bytes sent, the reply expected: a bad header gets nothing at all; a good header is acked
# and then gets an empty body.
MALFORMED = {
    "hello": (b"HELLO\n", b""),
    "no_newline": (b"HELLO", b""),
    "unknown_kind": (b"RECOVERD/1 shutdown 0\n", b""),
    "wrong_version": (b"RECOVERD/2 hook 0\n{}", b""),
    "env_length_not_a_number": (b"RECOVERD/1 hook x\n", b""),
    "env_over_the_cap": (b"RECOVERD/1 hook %d\n" % (protocol.MAX_ENV + 1), b""),
    "header_over_the_cap": (b"RECOVERD/1 hook " + b"0" * protocol.MAX_HEADER + b"\n", b""),
    "header_over_the_read_limit": (b"RECOVERD/1 hook " + b"0" * 2000 + b"\n", b""),
    "env_cut_short": (b"RECOVERD/1 hook 100\nPATH=/bin", b"+0\n"),
    "env_entry_without_equals": (b"RECOVERD/1 hook 4\nPATH{}", b"+0\n"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_request_gets_an_empty_reply(shared_daemon: RunningDaemon,
                                                 case: str) -> None:
    raw, expected = MALFORMED[case]
    home = shared_daemon.home
    seen = len(home.log_events("request.malformed"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10.0)
        sock.connect(str(home.sock))
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(4096):
                chunks.append(chunk)
        except ConnectionResetError:  # closed with our bytes unread: an empty reply too
            pass
    assert b"".join(chunks) == expected
    home.wait_for_log("request.malformed", after=seen)
    assert shared_daemon.ping()["pid"] == shared_daemon.pid


# -- shutdown --------------------------------------------------------------------------------------


def test_sigterm_removes_the_socket_and_the_pidfile(home: Home, daemon: RunningDaemon) -> None:
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.wait(STOP_DEADLINE) == 0
    assert not home.sock.exists()
    assert not home.pidfile.exists()
    home.wait_for_log("daemon.stopped")


def test_sigterm_leaves_files_that_are_no_longer_ours(home: Home, daemon: RunningDaemon,
                                                      sleeper: subprocess.Popen[bytes]) -> None:
    # Someone else took over meanwhile: their pid in the pidfile, their socket at the path.
    pidfile.write(home.pidfile, sleeper.pid)
    home.sock.rename(home.root / "ours.sock")
    bind_stale_socket(home.sock)
    theirs = home.sock.stat().st_ino

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.wait(STOP_DEADLINE) == 0
    assert pidfile.read(home.pidfile) == sleeper.pid
    assert home.sock.exists() and home.sock.stat().st_ino == theirs
    assert sleeper.poll() is None


def test_status_tells_a_hung_daemon_from_a_stale_pidfile(home: Home, daemon: RunningDaemon) -> None:
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        done = home.cli("status", "--json", timeout=30)
        assert done.returncode == 1
        data = json.loads(done.stdout)
        assert data["pid"] == daemon.pid and data["answering"] is False
    finally:
        os.kill(daemon.pid, signal.SIGCONT)


def test_stop_finds_the_daemon_when_its_pidfile_was_replaced(home: Home,
                                                             daemon: RunningDaemon) -> None:
    home.pidfile.write_text("999999\n")
    done = home.cli("stop", "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == {"stopped": True, "pid": daemon.pid}
    assert daemon.wait(10) == 0
