"""install/uninstall beyond the merge: interpreter record, daemon, systemd unit, --json report."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recoverd import client, config, settings_merge
from recoverd.settings_write import Change, atomic_write

Say = Callable[[str], None]


def _user_error(message: str) -> Exception:
    from recoverd.cli import UserError  # imported late: cli imports setup_cli, which imports this

    return UserError(message)


# -- what was done: printed as it happens, or one JSON object (--json) ------------------------


class Report:
    """The outcome of install or uninstall. Without --json each line is printed as it comes;
    with it, one JSON object is printed at the end, lines that its fields do not hold kept as
    `notes`."""

    def __init__(self, as_json: bool, action: str, scope: str) -> None:
        self.as_json = as_json
        self.data: dict[str, Any] = {"action": action, "scope": scope}
        self.notes: list[str] = []

    def say(self, text: str, summary: bool = False) -> None:
        """Print `text`; under --json keep it as a note, or drop it when it is a summary of
        what the fields already hold."""
        if not self.as_json:
            print(text)
        elif not summary:
            self.notes.append(text)

    def settings(self, change: Change, saved: Path | None, dry_run: bool) -> None:
        before, after = _rows(change.before, change.path), _rows(change.after, change.path)
        self.data.update({
            "dry_run": dry_run, "settings": str(change.path), "changed": change.changed,
            "file_created": change.before is None and change.after is not None,
            "file_removed": change.before is not None and change.after is None,
            "backup": str(saved) if saved is not None else None,
            "added": _minus(after, before), "removed": _minus(before, after), "entries": after})
        self.notes.extend(change.notes)

    def emit(self) -> None:
        if self.as_json:
            print(json.dumps({**self.data, "notes": self.notes}, indent=2, ensure_ascii=False))


def _rows(raw: bytes | None, where: Path) -> list[dict[str, Any]]:
    """recoverd's entries in a settings file's bytes: event, matcher, command, timeout."""
    data = settings_merge.parse(raw, str(where)) if raw is not None else {}
    return [{"event": event, "matcher": group.get("matcher"), "command": entry.get("command"),
             "timeout": entry.get("timeout")}
            for event, group, entry in settings_merge.recoverd_entries(data)]


def _minus(rows: list[dict[str, Any]], other: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of `rows` that `other` lacks, each counted (a multiset difference)."""
    rest = list(other)
    out = []
    for row in rows:
        if row in rest:
            rest.remove(row)
        else:
            out.append(row)
    return out


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


# -- starting the daemon: directly, or as a systemd user service ------------------------------


def start_daemon(cfg: config.Config, wait: float) -> tuple[dict[str, Any], bool]:
    """The daemon's status, and whether it was started now (False: it was already running)."""
    cfg.paths.ensure()
    status = client.ping(cfg.paths.socket)
    if status is not None:
        return status, False
    client.spawn(cfg.home)
    status = client.wait_until_up(cfg.paths.socket, timeout=wait)
    if status is None:
        raise _user_error(f"the daemon did not come up within {wait:g}s; "
                          f"see `recoverd log` ({cfg.paths.log})")
    return status, True


def _systemctl(*argv: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemctl") or "systemctl"
    done = subprocess.run([exe, "--user", *argv], check=False, capture_output=True, text=True,
                          timeout=60,
                          stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise _user_error(f"`systemctl --user {' '.join(argv)}` failed (exit "
                          f"{done.returncode}): {detail[0] if detail else 'no output'}")
    return done


def systemd_unavailable() -> str | None:
    """Why systemd user services cannot be used here, or None when they can."""
    if shutil.which("systemctl") is None:
        return "systemctl was not found"
    try:
        done = _systemctl("show-environment")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`systemctl --user` does not work ({exc})"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return "no systemd user manager answers" + (f" ({lines[0]})" if lines else "")
    return None


def enable_service(cfg: config.Config, python: str, wait: float, say: Say = print
                   ) -> tuple[dict[str, Any], bool] | None:
    """Write and enable recoverd.service: the daemon's status and whether it was (re)started
    now; None (after saying why) when systemd cannot be used, so that the caller starts the
    daemon directly."""
    reason = systemd_unavailable()
    if reason is not None:
        say(f"recoverd: systemd user services are not available here ({reason}); starting "
            "the daemon directly instead (it does not survive a reboot; the hook starts it "
            "again at the first event)")
        return None
    unit = unit_path()
    text = unit_text(python, cfg.paths.root)
    try:
        old = unit.read_text(encoding="utf-8")
    except OSError:
        old = None
    if old is not None and not old.startswith(UNIT_MARKER):
        raise _user_error(f"{unit} exists and was not written by recoverd; move it aside first")
    if old != text:
        unit.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(unit, text.encode())
        say(f"recoverd: wrote {unit}")
    _systemctl("daemon-reload", check=True)
    active = _systemctl("is-active", "--quiet", UNIT_NAME).returncode == 0
    if active:
        _systemctl("enable", UNIT_NAME, check=True)
        if old != text:
            _systemctl("restart", UNIT_NAME, check=True)
    else:
        if client.ping(cfg.paths.socket) is not None:
            from recoverd.cli import cmd_stop

            say("recoverd: stopping the daemon started outside systemd, so that the service "
                "takes over")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                cmd_stop(argparse.Namespace(wait=wait, json=False), cfg)
            for line in out.getvalue().splitlines():
                say(line)
        _systemctl("enable", "--now", UNIT_NAME, check=True)
    status = client.wait_until_up(cfg.paths.socket, timeout=wait)
    if status is None:
        raise _user_error(f"{UNIT_NAME} is enabled but the daemon did not answer within "
                          f"{wait:g}s; see `journalctl --user -u recoverd`")
    say(f"recoverd runs as the systemd user service {UNIT_NAME}: pid {status['pid']}, "
        f"socket {cfg.paths.socket}")
    return status, not active or old != text


def disable_service(say: Say = print) -> bool:
    """Disable and remove recoverd.service; False when there is none."""
    unit = unit_path()
    if not unit.exists():
        say(f"recoverd: no systemd user service at {unit}")
        return False
    if not unit.read_text(encoding="utf-8", errors="replace").startswith(UNIT_MARKER):
        raise _user_error(f"{unit} was not written by recoverd; left as it is")
    if systemd_unavailable() is None:
        _systemctl("disable", "--now", UNIT_NAME)
    unit.unlink()
    if systemd_unavailable() is None:
        _systemctl("daemon-reload")
    say(f"recoverd: disabled and removed {unit}")
    return True
