"""Recoveries in the daemon: coalesced, one environment at a time, within the hook's budget.

Identical recoveries (same environment, same argv) asked for by several sessions at once share
one run. A recovery that outlasts the budget keeps running; its result is handed to the
session's next hook event. The loop breaker stops a recovery that keeps failing for the same
failure in the same project, and says so once.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoverd import diagnosis, recovery
from recoverd.classifier import Classification
from recoverd.config import Config
from recoverd.events import Event
from recoverd.plans import Plan

Key = tuple[str, tuple[str, ...]]
# A result no event of its session came for in this long is dropped (the session has ended).
LATE_RESULT_TTL = 6 * 3600.0


@dataclass
class Handled:
    """What a failure got: the text for Claude and the outcome for the store."""

    text: str
    outcome: str  # healed, failed, suggested, skipped, in_progress, none
    recovery_ms: float | None = None
    task: asyncio.Task[recovery.Report] | None = None  # still running when outcome is in_progress


def outcome_of(report: recovery.Report) -> str:
    """The store's word for a finished report (a test re-run gives a verdict, not a heal)."""
    if report.plan.purpose == "rerun":
        return "none"
    return report.outcome


# Decides whether a recovery may run again for this failure: (allowed, failures so far).
Breaker = Callable[[Plan, Classification, Event], tuple[bool, int]]


class Recoveries:
    def __init__(self, config: Config, log: Any, clock: Callable[[], float] = time.time,
                 reclassify: Callable[[Event], Classification] | None = None,
                 breaker: Breaker | None = None, flag: Path | None = None) -> None:
        self.config = config
        # Classifies a re-run's own output, to say which tests failed again.
        self.reclassify = reclassify
        self.log = log
        self.clock = clock
        self._tasks: dict[Key, asyncio.Task[recovery.Report]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._pending: dict[str, list[tuple[float, str]]] = {}
        # A file that exists while results wait, so the hook knows to wait for the reply.
        self.flag = flag
        self._flagged = True  # unknown: a file left by an earlier daemon is removed now
        self._set_flag(False)
        # The loop breaker reads the store; this only remembers whom it already told.
        self.breaker = breaker
        self._told: set[tuple[str, ...]] = set()
        self.runs = 0  # installs actually started (tests count them)

    # -- results for sessions that stopped waiting -----------------------------------------

    def take_pending(self, session: str) -> list[str]:
        texts = [text for _, text in self._pending.pop(session, [])] if session else []
        cutoff = self.clock() - LATE_RESULT_TTL
        for other in [s for s, items in self._pending.items() if items[-1][0] < cutoff]:
            del self._pending[other]
        if not self._pending:
            self._set_flag(False)
        return texts

    def _leave_for(self, session: str, text: str) -> None:
        if session:
            self._pending.setdefault(session, []).append((self.clock(), text))
            self._set_flag(True)

    def _set_flag(self, present: bool) -> None:
        """Touch the file system only when the flag changes (take_pending runs every event)."""
        if self.flag is None or present == self._flagged:
            return
        self._flagged = present
        try:
            if present:
                os.close(os.open(self.flag, os.O_WRONLY | os.O_CREAT, 0o600))
            else:
                self.flag.unlink(missing_ok=True)
        except OSError as exc:  # the hook then waits, or not: a result may wait one event more
            self.log.warning("recovery.flag_failed", path=str(self.flag), error=str(exc))

    # -- running ----------------------------------------------------------------------------

    async def _run(self, plan: Plan, event: Event) -> recovery.Report:
        lock = self._locks.setdefault(plan.env_key, asyncio.Lock())
        async with lock:
            self.runs += 1
            self.log.info("recovery.started", argv=plan.fix.argv, cwd=plan.cwd,
                          session=event.session_id, reason=plan.reason)
            report = await asyncio.to_thread(recovery.execute, plan, event, self.config)
        install, retried = report.install, report.retried
        if plan.purpose == "rerun" and install is not None and self.reclassify is not None:
            if install.ok:
                report.still_failing = []
            elif not install.timed_out and not install.error:
                rerun = Event(command=" ".join(plan.fix.argv), cwd=plan.cwd,
                              exit_code=install.exit_code, output=install.output,
                              kind=event.kind, source="generic")
                # By name: the re-run may spell ids differently (paths relative to its cwd).
                report.still_failing = [t.name for t in self.reclassify(rerun).failing_tests]
        self.log.info(
            "recovery.finished", outcome=report.outcome, purpose=plan.purpose,
            argv=plan.fix.argv,
            exit_code=install.exit_code if install else None,
            seconds=round(install.seconds, 3) if install else None,
            attempts=install.attempts if install else 0,
            output_tail=install.tail(20) if install else "",
            retried=retried is not None,
            retry_exit_code=retried.exit_code if retried else None,
            retry_seconds=round(retried.seconds, 3) if retried else None,
            retry_tail=retried.tail(10) if retried else "",
            still_failing=report.still_failing,
        )
        return report

    async def handle(self, event: Event, result: Classification) -> Handled | None:
        """The recovery for a failure, or None when recoverd has none for this class."""
        plan = await asyncio.to_thread(recovery.plan, event, result, self.config)
        if plan is None:
            return None
        result.fix = plan.fix
        if not plan.run:
            self.log.info("recovery.suggested", argv=plan.fix.argv, reason=plan.reason,
                          session=event.session_id)
            return Handled(diagnosis.render_plan(result, event.command, plan), "suggested")
        told_key = (plan.cwd, result.cls, result.subject, *plan.fix.argv)
        allowed, failures = (self.breaker(plan, result, event) if self.breaker and
                             plan.purpose == "install" else (True, 0))
        if not allowed:
            first = told_key not in self._told
            self._told.add(told_key)
            self.log.info("recovery.skipped", reason="loop_breaker", argv=plan.fix.argv,
                          failures=failures, told=first)
            return Handled(diagnosis.render_breaker(result, event.command, plan, failures, first),
                           "skipped")
        self._told.discard(told_key)
        key = plan.key
        task = self._tasks.get(key)
        if task is None or task.done():
            task = asyncio.create_task(self._run(plan, event))
            self._tasks[key] = task
            task.add_done_callback(functools.partial(self._finished, key))
        else:
            self.log.info("recovery.coalesced", argv=plan.fix.argv, session=event.session_id)
        done, _ = await asyncio.wait({task}, timeout=self.config.budget_seconds)
        if task in done:
            report = task.result()
            return Handled(diagnosis.render_report(result, event.command, report),
                           outcome_of(report), _ms(report))
        self.log.info("recovery.in_progress", argv=plan.fix.argv, session=event.session_id,
                      budget_seconds=self.config.budget_seconds)
        task.add_done_callback(lambda t: self._leave_for(
            event.session_id, diagnosis.render_report(result, event.command, t.result())
            if not t.cancelled() and t.exception() is None else
            "[recoverd] The background recovery did not finish."))
        return Handled(diagnosis.render_in_progress(result, event.command, plan), "in_progress",
                       task=task)

    def _finished(self, key: Key, task: asyncio.Task[recovery.Report]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]


def _ms(report: recovery.Report) -> float | None:
    return round(report.install.seconds * 1000, 3) if report.install else None
