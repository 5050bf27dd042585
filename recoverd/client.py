"""Talking to the daemon from Python (the CLI, tests, benchmarks), with the protocol module."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from recoverd import protocol


class DaemonUnavailable(ConnectionError):
    """No daemon answered on the socket."""


def request(sock_path: Path, kind: str, payload: bytes = b"", env: dict[str, str] | None = None,
            timeout: float = 10.0) -> bytes:
    """One exchange; returns the reply body, raises DaemonUnavailable when nobody answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(str(sock_path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise DaemonUnavailable(str(exc)) from None
        sock.sendall(protocol.encode_request(kind, env or {}, payload))
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError, BrokenPipeError) as exc:
        raise DaemonUnavailable(f"{type(exc).__name__}: {exc}") from None
    finally:
        sock.close()
    body = protocol.decode_reply(b"".join(chunks))
    if body is None:
        raise DaemonUnavailable("incomplete reply")
    return body


def ping(sock_path: Path, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        body = request(sock_path, "ping", timeout=timeout)
    except DaemonUnavailable:
        return None
    try:
        status = json.loads(body)
    except ValueError:
        return None
    return status if isinstance(status, dict) else None


def spawn(home: Path) -> int:
    """Start `python -m recoverd serve` detached from this process; return its pid."""
    env = {k: v for k, v in os.environ.items() if protocol.is_forwarded(k) or k.startswith(
        ("RECOVERD_", "XDG_"))}
    env["RECOVERD_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "recoverd", "serve"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, env=env, close_fds=True,
    )
    return proc.pid


def wait_until_up(sock_path: Path, timeout: float = 10.0) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = ping(sock_path, timeout=1.0)
        if status is not None:
            return status
        time.sleep(0.05)
    return None
