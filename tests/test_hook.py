"""hooks/recoverd-hook, run exactly as Claude Code runs it, against real and misbehaving daemons.

Every case checks the hook's contract (HookRun.reply): exit 0, within its deadline, stdout empty
or exactly one JSON object for Claude Code.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from daemon_fixtures import (
    HOOK,
    Home,
    HookRun,
    RunningDaemon,
    bind_stale_socket,
    failure_event,
    is_gone,
    run_hook,
    stop_pid,
    success_event,
    wait_for,
)

from recoverd import client, pidfile

SECRET = "sk-ant-test-SECRETVALUE1234"
# For cases where the exchange must complete: room for a loaded machine (the contract's bound on
# a hang is still checked against this deadline).
ANSWERED = {"deadline": 10.0, "ack_timeout": 5.0}

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def spooled(home: Home) -> list[Path]:
    return sorted(home.spool.glob("*.event")) if home.spool.is_dir() else []


# -- no daemon ---------------------------------------------------------------------------------


def test_no_daemon_prints_nothing_and_spools_the_event(home: Home) -> None:
    event = failure_event(home.root)
    run = run_hook(home, event)
    assert run.reply() is None
    files = spooled(home)
    assert [f.read_bytes() for f in files] == [event]
    assert not home.sock.exists()  # RECOVERD_NO_AUTOSTART=1: nothing was started


def test_stale_socket_file_is_refused_quickly_and_spools(home: Home) -> None:
    bind_stale_socket(home.sock)
    event = failure_event(home.root)
    run = run_hook(home, event, deadline=5.0)
    assert run.reply() is None
    # A refused connection is an answer: the hook does not sit out its 5 s deadline.
    assert run.elapsed < 1.5, f"hook took {run.elapsed:.2f}s on a refused connection"
    assert [f.read_bytes() for f in spooled(home)] == [event]


def test_autostart_brings_up_a_daemon_that_ingests_the_spool(home: Home) -> None:
    event = failure_event(home.root, module="autostarted_mod")
    run = run_hook(home, event, autostart=True, ANTHROPIC_API_KEY=SECRET)
    pid = None
    try:
        assert run.reply() is None
        status = wait_for(lambda: client.ping(home.sock), "the autostarted daemon to answer")
        pid = status["pid"]
        assert pidfile.read(home.pidfile) == pid
        wait_for(lambda: not spooled(home), "the daemon to drain the spool")
        record = home.wait_for_log("event.classified", lambda r: r.get("spooled") is True)
        assert record["subject"] == "autostarted_mod"
        # The hook starts the daemon with a minimal environment: the API key stays behind.
        environ = psutil.Process(pid).environ()
        assert "ANTHROPIC_API_KEY" not in environ
        assert SECRET not in "\0".join(f"{k}={v}" for k, v in environ.items())
    finally:
        pid = pid or pidfile.read(home.pidfile)
        if pid is not None and pidfile.is_recoverd(pid):
            stop_pid(pid)
    assert is_gone(pid)


def test_a_stdin_that_never_closes_is_cut_short_by_the_deadline(home: Home) -> None:
    deadline = 0.5
    env = home.env(RECOVERD_HOOK_DEADLINE=f"{deadline:g}", RECOVERD_NO_AUTOSTART="1")
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(HOOK)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=home.root)
    try:
        started = time.monotonic()
        proc.stdin.write(failure_event(home.root)[:40])  # half an event, and no EOF
        proc.stdin.flush()
        returncode = proc.wait(deadline + 10.0)
        elapsed = time.monotonic() - started
        run = HookRun(returncode, proc.stdout.read(), proc.stderr.read(), elapsed, deadline)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5.0)
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            pipe.close()
    assert run.reply() is None


# -- a daemon that is there but does not answer well -------------------------------------------


def test_stopped_daemon_is_given_up_on_after_the_ack_timeout(home: Home,
                                                            daemon: RunningDaemon) -> None:
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        run = run_hook(home, failure_event(home.root), deadline=4.0, ack_timeout=0.5)
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    assert run.reply() is None
    assert run.elapsed < 2.0, f"hook waited {run.elapsed:.2f}s for a stopped daemon"


@dataclass
class FakeDaemon:
    """A Unix-socket server on the daemon's path that answers one request with `reply`, then
    holds the connection until `release` is set (or closes at once when `hold` is False)."""

    path: Path
    reply: bytes
    hold: bool = False
    request: bytes = b""
    release: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(self.path))
        self.server.listen(1)
        self.server.settimeout(10.0)
        self.thread = threading.Thread(target=self._serve, name="fake-daemon")
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
            with conn:
                conn.settimeout(10.0)
                chunks = []
                while chunk := conn.recv(1 << 16):
                    chunks.append(chunk)
                self.request = b"".join(chunks)
                try:
                    conn.sendall(self.reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the hook stopped reading an oversized reply, as it should
                if self.hold:
                    self.release.wait(15.0)
        except BaseException as exc:  # noqa: BLE001 - reported by close()
            self.error = exc

    def close(self) -> None:
        self.release.set()
        self.thread.join(15.0)
        self.server.close()
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error


@pytest.fixture
def fake_daemon(home: Home) -> Iterator[type[FakeDaemon]]:
    made: list[FakeDaemon] = []

    def make(reply: bytes, hold: bool = False) -> FakeDaemon:
        fake = FakeDaemon(home.sock, reply, hold)
        made.append(fake)
        return fake

    try:
        yield make  # type: ignore[misc]
    finally:
        for fake in made:
            fake.close()


BAD_REPLIES = {
    "cut_body": (b'+120\n{"hookSpecific', False),
    "ack_then_close": (b"+", False),
    "no_ack": (b"", False),
    "wrong_ack": (b'-52\n{"hookSpecificOutput": {"hookEventName": "PostToolUse"}}', False),
    "not_an_object": (b"+5\nhello", False),
    "length_not_a_number": (b'+x\n{"hookSpecificOutput": {}}', False),
    "body_too_long_for_its_length": (b'+2\n{"hookSpecificOutput": {}}', False),
    "oversized_body": (b"+200000\n{" + b" " * 199_998 + b"}", False),
    "ack_then_silence": (b"+", True),
    "cut_body_then_silence": (b'+120\n{"hookSpecific', True),
}


@pytest.mark.parametrize("name", sorted(BAD_REPLIES))
def test_a_bad_or_cut_reply_is_discarded(home: Home, fake_daemon, name: str) -> None:
    reply, hold = BAD_REPLIES[name]
    fake = fake_daemon(reply, hold)
    event = failure_event(home.root)
    run = run_hook(home, event, deadline=0.8, ack_timeout=0.5)
    fake.release.set()
    assert run.reply() is None
    assert fake.request.endswith(event)  # the daemon got the whole request before failing
    assert not spooled(home)  # a daemon answered: nothing to keep


def test_daemon_killed_mid_reply(home: Home) -> None:
    """A real child process accepts, acks, writes half a body and is SIGKILLed."""
    script = (
        "import os, socket, sys\n"
        "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)\n"
        "print('ready', flush=True)\n"
        "c, _ = s.accept()\n"
        "while c.recv(65536): pass\n"
        "c.sendall(b'+120\\n{\"hookSpecific')\n"
        "print('sent', flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(home.sock)],
                             stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        killer = threading.Thread(
            target=lambda: child.stdout.readline() == b"sent\n" and child.kill(), name="killer")
        killer.start()
        try:
            run = run_hook(home, failure_event(home.root), deadline=2.0, ack_timeout=1.0)
        finally:
            killer.join(10.0)
        assert run.reply() is None
        assert child.wait(10.0) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(5.0)
        child.stdout.close()


# -- a live daemon ------------------------------------------------------------------------------


def test_failure_event_gets_one_diagnosis(home: Home, daemon: RunningDaemon) -> None:
    run = run_hook(home, failure_event(home.root), **ANSWERED)
    reply = run.reply()
    assert reply is not None
    output = reply["hookSpecificOutput"]
    assert output["hookEventName"] == "PostToolUseFailure"
    assert output["additionalContext"].startswith("[recoverd]")
    assert "nosuchmod_xyz" in output["additionalContext"]


def test_success_event_prints_nothing(home: Home, daemon: RunningDaemon) -> None:
    run = run_hook(home, success_event(home.root), **ANSWERED)
    assert run.reply() is None
    home.wait_for_log("event.classified", lambda r: r.get("kind") == "success")


def test_a_success_is_spooled_and_the_daemon_books_it(home: Home,
                                                      daemon: RunningDaemon) -> None:
    """Nobody waits for an answer to a success: the hook leaves it in the spool and goes, so
    even a stopped daemon costs it nothing; the daemon books it once it runs again."""
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        run = run_hook(home, success_event(home.root), deadline=4.0, ack_timeout=2.0)
        assert run.reply() is None
        assert run.elapsed < 1.5, f"the hook waited {run.elapsed:.2f}s on a success"
        assert [f.read_bytes() for f in spooled(home)] == [success_event(home.root)]
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    record = home.wait_for_log("event.classified", lambda r: r.get("kind") == "success")
    assert record["command"] == "echo hello" and record["spooled"] is True
    wait_for(lambda: not spooled(home), "the daemon to drain the spool")
    assert daemon.ping() is not None


def test_a_success_waits_for_the_answer_while_late_results_wait(home: Home,
                                                                 fake_daemon) -> None:
    late = b'{"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "x"}}'
    fake = fake_daemon(b"+%d\n" % len(late) + late)
    (home.root / "late-results").touch()
    run = run_hook(home, success_event(home.root), **ANSWERED)
    fake.close()
    assert fake.request.startswith(b"RECOVERD/1 hook ")
    assert run.reply() == json.loads(late)
    assert not spooled(home)


def test_a_success_with_no_daemon_starts_one(home: Home) -> None:
    """A dead pid in the pidfile is no daemon: the success is spooled and a daemon started."""
    home.root.mkdir(parents=True, exist_ok=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    home.pidfile.write_text(f"{dead.pid}\n")
    run = run_hook(home, success_event(home.root), autostart=True)
    pid = None
    try:
        assert run.reply() is None
        status = wait_for(lambda: client.ping(home.sock), "the autostarted daemon to answer")
        pid = status["pid"]
        home.wait_for_log("event.classified", lambda r: r.get("kind") == "success")
        wait_for(lambda: not spooled(home), "the daemon to drain the spool")
    finally:
        pid = pid or pidfile.read(home.pidfile)
        if pid is not None and pidfile.is_recoverd(pid):
            stop_pid(pid)


def test_output_that_quotes_a_success_event_is_still_a_failure(home: Home,
                                                               daemon: RunningDaemon) -> None:
    """Only the event's own field makes a success: the same words in the output are escaped."""
    quoted = '{"hook_event_name":"PostToolUse"} {"hook_event_name": "PostToolUse"}'
    event = json.loads(failure_event(home.root))
    event["error"] += "\n" + quoted
    run = run_hook(home, json.dumps(event).encode(), **ANSWERED)
    reply = run.reply()
    assert reply is not None and "nosuchmod_xyz" in reply["hookSpecificOutput"][
        "additionalContext"]
    assert not spooled(home)


