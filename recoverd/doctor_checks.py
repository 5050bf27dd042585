"""The Finding every `recoverd doctor` check returns, and the checks of this host and its daemon.

Checked here: this interpreter's version; the state directory and socket (owner, permissions);
the daemon (running, answering, its version) and its pattern load errors; the outcome store's
integrity.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoverd import __version__, client, pidfile
from recoverd.config import Config

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_PYTHON = (3, 11)


@dataclass
class Finding:
    check: str
    status: str  # ok | warn | fail
    message: str
    fix: str = ""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# -- checks -----------------------------------------------------------------------------------


def check_interpreter() -> list[Finding]:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < MIN_PYTHON:
        return [Finding("interpreter", FAIL, f"Python {version} at {sys.executable}: recoverd "
                        "needs 3.11 or later", "install recoverd into a Python >= 3.11 venv")]
    import recoverd

    return [Finding("interpreter", OK, f"Python {version} at {sys.executable}, recoverd "
                    f"{__version__} from {Path(recoverd.__file__).parent}")]


def check_state(cfg: Config) -> list[Finding]:
    root = cfg.paths.root
    if not root.exists():
        return [Finding("state", WARN, f"state directory {root} does not exist yet",
                        "`recoverd start` creates it")]
    found = []
    st = root.lstat()
    if not stat.S_ISDIR(st.st_mode):
        return [Finding("state", FAIL, f"{root} is not a directory",
                        "move it aside and run `recoverd start`")]
    if st.st_uid != os.geteuid():
        found.append(Finding("state", FAIL, f"{root} belongs to uid {st.st_uid}, not you",
                             f"use your own RECOVERD_HOME, or `chown -R {os.geteuid()} {root}`"))
    mode = _mode(root)
    if mode != 0o700:
        found.append(Finding("state", FAIL, f"{root} has mode {mode:04o}, not 0700 (others could "
                             "read the log or reach the socket)",
                             f"chmod 700 {shlex.quote(str(root))}"))
    else:
        found.append(Finding("state", OK, f"state directory {root} (0700)"))
    sock = cfg.paths.socket
    if sock.exists() or sock.is_symlink():
        smode = _mode(sock)
        if not stat.S_ISSOCK(sock.lstat().st_mode):
            found.append(Finding("socket", FAIL, f"{sock} is not a socket",
                                 f"`recoverd stop`, remove {sock}, `recoverd start`"))
        elif smode != 0o600:
            found.append(Finding("socket", FAIL, f"socket {sock} has mode {smode:04o}, not 0600",
                                 "`recoverd restart` binds it 0600 again"))
        else:
            found.append(Finding("socket", OK, f"socket {sock} (0600)"))
    return found


def check_daemon(cfg: Config) -> tuple[list[Finding], dict[str, Any] | None]:
    status = client.ping(cfg.paths.socket)
    if status is None:
        named = pidfile.read(cfg.paths.pidfile)
        if named is not None and pidfile.is_recoverd(named):
            return [Finding("daemon", FAIL, f"pid {named} runs but does not answer on "
                            f"{cfg.paths.socket} (stopped or hung)", "recoverd restart")], None
        return [Finding("daemon", FAIL, f"the daemon is not running for {cfg.home}",
                        "recoverd start (the hook also starts it at the first event)")], None
    found = [Finding("daemon", OK, f"running: pid {status.get('pid')}, recoverd "
                     f"{status.get('version')}, up {float(status.get('uptime_s', 0)):.0f}s, "
                     f"{status.get('patterns')} patterns")]
    if status.get("version") != __version__:
        found.append(Finding("daemon", WARN, f"the daemon runs recoverd {status.get('version')}, "
                             f"this command is {__version__}", "recoverd restart"))
    errors = [str(e) for e in status.get("pattern_errors") or []]
    for error in errors[:10]:
        found.append(Finding("patterns", FAIL, f"pattern load error: {error}",
                             "fix or remove that entry; `recoverd patterns check` rechecks"))
    if len(errors) > 10:
        found.append(Finding("patterns", FAIL, f"{len(errors) - 10} more pattern load errors",
                             "recoverd patterns check"))
    if not errors:
        found.append(Finding("patterns", OK, "every pattern loaded"))
    return found, status


def check_store(cfg: Config) -> list[Finding]:
    store = cfg.paths.store
    if not store.exists():
        return []
    fix = (f"`recoverd stop`, move {store} aside, `recoverd start`: the outcome history starts "
           "afresh")
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [Finding("store", FAIL, f"{store} cannot be read: {exc}", fix)]
    verdict = "; ".join(str(r[0]) for r in rows[:5])
    if verdict != "ok":
        return [Finding("store", FAIL, f"{store} fails its integrity check: {verdict}", fix)]
    return [Finding("store", OK, f"{store}: integrity ok")]
