"""What the daemon books in the outcome store: failures as Claude was told them, late outcomes,
the successes that heal them, and the loop breaker's count."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from recoverd import events, signatures
from recoverd.classifier import Classification
from recoverd.config import Config, ConfigError
from recoverd.outcomes import StoreError, action_text, outcome_for, should_attempt
from recoverd.project import find_root
from recoverd.recoveries import Handled, outcome_of


def project_of(event: events.Event) -> str:
    return str(find_root(event.cwd)) if event.cwd else ""


class Ledger:
    """The daemon's side of the outcome store. A store that cannot be opened or written is
    logged and then left alone: recoveries go on without a memory, never without an answer."""

    def __init__(self, config: Config, log: Any) -> None:
        self.config = config
        self.log = log
        self.store: Any = None

    def open(self) -> bool:
        try:
            opened = self.config.open_store()
            purged = opened.purge(time.time())
        except (StoreError, ConfigError, OSError) as exc:
            self.log.error("store.unavailable", error=str(exc))
            return False
        self.log.info("store.opened", backend=self.config.store_backend, purged=purged)
        self.store = opened
        return True

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def remember(self, event: events.Event, result: Classification, handled: Handled | None,
                 classify_ms: float) -> None:
        """A failure and what Claude was told about it (recorded before the reply goes out)."""
        if self.store is None:
            return
        outcome = handled.outcome if handled else "none"
        try:
            record_id = self.store.record(outcome_for(
                event, result, outcome, project=project_of(event),
                classify_ms=round(classify_ms, 3),
                recovery_ms=handled.recovery_ms if handled else None), time.time())
        except StoreError as exc:
            self.log.error("store.write_failed", error=str(exc))
            return
        if handled is not None and handled.task is not None:
            handled.task.add_done_callback(lambda t: self.settle(record_id, t))

    def settle(self, record_id: int, task: asyncio.Task[Any]) -> None:
        """A recovery that outlasted the budget: its in_progress record gets the outcome."""
        outcome = "failed" if task.cancelled() or task.exception() else outcome_of(task.result())
        ms = None if outcome == "failed" else task.result().install and round(
            task.result().install.seconds * 1000, 3)
        try:
            self.store.finish(record_id, outcome, time.time(), ms)
        except StoreError as exc:
            self.log.error("store.write_failed", error=str(exc))

    def credit(self, event: events.Event) -> None:
        """A later success of a command that failed: its last failure counts as healed."""
        if self.store is None or not event.command:
            return
        try:
            credited = self.store.credit(project_of(event), event.command, time.time(),
                                         within=self.config.loop_breaker_window_seconds)
        except StoreError as exc:
            self.log.error("store.write_failed", error=str(exc))
            return
        if credited is not None:
            self.log.info("store.credited", record=credited, command=event.command[:200])

    def breaker(self, plan: Any, result: Classification, event: events.Event) -> tuple[bool, int]:
        """Whether the recovery may run again for this failure, and how often it failed."""
        sig = signatures.signature(result.cls, result.pattern, event.output).id
        try:
            attempt = should_attempt(
                self.store, project_of(event), sig, action_text(plan.fix.kind, plan.fix.argv),
                time.time(), max_failures=self.config.loop_breaker_failures,
                window_seconds=self.config.loop_breaker_window_seconds)
        except StoreError as exc:
            self.log.error("store.read_failed", error=str(exc))
            return True, 0
        return attempt.allowed, attempt.failures
