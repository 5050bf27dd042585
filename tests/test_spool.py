"""The spool the hook writes and the daemon drains: oldest first, complete files only."""

from __future__ import annotations

from pathlib import Path

import structlog
from structlog.testing import capture_logs

from recoverd import spool


def test_events_are_taken_oldest_first_and_removed(tmp_path: Path) -> None:
    for name, body in (("1700000000000002-9.event", b"second"),
                       ("1700000000000001-7.event", b"first"),
                       ("1700000000000003-8.event.tmp", b"half-written")):
        (tmp_path / name).write_bytes(body)
    assert spool.waiting(tmp_path) == 2
    assert [payload for _, payload in spool.take(tmp_path, None)] == [b"first", b"second"]
    assert spool.waiting(tmp_path) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["1700000000000003-8.event.tmp"]


def test_no_spool_folder_is_an_empty_spool(tmp_path: Path) -> None:
    assert list(spool.take(tmp_path / "missing", None)) == []
    assert spool.waiting(tmp_path / "missing") == 0


def test_an_unreadable_event_is_logged_and_left(tmp_path: Path) -> None:
    (tmp_path / "1-1.event").mkdir()  # a folder where a file should be: reading it fails
    (tmp_path / "2-1.event").write_bytes(b"fine")
    with capture_logs() as logs:
        taken = list(spool.take(tmp_path, structlog.get_logger()))
    assert taken == [("2-1.event", b"fine")]
    assert [entry["event"] for entry in logs] == ["spool.unreadable"]
    assert (tmp_path / "1-1.event").exists()
