"""Recoveries in the daemon: coalesced, one environment at a time, within the hook's budget.

Identical recoveries (same environment, same argv) asked for by several sessions at once share
one run. A recovery that outlasts the budget keeps running; its result is handed to the
session's next hook event. The loop breaker stops a recovery that keeps failing for the same
failure in the same project, and says so once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from recoverd import diagnosis, recovery
from recoverd.classifier import Classification
from recoverd.config import Config
from recoverd.events import Event

Key = tuple[str, tuple[str, ...]]


@dataclass
class Breaker:
    """Failures of one recovery for one failure in one project, within a time window."""

    failures: list[float] = field(default_factory=list)
    told: bool = False


class Recoveries:
    def __init__(self, config: Config, log: Any, clock: Callable[[], float] = time.time,
                 reclassify: Callable[[Event], Classification] | None = None) -> None:
        self.config = config
        # Classifies a re-run's own output, to say which tests failed again.
        self.reclassify = reclassify
        self.log = log
        self.clock = clock
        self._tasks: dict[Key, asyncio.Task[recovery.Report]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._pending: dict[str, list[str]] = {}
        self._breakers: dict[tuple[str, ...], Breaker] = {}
        self.runs = 0  # installs actually started (tests count them)

    # -- results for sessions that stopped waiting -----------------------------------------

    def take_pending(self, session: str) -> list[str]:
        return self._pending.pop(session, []) if session else []

    def _leave_for(self, session: str, text: str) -> None:
        if session:
            self._pending.setdefault(session, []).append(text)

    # -- the loop breaker --------------------------------------------------------------------

    def _breaker_key(self, plan: recovery.Plan, result: Classification) -> tuple[str, ...]:
        return (plan.cwd, result.cls, result.subject, *plan.fix.argv)

    def _tripped(self, key: tuple[str, ...]) -> Breaker | None:
        breaker = self._breakers.get(key)
        if breaker is None:
            return None
        horizon = self.clock() - self.config.loop_breaker_window_seconds
        breaker.failures = [t for t in breaker.failures if t >= horizon]
        if len(breaker.failures) >= self.config.loop_breaker_failures:
            return breaker
        breaker.told = False
        return None

    # -- running ----------------------------------------------------------------------------

    async def _run(self, plan: recovery.Plan, event: Event) -> recovery.Report:
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

    async def handle(self, event: Event, result: Classification) -> str | None:
        """The recovery text for Claude, or None when recoverd has no recovery for this."""
        plan = await asyncio.to_thread(recovery.plan, event, result, self.config)
        if plan is None:
            return None
        result.fix = plan.fix
        if not plan.run:
            self.log.info("recovery.suggested", argv=plan.fix.argv, reason=plan.reason,
                          session=event.session_id)
            return diagnosis.render_plan(result, event.command, plan)
        breaker_key = self._breaker_key(plan, result)
        breaker = self._tripped(breaker_key)
        if breaker is not None:
            first = not breaker.told
            breaker.told = True
            self.log.info("recovery.skipped", reason="loop_breaker", argv=plan.fix.argv,
                          failures=len(breaker.failures), told=first)
            return diagnosis.render_breaker(result, event.command, plan, len(breaker.failures),
                                            first)
        key = plan.key
        task = self._tasks.get(key)
        if task is None or task.done():
            task = asyncio.create_task(self._run(plan, event))
            self._tasks[key] = task
            task.add_done_callback(lambda t, k=key: self._finished(k, t, breaker_key))
        else:
            self.log.info("recovery.coalesced", argv=plan.fix.argv, session=event.session_id)
        done, _ = await asyncio.wait({task}, timeout=self.config.budget_seconds)
        if task in done:
            return diagnosis.render_report(result, event.command, task.result())
        self.log.info("recovery.in_progress", argv=plan.fix.argv, session=event.session_id,
                      budget_seconds=self.config.budget_seconds)
        task.add_done_callback(lambda t: self._leave_for(
            event.session_id, diagnosis.render_report(result, event.command, t.result())
            if not t.cancelled() and t.exception() is None else
            "[recoverd] The background recovery did not finish."))
        return diagnosis.render_in_progress(result, event.command, plan)

    def _finished(self, key: Key, task: asyncio.Task[recovery.Report],
                  breaker_key: tuple[str, ...]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if task.cancelled() or task.exception() is not None:
            return
        report = task.result()
        if report.plan.purpose != "install":
            return  # a test re-run gives a verdict; it is not a recovery that can fail
        retried_ok = report.retried is None or report.retried.exit_code == 0
        if not (report.healed and retried_ok):
            self._breakers.setdefault(breaker_key, Breaker()).failures.append(self.clock())
