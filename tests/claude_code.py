"""Run the real Claude Code binary headless (``claude -p``) against a fake Messages API.

The binary is pinned (see ``CLAUDE_CODE_VERSION``) because hook payloads and the texts that
reach the model change between releases.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CLAUDE_CODE_VERSION = "2.1.328"
BINARY_ENV_VAR = "RECOVERD_CLAUDE_BIN"
DUMMY_API_KEY = "sk-ant-fake-e2e-key-not-secret"
_NODE_MODULES = REPO_ROOT / ".cache" / "claude-code" / "node_modules" / "@anthropic-ai"
# The platform package carries the native binary; the main package's bin/claude.exe is a
# placeholder script until its postinstall (skipped with --ignore-scripts) swaps it in.
DEFAULT_BINARY_PATHS: tuple[Path, ...] = (
    _NODE_MODULES / "claude-code-linux-x64" / "claude",
    _NODE_MODULES / "claude-code" / "bin" / "claude.exe",
)
_NATIVE_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
INSTALL_HINT = (
    f"set {BINARY_ENV_VAR}=/path/to/claude, or run "
    f"`npm install --prefix .cache/claude-code --ignore-scripts @anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}` "
    "in the repo root"
)


def _is_executable(path: Path) -> bool:
    """An executable native binary (not the npm placeholder script)."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        return False
    with open(path, "rb") as handle:
        return handle.read(4) in _NATIVE_MAGIC


def find_claude_binary() -> Path | None:
    """The Claude Code executable to test against, or None when none is available.

    ``$RECOVERD_CLAUDE_BIN`` wins when set (and then nothing else is tried, so a wrong value
    is not masked by some other copy); otherwise the repo-local npm install under ``.cache``.
    """
    configured = os.environ.get(BINARY_ENV_VAR)
    if configured:
        path = Path(configured).expanduser()
        return path if _is_executable(path) else None
    for candidate in DEFAULT_BINARY_PATHS:
        if _is_executable(candidate):
            return candidate
    return None


def describe_binary_search() -> str:
    """Human-readable account of where ``find_claude_binary`` looked, for skip/fail messages."""
    configured = os.environ.get(BINARY_ENV_VAR)
    if configured:
        return f"{BINARY_ENV_VAR}={configured!r} is not an executable file"
    looked = ", ".join(str(p) for p in DEFAULT_BINARY_PATHS)
    return f"{BINARY_ENV_VAR} is unset and no executable at: {looked}; {INSTALL_HINT}"


@dataclass
class ClaudeRun:
    """Outcome of one ``claude -p`` run."""

    argv: list[str]
    # None when the run was killed at its timeout.
    returncode: int | None
    timed_out: bool
    duration_s: float
    stdout: str
    stderr: str
    # stdout lines that parsed as JSON objects (stream-json events), in order.
    events: list[dict[str, Any]] = field(default_factory=list)
    # stdout lines that did not parse as JSON objects.
    other_lines: list[str] = field(default_factory=list)

    def events_of(self, type_: str, subtype: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e.get("type") == type_ and (subtype is None or e.get("subtype") == subtype)
        ]

    def hook_events(self, subtype: str | None = None) -> list[dict[str, Any]]:
        """``hook_started`` / ``hook_response`` system events (``--include-hook-events``)."""
        hook_events = [
            e for e in self.events_of("system") if str(e.get("subtype", "")).startswith("hook_")
        ]
        return [e for e in hook_events if subtype is None or e.get("subtype") == subtype]

    @property
    def result(self) -> dict[str, Any] | None:
        """The final ``{"type": "result", ...}`` event, if the run got that far."""
        results = self.events_of("result")
        return results[-1] if results else None

    def describe(self, limit: int = 4000) -> str:
        """Short diagnostic dump for assertion messages."""
        return (
            f"argv={self.argv}\nreturncode={self.returncode} timed_out={self.timed_out} "
            f"duration={self.duration_s:.1f}s\n--- stdout (tail) ---\n{self.stdout[-limit:]}\n"
            f"--- stderr (tail) ---\n{self.stderr[-limit:]}"
        )


def build_env(
    home_dir: Path, api_url: str, extra_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A clean environment: nothing from the caller's env leaks in except PATH.

    The caller's env may hold real API keys, proxies or a user config dir, any of which would
    break isolation or reach the network.
    """
    env = {
        "HOME": str(home_dir),
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "ANTHROPIC_BASE_URL": api_url,
        "ANTHROPIC_API_KEY": DUMMY_API_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }
    if extra_env:
        env.update(extra_env)
    return env


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _parse_lines(stdout: str) -> tuple[list[dict[str, Any]], list[str]]:
    events: list[dict[str, Any]] = []
    other: list[str] = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
        except ValueError:
            other.append(line)
            continue
        if isinstance(parsed, dict):
            events.append(parsed)
        else:
            other.append(line)
    return events, other


def run_claude(
    project_dir: Path,
    home_dir: Path,
    api_url: str,
    prompt: str,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 90,
    settings_file: Path | None = None,
    plugin_dir: Path | None = None,
    *,
    claude_bin: Path | None = None,
    extra_args: list[str] | None = None,
) -> ClaudeRun:
    """Run ``claude -p PROMPT`` with hook events in stream-json, bounded by ``timeout`` seconds.

    Claude Code runs in its own session/process group so that it, its hooks and its Bash
    children can all be killed together; the group is killed on timeout and, to reap stray
    hook or background processes, after every run.
    """
    binary = claude_bin or find_claude_binary()
    if binary is None:
        raise FileNotFoundError(f"Claude Code binary not found: {describe_binary_search()}")
    argv = [
        str(binary),
        "-p",
        prompt,
        "--allowedTools",
        "Bash",
        "--output-format",
        "stream-json",
        "--verbose",
        "--include-hook-events",
    ]
    if settings_file is not None:
        argv += ["--settings", str(settings_file)]
    if plugin_dir is not None:
        argv += ["--plugin-dir", str(plugin_dir)]
    if extra_args:
        argv += extra_args

    started = time.monotonic()
    timed_out = False
    proc = subprocess.Popen(
        argv,
        cwd=project_dir,
        env=build_env(home_dir, api_url, extra_env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    pgid = proc.pid  # start_new_session makes the child a group leader.
    try:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(pgid, signal.SIGTERM)
            try:
                stdout, stderr = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                _kill_group(pgid, signal.SIGKILL)
                stdout, stderr = proc.communicate()
    finally:
        _kill_group(pgid, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait(timeout=5)
    events, other = _parse_lines(stdout or "")
    return ClaudeRun(
        argv=argv,
        returncode=None if timed_out else proc.returncode,
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
        stdout=stdout or "",
        stderr=stderr or "",
        events=events,
        other_lines=other,
    )


def require_claude_binary() -> Path:
    """The binary, or a skip that says why; a failure instead when RECOVERD_REQUIRE_E2E=1 (CI)."""
    import pytest

    binary = find_claude_binary()
    if binary is not None:
        return binary
    message = f"Claude Code binary not available: {describe_binary_search()}"
    if os.environ.get("RECOVERD_REQUIRE_E2E") == "1":
        pytest.fail(f"RECOVERD_REQUIRE_E2E=1 but {message}", pytrace=False)
    pytest.skip(message)