def _garbage() -> bytes:
    return random.Random(1).randbytes(4096)


def _fifty_megabytes() -> bytes:
    block = random.Random(2).randbytes(1 << 20)
    return block * 50


BAD_INPUTS = {
    # name: (stdin, the log line the daemon writes for it, or None when the hook sends nothing)
    "garbage": (_garbage, "event.malformed"),
    "empty": (lambda: b"", None),
    "blank": (lambda: b" \n\t\n", None),
    "json_array": (lambda: b"[1, 2, 3]", "event.malformed"),
    "fifty_megabytes": (_fifty_megabytes, "request.too_large"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_stdin_prints_nothing_and_the_daemon_survives(shared_daemon: RunningDaemon,
                                                         name: str) -> None:
    make, logged = BAD_INPUTS[name]
    home = shared_daemon.home
    seen = {e: len(home.log_events(e)) for e in ("event.malformed", "request.too_large")}
    run = run_hook(home, make(), **ANSWERED)
    assert run.reply() is None
    assert shared_daemon.ping() is not None, "the daemon died"
    if logged is None:
        assert {e: len(home.log_events(e)) for e in seen} == seen
    else:
        home.wait_for_log(logged, after=seen[logged])
    assert not spooled(home)


def test_secrets_in_the_environment_never_leave_the_hook(home: Home,
                                                         daemon: RunningDaemon) -> None:
    run = run_hook(home, failure_event(home.root), **ANSWERED, ANTHROPIC_API_KEY=SECRET,
                   PIP_INDEX_URL="https://pypi.example/simple")
    assert run.reply() is not None
    home.wait_for_log("event.classified")
    for path in home.root.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
            assert b"SECRETVALUE1234" not in path.read_bytes(), path


def test_secrets_are_not_in_the_request_or_the_spool(home: Home, fake_daemon) -> None:
    """What goes over the wire: the forwarded variables, never the API key."""
    fake = fake_daemon(b"+0\n")
    run_hook(home, failure_event(home.root), **ANSWERED, ANTHROPIC_API_KEY=SECRET,
             PIP_INDEX_URL="https://pypi.example/simple").reply()
    fake.close()
    assert b"PIP_INDEX_URL=https://pypi.example/simple" in fake.request
    assert b"SECRETVALUE1234" not in fake.request
    assert b"ANTHROPIC_API_KEY" not in fake.request
    home.sock.unlink()
    run_hook(home, failure_event(home.root), ANTHROPIC_API_KEY=SECRET).reply()
    assert spooled(home)
    for path in home.root.rglob("*"):
        if path.is_file():
            assert b"SECRETVALUE1234" not in path.read_bytes(), path
