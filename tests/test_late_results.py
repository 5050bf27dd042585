"""Late recovery results: kept per session, flagged on disk for the hook, dropped when stale."""

from __future__ import annotations

from pathlib import Path

from recoverd import config, journal
from recoverd.recoveries import LATE_RESULT_TTL, Recoveries


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make(tmp_path: Path, clock: Clock) -> tuple[Recoveries, Path]:
    flag = tmp_path / "late-results"
    cfg = config.load({"RECOVERD_HOME": str(tmp_path)})
    return Recoveries(cfg, journal.get(), clock=clock, flag=flag), flag


def test_the_flag_lives_exactly_as_long_as_a_result_waits(tmp_path: Path) -> None:
    clock = Clock()
    recoveries, flag = make(tmp_path, clock)
    assert not flag.exists()
    recoveries._leave_for("a", "first")
    recoveries._leave_for("b", "other")
    recoveries._leave_for("a", "second")
    assert flag.exists() and flag.stat().st_mode & 0o777 == 0o600
    assert recoveries.take_pending("") == []
    assert recoveries.take_pending("a") == ["first", "second"]
    assert flag.exists()  # b's result still waits
    assert recoveries.take_pending("a") == []
    assert recoveries.take_pending("b") == ["other"]
    assert not flag.exists()


def test_a_stale_flag_from_an_earlier_daemon_is_removed(tmp_path: Path) -> None:
    (tmp_path / "late-results").touch()
    _, flag = make(tmp_path, Clock())
    assert not flag.exists()


def test_results_of_sessions_that_never_came_back_expire(tmp_path: Path) -> None:
    clock = Clock()
    recoveries, flag = make(tmp_path, clock)
    recoveries._leave_for("gone", "old news")
    clock.now += LATE_RESULT_TTL / 2
    recoveries._leave_for("active", "fresh")
    clock.now += LATE_RESULT_TTL / 2 + 1
    assert recoveries.take_pending("someone") == []
    assert flag.exists()  # "active" is within its time
    assert recoveries.take_pending("gone") == []
    assert recoveries.take_pending("active") == ["fresh"]
    assert not flag.exists()
