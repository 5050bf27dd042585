"""From one hook event to what Claude reads: classify, recover within the budget, reply, and
the log record that says what happened."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from recoverd import checks, diagnosis, events
from recoverd.catalogue import Catalogue
from recoverd.classifier import Classification, classify
from recoverd.ledger import Ledger
from recoverd.recoveries import Handled, Recoveries
from recoverd.text import shorten

# Classes for which Claude gains nothing from a note: success, harmless exits, unknowns.
SILENT_CLASSES = frozenset({"no_error", "benign_nonzero_exit", "unknown"})


def syntax_text(event: events.Event, result: Classification) -> str:
    """A syntax error with its lines read from the file, confirmed by the language's checker."""
    loc = result.location
    source = ""
    if loc is not None and loc.line is not None:
        source = checks.excerpt(Path(event.cwd or ".", loc.file), loc.line, loc.col)
    return diagnosis.render_syntax(result, event.command, source,
                                   checks.confirm_syntax(result, event))


def context_reply(event: events.Event, texts: list[str]) -> bytes:
    """Exactly one JSON object carrying the texts as additionalContext, or nothing."""
    if not texts:
        return b""
    context = shorten("\n\n".join(texts), diagnosis.LIMIT)
    name = event.hook_event_name or "PostToolUseFailure"
    return json.dumps(
        {"hookSpecificOutput": {"hookEventName": name, "additionalContext": context}},
        ensure_ascii=False,
    ).encode()


class Responder:
    def __init__(self, log: Any, catalogue: Catalogue, recoveries: Recoveries,
                 ledger: Ledger) -> None:
        self.log = log
        self.catalogue = catalogue
        self.recoveries = recoveries
        self.ledger = ledger

    def book_spooled(self, payload: bytes) -> None:
        """A spooled event: nobody waits for an answer (a success, or an event from while no
        daemon ran, too late to recover), so it is classified, logged and booked."""
        parsed = self._parse(payload, {})
        if parsed is None:
            return
        event, result, started = parsed
        self.log.info("event.classified", **self._record(event, result, started, b"", True))
        if event.kind == events.SUCCESS:
            self.ledger.credit(event)

    def _parse(self, payload: bytes, env: dict[str, str]) -> tuple[
            events.Event, Classification, float] | None:
        started = time.perf_counter()
        try:
            event = events.parse(payload, env)
        except events.EventError as exc:
            self.log.warning("event.malformed", reason=str(exc), size=len(payload),
                             head=payload[:200].decode("utf-8", "replace"))
            return None
        if event.kind == events.IGNORED:
            return None
        # Only failures are matched against patterns: skip the project-folder lookup otherwise.
        patterns = (self.catalogue.for_cwd(event.cwd) if event.kind == events.FAILURE
                    else self.catalogue.base)
        return event, classify(event, patterns), started

    def _record(self, event: events.Event, result: Classification, started: float,
                reply: bytes, spooled: bool = False) -> dict[str, Any]:
        return {
            "source": event.source, "kind": event.kind, "session": event.session_id,
            "cwd": event.cwd, "command": event.command[:2000], "exit_code": event.exit_code,
            "spooled": spooled, "truncated_chars": event.truncated_chars,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "replied": bool(reply), **result.to_json(),
        }

    async def respond(self, payload: bytes,
                      env: dict[str, str]) -> tuple[bytes, dict[str, Any] | None]:
        """The reply for Claude Code and the log record for one event. A recoverable failure
        is recovered within the budget; results that came later ride on the next event."""
        parsed = self._parse(payload, env)
        if parsed is None:
            return b"", None
        event, result, started = parsed
        classify_ms = (time.perf_counter() - started) * 1000
        texts = self.recoveries.take_pending(event.session_id)
        handled: Handled | None = None
        if event.kind == events.FAILURE and result.cls == "syntax_error":
            texts.append(await asyncio.to_thread(syntax_text, event, result))
        elif event.kind == events.FAILURE and result.cls not in SILENT_CLASSES:
            handled = await self.recoveries.handle(event, result)
            texts.append(handled.text if handled else diagnosis.render(result, event.command))
        if event.kind == events.FAILURE:
            # Recorded before the reply goes out: what Claude was told is in the store.
            self.ledger.remember(event, result, handled, classify_ms)
        reply = context_reply(event, texts)
        record = self._record(event, result, started, reply)
        if event.kind == events.SUCCESS:
            record["_after"] = lambda: self.ledger.credit(event)  # nothing Claude waits for
        return reply, record
