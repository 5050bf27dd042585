"""The wire format between hooks/recoverd-hook and the daemon. This docstring is the spec.

Transport: one request per connection on the Unix socket `<state>/recoverd.sock` (0600, in a
0700 directory; the daemon checks the peer's uid).

Request (client → daemon)::

    RECOVERD/1 <kind> <env_len>\\n      header line, ASCII, at most 256 bytes
    <env block>                         env_len bytes: NUL-separated KEY=VALUE pairs (UTF-8)
    <payload>                           every byte until the client half-closes (EOF)

`kind` is `hook` (payload = one hook event as JSON: Claude Code's PostToolUseFailure or
PostToolUse, or the explicit `{"tool_input": {"command": …}, "cwd", "exit_code", "stdout",
"stderr"}` shape) or `ping` (empty payload).

Not every event takes this path. The hook leaves a success (PostToolUse: nobody waits for an
answer) as a file in `<state>/spool/`, which the daemon watches and drains oldest first, before
it answers any request. Only while the file `<state>/late-results` exists (a recovery's result
waits for its session's next event) does a success come here, to be answered. Events that
arrive while no daemon runs are spooled the same way.

The env block carries only the variables that decide how a command runs (PATH, VIRTUAL_ENV,
package-index settings …: `ENV_PREFIXES`), never the whole environment: the hook's environment
holds the user's API key.

Caps: the payload is at most `MAX_PAYLOAD` bytes and the env block `MAX_ENV`; a request over a
cap, or one that is malformed, gets an empty body and a log event, and the connection is closed.

Reply (daemon → client)::

    +                                   one byte, sent as soon as the header is read: "alive"
    <body_len>\\n<body>                  the body; then the daemon closes

For `hook`, the body is exactly one JSON object for Claude Code (`hookSpecificOutput`) or empty.
For `ping`, it is a JSON object describing the daemon. A client that receives fewer than
`body_len` bytes must discard the body: the daemon died mid-reply.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass

MAGIC = b"RECOVERD/1"
MAX_HEADER = 256
MAX_ENV = 256 * 1024
MAX_PAYLOAD = 4 * 1024 * 1024
MAX_BODY = 64 * 1024
ACK = b"+"
KINDS = ("hook", "ping")

# Variables forwarded by the hook: what a recovery or a retry needs to act like the command did.
ENV_NAMES = frozenset(
    {
        "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "VIRTUAL_ENV", "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV", "PYENV_VERSION", "CLAUDE_PROJECT_DIR", "CLAUDE_CODE_SESSION_ID",
        "SHELL", "TMPDIR", "NODE_PATH", "NODE_OPTIONS", "PYTHONPATH", "HTTP_PROXY",
        "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy",
        "all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
        "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
    }
)
ENV_PREFIXES = ("PIP_", "UV_", "NPM_CONFIG_", "npm_config_", "POETRY_", "PDM_", "PIPENV_", "YARN_")


class ProtocolError(ValueError):
    """A request that does not follow this spec."""


@dataclass(frozen=True)
class Header:
    kind: str
    env_len: int


def encode_request(kind: str, env: dict[str, str], payload: bytes) -> bytes:
    block = b"\0".join(f"{k}={v}".encode("utf-8", "surrogateescape") for k, v in env.items())
    return b"%s %s %d\n" % (MAGIC, kind.encode(), len(block)) + block + payload


def parse_header(line: bytes) -> Header:
    if len(line) > MAX_HEADER or not line.endswith(b"\n"):
        raise ProtocolError("header line missing or too long")
    parts = line.rstrip(b"\n").split(b" ")
    if len(parts) != 3 or parts[0] != MAGIC:
        raise ProtocolError("bad magic or field count")
    kind = parts[1].decode("ascii", "replace")
    if kind not in KINDS:
        raise ProtocolError(f"unknown kind {kind!r}")
    if not parts[2].isdigit():
        raise ProtocolError("env length is not a number")
    env_len = int(parts[2])
    if env_len > MAX_ENV:
        raise ProtocolError(f"env block of {env_len} bytes is over {MAX_ENV}")
    return Header(kind, env_len)


def parse_env(block: bytes) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in block.split(b"\0"):
        if not item:
            continue
        key, sep, value = item.partition(b"=")
        if not sep:
            raise ProtocolError("env entry without '='")
        name = key.decode("utf-8", "replace")
        if is_forwarded(name):
            env[name] = value.decode("utf-8", "surrogateescape")
    return env


def is_forwarded(name: str) -> bool:
    return name in ENV_NAMES or name.startswith(ENV_PREFIXES)


def encode_body(body: bytes) -> bytes:
    return b"%d\n" % len(body) + body


def decode_reply(data: bytes) -> bytes | None:
    """The body of a complete reply (after the ack byte), or None when it is cut short."""
    if not data.startswith(ACK):
        return None
    length, sep, body = data[1:].partition(b"\n")
    if not sep or not length.isdigit() or len(body) != int(length):
        return None
    return body


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (Linux SO_PEERCRED)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


async def read_payload(reader: asyncio.StreamReader) -> bytes | None:
    """Every byte until the client half-closes; None when that is over MAX_PAYLOAD."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await reader.read(1 << 16):
        size += len(chunk)
        if size > MAX_PAYLOAD:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
