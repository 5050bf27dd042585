"""Real daemons and hooks for tests: short /tmp homes, started and stopped processes, leak checks.

Import the fixtures you use into a test module (`from daemon_fixtures import home, daemon`).
Every daemon a test starts is stopped in `finally` (SIGTERM, SIGKILL after a deadline), by pid;
the `home` fixture fails any test that leaves a recoverd daemon running in its home, and
`no_leaked_threads` fails one that leaves a thread behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import psutil
import pytest

from recoverd import client, pidfile

REPO = Path(__file__).resolve().parent.parent
HOOK = REPO / "hooks" / "recoverd-hook"
STOP_DEADLINE = 5.0
UP_DEADLINE = 10.0

T = TypeVar("T")


def wait_for(probe: Callable[[], T], what: str, timeout: float = 10.0,
             interval: float = 0.02) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def is_gone(pid: int) -> bool:
    """True when the process has exited (a zombie nobody reaped counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def stop_pid(pid: int, timeout: float = STOP_DEADLINE) -> None:
    """SIGCONT + SIGTERM, then SIGKILL when it outlives the deadline. Only for pids we started."""
    for signum in (signal.SIGCONT, signal.SIGTERM):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_gone(pid):
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_for(lambda: is_gone(pid), f"pid {pid} to die after SIGKILL", timeout=5.0)


def daemons_serving(root: Path) -> list[int]:
    """Pids of live `recoverd serve` processes whose RECOVERD_HOME is `root` or inside it."""
    found = set()
    named = pidfile.live_pid(root / "recoverd.pid")
    if named is not None:
        found.add(named)
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "serve" not in cmdline or not any("recoverd" in part for part in cmdline):
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            served = proc.environ().get("RECOVERD_HOME", "")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if served == str(root) or served.startswith(f"{root}/"):
            found.add(proc.pid)
    return sorted(found)


@dataclass
class Home:
    """One short state directory under /tmp (AF_UNIX paths are limited to ~104 bytes)."""

    root: Path

    @property
    def sock(self) -> Path:
        return self.root / "recoverd.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "recoverd.pid"

    @property
    def log(self) -> Path:
        return self.root / "recoverd.log"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    @property
    def patterns(self) -> Path:
        return self.root / "patterns"

    def env(self, **extra: str | None) -> dict[str, str]:
        """A small environment pointing recoverd at this home; `NAME=None` leaves NAME out."""
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL") if k in os.environ}
        env["RECOVERD_HOME"] = str(self.root)
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def log_events(self, name: str | None = None) -> list[dict[str, Any]]:
        try:
            lines = self.log.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        records = [json.loads(line) for line in lines if line.strip()]
        return [r for r in records if name is None or r.get("event") == name]

    def wait_for_log(self, name: str, where: Callable[[dict[str, Any]], bool] = lambda r: True,
                     timeout: float = 10.0, after: int = 0) -> dict[str, Any]:
        """The first `name` line matching `where`, skipping the first `after` such lines."""
        def probe() -> dict[str, Any] | None:
            return next((r for r in self.log_events(name)[after:] if where(r)), None)

        return wait_for(probe, f"a {name!r} line in {self.log}", timeout=timeout)

    def cli(self, *args: str, timeout: float = 30.0, **env: str | None
            ) -> subprocess.CompletedProcess[str]:
        """`python -m recoverd <args>` against this home."""
        return subprocess.run([sys.executable, "-m", "recoverd", *args], env=self.env(**env),
                              capture_output=True, text=True, timeout=timeout, cwd=REPO)


@contextmanager
def fresh_home() -> Iterator[Home]:
    """A new home; on the way out, fail if a daemon still serves it (after stopping it)."""
    root = Path(tempfile.mkdtemp(dir="/tmp", prefix="rd-"))
    try:
        yield Home(root)
        leaked = daemons_serving(root)
        for pid in leaked:
            stop_pid(pid)
        if leaked:
            pytest.fail(f"the test left recoverd daemon(s) {leaked} running in {root}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def home() -> Iterator[Home]:
    with fresh_home() as made:
        yield made


@dataclass
class RunningDaemon:
    """A `python -m recoverd serve` child of the test process."""

    home: Home
    proc: subprocess.Popen[bytes]
    output: IO[bytes]  # its stdout and stderr, kept outside the home

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ping(self) -> dict[str, Any] | None:
        return client.ping(self.home.sock)

    def printed(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def wait(self, timeout: float = STOP_DEADLINE) -> int:
        return self.proc.wait(timeout)

    def stop(self, timeout: float = STOP_DEADLINE) -> int:
        """SIGTERM (after SIGCONT, in case a test stopped it), SIGKILL the group after a
        deadline; returns the exit status."""
        if self.proc.poll() is None:
            for signum in (signal.SIGCONT, signal.SIGTERM):
                try:
                    self.proc.send_signal(signum)
                except ProcessLookupError:
                    break
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)  # own session: pgid == pid
                except ProcessLookupError:
                    pass
                self.proc.wait(5.0)
        self.output.close()
        return self.proc.returncode


@dataclass
class DaemonFactory:
    started: list[RunningDaemon] = field(default_factory=list)

    def __call__(self, home: Home, umask: int = -1, **env: str | None) -> RunningDaemon:
        """Start `serve` on `home` and wait until it answers a ping."""
        output = tempfile.TemporaryFile()
        proc = subprocess.Popen([sys.executable, "-m", "recoverd", "serve"],
                                env=home.env(**env), stdin=subprocess.DEVNULL, stdout=output,
                                stderr=output, start_new_session=True, cwd=REPO, umask=umask)
        running = RunningDaemon(home, proc, output)
        self.started.append(running)

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"daemon exited {proc.returncode}: {running.printed()}")
            status = running.ping()
            return status is not None and status["pid"] == proc.pid

        wait_for(up, f"the daemon on {home.sock} to answer", timeout=UP_DEADLINE)
        return running

    def stop_all(self) -> None:
        for running in self.started:
            running.stop()


@pytest.fixture
def start_daemon() -> Iterator[DaemonFactory]:
    factory = DaemonFactory()
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def daemon(home: Home, start_daemon: DaemonFactory) -> RunningDaemon:
    return start_daemon(home)


@pytest.fixture(scope="module")
def shared_daemon() -> Iterator[RunningDaemon]:
    """One daemon for a module's cases that only send it requests; each case must still
    check that it answers afterwards. Saves a start per case."""
    with fresh_home() as made:
        factory = DaemonFactory()
        try:
            yield factory(made)
        finally:
            factory.stop_all()


@pytest.fixture
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    extra = [t for t in threading.enumerate() if t not in before]
    for thread in extra:
        thread.join(timeout=5.0)
    alive = [t.name for t in extra if t.is_alive()]
    if alive:
        pytest.fail(f"the test left threads running: {alive}")


# -- the hook, run exactly as Claude Code runs it ---------------------------------------------


@dataclass(frozen=True)
class HookRun:
    returncode: int
    stdout: bytes
    stderr: bytes
    elapsed: float
    deadline: float

    def reply(self) -> dict[str, Any] | None:
        """Assert the hook's contract: exit 0 within its deadline (plus slack for a loaded
        machine: a bound on a hang, not a benchmark), stdout empty or exactly one JSON object
        for Claude Code. Returns that object, or None."""
        assert self.returncode == 0, self
        assert self.elapsed < self.deadline + 2.0, f"hook took {self.elapsed:.2f}s"
        if not self.stdout:
            return None
        reply = json.loads(self.stdout)
        assert isinstance(reply, dict) and isinstance(reply.get("hookSpecificOutput"), dict), \
            self.stdout
        return reply


def run_hook(home: Home, stdin: bytes, deadline: float = 2.0, ack_timeout: float = 0.5,
             autostart: bool = False, **env: str | None) -> HookRun:
    env.setdefault("RECOVERD_HOOK_DEADLINE", f"{deadline:g}")
    env.setdefault("RECOVERD_HOOK_ACK_TIMEOUT", f"{ack_timeout:g}")
    env.setdefault("RECOVERD_NO_AUTOSTART", None if autostart else "1")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-I", "-S", str(HOOK)], input=stdin,
                          capture_output=True, env=home.env(**env), timeout=deadline + 10.0,
                          cwd=home.root)
    return HookRun(done.returncode, done.stdout, done.stderr, time.monotonic() - started,
                   deadline)


