"""What `recoverd install` sets up besides the settings: the interpreter record and systemd unit."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from recoverd.settings_write import atomic_write

# -- the interpreter, for hooks that cannot know it (the plugin) ------------------------------


def interpreter_file(state_root: Path) -> Path:
    """`<state>/python`: the interpreter that has recoverd installed, one absolute path."""
    return state_root / "python"


def record_interpreter(state_root: Path, python: str | Path | None = None) -> Path:
    """Write `<state>/python` (0600, atomically) so that a hook run by another interpreter
    (the plugin's `python3 -I -S …`) can start the daemon with this one."""
    target = interpreter_file(state_root)
    text = f"{python or sys.executable}\n".encode()
    try:
        if target.read_bytes() == text:
            return target
    except OSError:
        pass
    atomic_write(target, text)
    os.chmod(target, 0o600)
    return target


# -- a systemd user unit ----------------------------------------------------------------------

UNIT_NAME = "recoverd.service"
UNIT_MARKER = "# Written by `recoverd install --service`"


def unit_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = (env.get("XDG_CONFIG_HOME") or "").strip()
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".config"
    return root / "systemd" / "user" / UNIT_NAME


def _systemd_quote(value: str) -> str:
    value = value.replace("%", "%%")
    if re.fullmatch(r"[A-Za-z0-9_./:=+@,-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_text(python: str | Path, state_root: Path) -> str:
    exec_start = " ".join(_systemd_quote(a) for a in (str(python), "-m", "recoverd", "serve"))
    return (
        f"{UNIT_MARKER}; `recoverd uninstall --service` removes it.\n"
        "[Unit]\n"
        "Description=recoverd: the Claude Code hook daemon for failed Bash calls\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={exec_start}\n"
        f"Environment={_systemd_quote('RECOVERD_HOME=' + str(state_root))}\n"
        "Restart=on-failure\n"
        "RestartSec=2\n"
        # exit 1 is a known error (configuration, another daemon holds the state directory):
        # restarting would not help
        "RestartPreventExitStatus=1\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )
