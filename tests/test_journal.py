"""The recovery log: stable event names, JSON lines, secrets redacted, rotation by size."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import structlog

from recoverd import journal, logview

SECRET = "sk-ant-api03-AbCdEf0123456789xyz"


@pytest.mark.parametrize("text,leak", [
    (f"ANTHROPIC_API_KEY={SECRET}", SECRET),
    (f"export ANTHROPIC_API_KEY='{SECRET}'", SECRET),
    ("pip install --index-url https://bob:hunter2@pypi.corp.example/simple x", "hunter2"),
    ("git push https://x-access-token:ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/a/b", "ghp_"),
    ("curl -H 'Authorization: Bearer abcdef0123456789abcdef'", "abcdef0123456789abcdef"),
    ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
    ("aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    (f"token: {SECRET}", SECRET),
])
def test_redact_removes_secrets(text: str, leak: str) -> None:
    cleaned = journal.redact(text)
    assert leak not in cleaned
    assert journal.REDACTED in cleaned


def test_redact_keeps_ordinary_text() -> None:
    text = "ModuleNotFoundError: No module named 'yaml' at tests/test_token_parser.py:3"
    assert journal.redact(text) == text


def test_redact_survives_lone_surrogates() -> None:
    """A JSON escape like \\udcff decodes to a lone surrogate, which UTF-8 cannot carry."""
    cleaned = journal.redact(f"ANTHROPIC_API_KEY={SECRET} \udcff")
    assert SECRET not in cleaned and journal.REDACTED in cleaned
    assert journal.redact("plain \udcff") == "plain \udcff"


def test_secret_keys_are_redacted_whole() -> None:
    assert journal.redact_value({"api_key": "plain", "n": 1}) == {"api_key": "[REDACTED]", "n": 1}


def configure_to(path: Path, max_bytes: int = 5 << 20) -> None:
    journal.configure(path, max_bytes=max_bytes, backups=2)


def read_events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def reset_logging() -> object:
    yield
    logger = logging.getLogger(journal.LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    structlog.reset_defaults()


def test_events_are_json_lines_with_redacted_fields(tmp_path: Path) -> None:
    log = tmp_path / "recoverd.log"
    configure_to(log)
    journal.get().info("event.classified", command=f"ANTHROPIC_API_KEY={SECRET} claude",
                       nested={"url": "https://u:p4ss@h/x"})
    (record,) = read_events(log)
    assert record["event"] == "event.classified" and record["level"] == "info"
    assert "timestamp" in record
    assert SECRET not in log.read_text() and "p4ss" not in log.read_text()
    assert (log.stat().st_mode & 0o777) == 0o600


def test_log_rotates_by_size(tmp_path: Path) -> None:
    log = tmp_path / "recoverd.log"
    configure_to(log, max_bytes=2000)
    for i in range(100):
        journal.get().info("event.classified", n=i, filler="x" * 100)
    assert (tmp_path / "recoverd.log.1").exists()
    assert not (tmp_path / "recoverd.log.3").exists()  # backups=2
    assert log.stat().st_size <= 2000


def test_log_view_prints_oldest_first_and_passes_json(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "recoverd.log"
    configure_to(log, max_bytes=600)
    for i in range(12):
        journal.get().info("event.classified", n=i)
    assert logview.show(log, raw=True) == 0
    numbers = [json.loads(line)["n"] for line in capsys.readouterr().out.splitlines()]
    assert numbers == sorted(numbers) and numbers[-1] == 11
    assert logview.show(log) == 0
    people = capsys.readouterr().out.splitlines()
    assert people[-1].split()[2:4] == ["info", "event.classified"]
    assert people[-1].endswith("n=11")


def test_log_view_filters_by_class_project_event_and_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "recoverd.log"
    lines = [
        {"event": "event.classified", "class": "syntax_error", "cwd": "/p/a",
         "timestamp": "2026-11-20T10:00:00Z"},
        {"event": "event.classified", "class": "test_failure", "cwd": "/p/a/sub",
         "timestamp": "2026-11-21T10:00:00Z"},
        {"event": "recovery.finished", "class": "", "cwd": "/p/ab",
         "timestamp": "2026-11-21T11:00:00Z"},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in lines))

    def shown(**keep: str) -> list[str]:
        logview.show(log, raw=True, keep=logview.Filter(**keep))
        return [json.loads(x)["timestamp"] for x in capsys.readouterr().out.splitlines()]

    assert shown(cls="syntax_error") == ["2026-11-20T10:00:00Z"]
    assert shown(project="/p/a") == ["2026-11-20T10:00:00Z", "2026-11-21T10:00:00Z"]
    assert shown(event="recovery.") == ["2026-11-21T11:00:00Z"]
    assert shown(since="2026-11-21T00:00:00") == ["2026-11-21T10:00:00Z",
                                                  "2026-11-21T11:00:00Z"]