def failure_event(cwd: Path, module: str = "nosuchmod_xyz", session: str = "sess-1") -> bytes:
    """A PostToolUseFailure payload as Claude Code sends it (claude-code-hooks.md §2.1)."""
    return json.dumps({
        "session_id": session,
        "transcript_path": f"/home/dev/.claude/projects/-p/{session}.jsonl",
        "cwd": str(cwd),
        "prompt_id": "prompt-1",
        "permission_mode": "default",
        "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash",
        "tool_input": {"command": f'python3 -c "import {module}"', "description": "run it"},
        "tool_use_id": "toolu_00_0",
        "error": "Exit code 1\nTraceback (most recent call last):\n"
                 '  File "<string>", line 1, in <module>\n'
                 f"ModuleNotFoundError: No module named '{module}'",
        "is_interrupt": False,
        "duration_ms": 73,
    }).encode()


def output_failure_event(cwd: Path, command: str, output: str, exit_code: int = 1) -> bytes:
    """A PostToolUseFailure payload whose command printed `output`."""
    return json.dumps({
        "session_id": "sess-1", "cwd": str(cwd), "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash", "tool_input": {"command": command},
        "error": f"Exit code {exit_code}\n{output}", "is_interrupt": False,
    }).encode()


def success_event(cwd: Path) -> bytes:
    """A PostToolUse payload for a Bash call that worked (claude-code-hooks.md §2.2)."""
    return json.dumps({
        "session_id": "sess-1", "cwd": str(cwd), "hook_event_name": "PostToolUse",
        "tool_name": "Bash", "tool_input": {"command": "echo hello", "description": "say it"},
        "tool_response": {"stdout": "hello", "stderr": "", "interrupted": False,
                          "isImage": False, "noOutputExpected": False},
        "tool_use_id": "toolu_01_0", "duration_ms": 9,
    }).encode()


def bind_stale_socket(path: Path) -> None:
    """Leave a socket file on disk that nobody listens on (a daemon killed with -9)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
    finally:
        sock.close()
