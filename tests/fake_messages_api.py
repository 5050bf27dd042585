"""A scripted fake of the Anthropic Messages API for end-to-end tests of Claude Code.

The server listens on 127.0.0.1 (ephemeral port), answers ``POST /v1/messages`` with a
streamed (SSE) assistant message taken from a fixed script, records every request, and
stops itself after a bounded lifetime. Stdlib only.

Usage::

    with FakeMessagesAPI([bash("false"), text("done")]) as api:
        run_claude(..., api_url=api.url, ...)
    api.hook_contexts()

The turn to play is chosen by counting the ``tool_result`` blocks in *all* messages of the
request, not by looking at the last message: after a hook answers, the last message is a
``role: "system"`` element, and a last-message check would replay the same tool call forever.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from loopback import LoopbackServer

DEFAULT_LIFETIME_S = 120.0
# Sent when the conversation has more tool results than the script has turns, so that a
# mis-scripted test ends its session instead of looping.
SCRIPT_EXHAUSTED_TEXT = "(fake API: script exhausted)"

HOOK_TEXT_RE = re.compile(
    r"(?:^|\n\n)(?=(?:PostToolUseFailure|PostToolUse):[A-Za-z0-9_]+ hook )"
)


@dataclass(frozen=True)
class BashTurn:
    """The assistant calls the Bash tool once and stops with ``stop_reason: tool_use``."""

    command: str
    description: str | None = "run command"
    timeout_ms: int | None = None

    def tool_input(self) -> dict[str, Any]:
        tool_input: dict[str, Any] = {"command": self.command}
        if self.description is not None:
            tool_input["description"] = self.description
        if self.timeout_ms is not None:
            tool_input["timeout"] = self.timeout_ms
        return tool_input


@dataclass(frozen=True)
class TextTurn:
    """The assistant answers with text and stops with ``stop_reason: end_turn``."""

    text: str


Turn = BashTurn | TextTurn


def bash(
    command: str, description: str | None = "run command", timeout_ms: int | None = None
) -> BashTurn:
    return BashTurn(command=command, description=description, timeout_ms=timeout_ms)


def text(content: str) -> TextTurn:
    return TextTurn(text=content)


def tool_use_id(turn_index: int) -> str:
    """The ``tool_use`` id the fake emits for the Bash turn at ``turn_index`` of the script."""
    return f"toolu_fake_{turn_index:02d}"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    # Parsed JSON body; None for requests without a JSON body.
    body: Any
    received_at: float


@dataclass(frozen=True)
class ToolResult:
    tool_use_id: str
    is_error: bool
    content: str


def content_text(content: Any) -> str:
    """Text of a message ``content``: a plain string, or a list of blocks (text blocks joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            block.get("text", "")
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        ]
        return "".join(parts)
    return ""


def _tool_result_blocks(body: Any) -> Iterator[dict[str, Any]]:
    """The ``tool_result`` blocks of all messages of one request body, in order."""
    if not isinstance(body, dict):
        return
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    yield block


def count_tool_results(body: Any) -> int:
    return sum(1 for _ in _tool_result_blocks(body))


def system_texts(body: Any) -> list[str]:
    """Texts of the ``role: "system"`` elements inside ``messages`` of one request body."""
    if not isinstance(body, dict):
        return []
    return [
        content_text(message.get("content"))
        for message in body.get("messages") or []
        if isinstance(message, dict) and message.get("role") == "system"
    ]


