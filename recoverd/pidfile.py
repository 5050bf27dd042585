"""The daemon's pidfile: written atomically, recognised when stale, removed only if ours."""

from __future__ import annotations

import os
from pathlib import Path

import psutil


def write(path: Path, pid: int) -> None:
    tmp = path.with_name(f".{path.name}.{pid}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"{pid}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def is_recoverd(pid: int) -> bool:
    """True when `pid` is a live recoverd daemon (not a recycled pid of some other program)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    joined = " ".join(cmdline)
    return "recoverd" in joined and "serve" in cmdline


def live_pid(path: Path) -> int | None:
    """The daemon's pid when the pidfile names a running daemon; None when absent or stale."""
    pid = read(path)
    if pid is None or not is_recoverd(pid):
        return None
    return pid


def remove_if_ours(path: Path, pid: int) -> bool:
    if read(path) != pid:
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
