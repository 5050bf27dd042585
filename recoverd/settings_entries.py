"""recoverd's entries in Claude Code's settings: where the files are, what they run, which are ours.

recoverd's own hook entries are recognised by what they run (an argument named `recoverd-hook`,
or `-m recoverd check` for SessionStart), wherever the hook or the interpreter lives, so a
reinstall from another venv updates them in place instead of adding a second copy.
"""

from __future__ import annotations

import math
import os
import shlex
from pathlib import Path
from typing import Any

SCOPES = ("user", "project", "local")
HOOK_NAME = "recoverd-hook"
MATCHER = "Bash"
# The events recoverd's hook answers: failures (the point) and successes (bookkeeping, results
# that finished after the budget).
HOOK_EVENTS = ("PostToolUseFailure", "PostToolUse")
SESSION_EVENT = "SessionStart"
# The hook ends itself at RECOVERD_HOOK_DEADLINE (45 s by default); Claude Code's timeout must
# be above it, or Claude Code kills the hook before it answers.
DEFAULT_HOOK_DEADLINE = 45.0
MIN_HOOK_TIMEOUT = 60
SESSION_TIMEOUT = 30


# -- where ------------------------------------------------------------------------------------


def claude_config_dir(environ: dict[str, str] | None = None) -> Path:
    """Claude Code's own folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`."""
    env = os.environ if environ is None else environ
    configured = (env.get("CLAUDE_CONFIG_DIR") or "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".claude"


def settings_path(scope: str, project_dir: Path | str | None = None,
                  environ: dict[str, str] | None = None) -> Path:
    """The settings file of a scope: user, project (shared) or local (you only)."""
    if scope == "user":
        return claude_config_dir(environ) / "settings.json"
    base = Path(project_dir if project_dir is not None else os.getcwd()).expanduser()
    base = Path(os.path.abspath(base))
    if scope == "project":
        return base / ".claude" / "settings.json"
    if scope == "local":
        return base / ".claude" / "settings.local.json"
    raise ValueError(f"unknown scope {scope!r}")


# -- what -------------------------------------------------------------------------------------


def hook_deadline(environ: dict[str, str] | None = None) -> float:
    """The hook's own hard deadline, as the hook computes it."""
    env = os.environ if environ is None else environ
    try:
        value = float(env.get("RECOVERD_HOOK_DEADLINE", DEFAULT_HOOK_DEADLINE))
    except ValueError:
        return DEFAULT_HOOK_DEADLINE
    return min(max(value, 0.05), 590.0)


def hook_timeout(environ: dict[str, str] | None = None) -> int:
    """Claude Code's timeout for the hook: above the hook's own deadline, 60 s at least."""
    return max(MIN_HOOK_TIMEOUT, math.ceil(hook_deadline(environ)) + 15)


def hook_command(python: str | Path, hook: str | Path) -> str:
    """`<python> -I -S <hook>`, quoted for the shell Claude Code runs it through."""
    return shlex.join([str(python), "-I", "-S", str(hook)])


def session_start_command(python: str | Path) -> str:
    return shlex.join([str(python), "-m", "recoverd", "check", "--session-start"])


def wanted_entries(python: str | Path, hook: str | Path, session_start: bool = False,
                   timeout: int | None = None) -> dict[str, dict[str, Any]]:
    """recoverd's hook entry per event."""
    entry = {"type": "command", "command": hook_command(python, hook),
             "timeout": timeout if timeout is not None else hook_timeout()}
    wanted = {event: dict(entry) for event in HOOK_EVENTS}
    if session_start:
        wanted[SESSION_EVENT] = {"type": "command", "command": session_start_command(python),
                                 "timeout": SESSION_TIMEOUT}
    return wanted


def command_argv(entry: dict[str, Any]) -> list[str]:
    """What a command hook entry runs, as an argv (shell form split like the shell would)."""
    command = entry.get("command")
    if not isinstance(command, str):
        return []
    args = entry.get("args")
    if isinstance(args, list):  # exec form
        return [command, *(str(a) for a in args)]
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def is_recoverd_entry(entry: Any) -> bool:
    """True for a hook entry that runs recoverd: its hook, or `recoverd check`."""
    if not isinstance(entry, dict) or entry.get("type", "command") != "command":
        return False
    argv = command_argv(entry)
    if any(os.path.basename(arg) == HOOK_NAME for arg in argv):
        return True
    for i, arg in enumerate(argv[:-1]):
        if arg == "-m" and argv[i + 1] == "recoverd":
            return True
    return bool(argv) and os.path.basename(argv[0]) == "recoverd"