def split_hook_texts(system_text: str) -> list[str]:
    """Split one system message into the hook texts it holds.

    Claude Code joins the answers of several hooks for the same call with blank lines, and a
    hook's own text may contain blank lines too, so split only where a new
    ``<Event>:<Tool> hook `` prefix starts.
    """
    return [piece for piece in HOOK_TEXT_RE.split(system_text) if piece]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, api: FakeMessagesAPI) -> None:
        self.api = api
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_POST(self) -> None:
        raw = self._read_body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = urlsplit(self.path).path.rstrip("/")
        self.server.api._record(self, body)
        if path == "/v1/messages/count_tokens":
            self._send_json(HTTPStatus.OK, {"input_tokens": _estimate_tokens(raw)})
        elif path == "/v1/messages":
            if not isinstance(body, dict):
                self._send_error(
                    HTTPStatus.BAD_REQUEST, "invalid_request_error", "body is not a JSON object"
                )
                return
            message = self.server.api._answer(body)
            if body.get("stream"):
                self._send_sse(message)
            else:
                self._send_json(HTTPStatus.OK, message)
        else:
            self._send_error(HTTPStatus.NOT_FOUND, "not_found_error", f"no route for POST {path}")

    def do_GET(self) -> None:
        self.server.api._record(self, None)
        path = urlsplit(self.path).path.rstrip("/")
        if path in ("", "/health"):
            self._send_json(HTTPStatus.OK, {"status": "ok"})
        elif path == "/v1/models":
            models = {"data": [], "has_more": False, "first_id": None, "last_id": None}
            self._send_json(HTTPStatus.OK, models)
        else:
            self._send_error(HTTPStatus.NOT_FOUND, "not_found_error", f"no route for GET {path}")

    def do_HEAD(self) -> None:
        self.server.api._record(self, None)
        self.send_response(HTTPStatus.OK)
        self.send_header("content-length", "0")
        self.end_headers()

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailer section ends with an empty line.
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_bytes(self, status: HTTPStatus, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.send_header("request-id", f"req_fake_{uuid.uuid4().hex[:16]}")
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_json(self, status: HTTPStatus, obj: Any) -> None:
        self._send_bytes(status, "application/json", json.dumps(obj).encode())

    def _send_error(self, status: HTTPStatus, error_type: str, message: str) -> None:
        error = {"type": error_type, "message": message}
        self._send_json(status, {"type": "error", "error": error})

    def _send_sse(self, message: dict[str, Any]) -> None:
        payload = "".join(
            f"event: {event}\ndata: {json.dumps(data)}\n\n" for event, data in _sse_events(message)
        )
        self._send_bytes(HTTPStatus.OK, "text/event-stream", payload.encode())


def _estimate_tokens(raw: bytes) -> int:
    return max(1, len(raw) // 4)


def _sse_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    start = dict(message, content=[], stop_reason=None, stop_sequence=None)
    start["usage"] = dict(message["usage"], output_tokens=1)
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield "content_block_start", {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            }
            delta: dict[str, Any] = {"type": "text_delta", "text": block["text"]}
        else:
            yield "content_block_start", {
                "type": "content_block_start",
                "index": index,
                "content_block": {
                    "type": "tool_use",
                    "id": block["id"],
                    "name": block["name"],
                    "input": {},
                },
            }
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
        "usage": {"output_tokens": message["usage"]["output_tokens"]},
    }
    yield "message_stop", {"type": "message_stop"}


class FakeMessagesAPI(LoopbackServer):
    """Scripted Messages API server. Start with ``start()`` or use as a context manager.

    ``turns[n]`` answers a request that holds ``n`` tool results. Requests beyond the script get
    a final text (``SCRIPT_EXHAUSTED_TEXT``), so a session always ends. A final text turn may be
    served repeatedly (e.g. after an ``asyncRewake`` wake-up).
    """

    def __init__(
        self,
        turns: Sequence[Turn],
        *,
        lifetime_s: float = DEFAULT_LIFETIME_S,
        default_model: str = "claude-fake",
    ) -> None:
        super().__init__(lifetime_s=lifetime_s)
        self.turns: tuple[Turn, ...] = tuple(turns)
        self.default_model = default_model
        self._recorded: list[RecordedRequest] = []

    def _make_server(self) -> _Server:
        return _Server(self)

    @property
    def url(self) -> str:
        """Base URL for ``ANTHROPIC_BASE_URL``."""
        return self.base_url

    # Recorded traffic

    @property
    def recorded(self) -> list[RecordedRequest]:
        """Every request received (any method and path), in arrival order."""
        with self._lock:
            return list(self._recorded)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Parsed bodies of the ``POST /v1/messages`` requests, in arrival order."""
        return [
            r.body
            for r in self.recorded
            if r.method == "POST"
            and r.path.rstrip("/") == "/v1/messages"
            and isinstance(r.body, dict)
        ]

    def tool_results(self) -> list[ToolResult]:
        """Every distinct ``tool_result`` block the client sent, in conversation order."""
        seen: dict[str, ToolResult] = {}
        for body in self.requests:
            for block in _tool_result_blocks(body):
                block_id = str(block.get("tool_use_id"))
                if block_id not in seen:
                    seen[block_id] = ToolResult(
                        tool_use_id=block_id,
                        is_error=bool(block.get("is_error", False)),
                        content=content_text(block.get("content")),
                    )
        return list(seen.values())

    def system_messages(self) -> list[str]:
        """Distinct ``role: "system"`` message texts across all requests, in conversation order.

        Besides hook texts this includes the ``# Environment`` block that Claude Code 2.1.328
        puts as a system message right after the first user message. A system message stays in
        the history and is resent (as a cached block list while last, as a string later), so it
        is identified by its position in ``messages``.
        """
        seen: dict[tuple[int, str], None] = {}
        for body in self.requests:
            for position, message in enumerate(body.get("messages") or []):
                if isinstance(message, dict) and message.get("role") == "system":
                    seen.setdefault((position, content_text(message.get("content"))), None)
        return [text_ for _, text_ in seen]

    def hook_contexts(self, event: str | None = None) -> list[str]:
        """Every ``<Event>:Bash hook additional context: ...`` text that reached the model.

        ``event`` restricts the result to ``"PostToolUseFailure"`` or ``"PostToolUse"``.
        """
        prefixes = (
            (f"{event}:",) if event is not None else ("PostToolUseFailure:", "PostToolUse:")
        )
        return [
            piece
            for system_text in self.system_messages()
            for piece in split_hook_texts(system_text)
            if piece.startswith(prefixes)
            and " hook additional context: " in piece.split("\n", 1)[0]
        ]

    def request_after(self, result_id: str) -> dict[str, Any] | None:
        """The first request whose messages carry the ``tool_result`` for ``result_id``."""
        for body in self.requests:
            if any(b.get("tool_use_id") == result_id for b in _tool_result_blocks(body)):
                return body
        return None

    def wait_for_requests(self, count: int, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return True
            time.sleep(0.05)
        return len(self.requests) >= count

    # Request handling (called from handler threads)

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        parts = urlsplit(handler.path)
        entry = RecordedRequest(
            method=handler.command,
            path=parts.path,
            query=parts.query,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            received_at=time.time(),
        )
        with self._lock:
            self._recorded.append(entry)

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        turn_index = count_tool_results(body)
        turn: Turn = (
            self.turns[turn_index]
            if turn_index < len(self.turns)
            else text(SCRIPT_EXHAUSTED_TEXT)
        )
        content: list[dict[str, Any]]
        if isinstance(turn, BashTurn):
            tool_use = {
                "type": "tool_use",
                "id": tool_use_id(turn_index),
                "name": "Bash",
                "input": turn.tool_input(),
            }
            content = [tool_use]
            stop_reason = "tool_use"
        else:
            content = [{"type": "text", "text": turn.text}]
            stop_reason = "end_turn"
        return {
            "id": f"msg_fake_{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": str(body.get("model") or self.default_model),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 10,
                "output_tokens": 5,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
