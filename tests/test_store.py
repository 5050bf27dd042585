"""The SQLite outcome store. The `check_*` scenarios take any store: test_redis_store runs them
against Redis too, so both backends keep one contract."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recoverd import signatures
from recoverd import store as store_module
from recoverd.classifier import Classification
from recoverd.events import Event
from recoverd.fixes import Fix
from recoverd.outcomes import (
    Outcome,
    OutcomeStore,
    StoreError,
    action_text,
    outcome_for,
    should_attempt,
)
from recoverd.store import Store

DAY = 86400.0
T0 = 1_700_000_000.0
PIP = action_text("pip_install", ["python", "-m", "pip", "install", "pyyaml"])


def outcome(**fields: object) -> Outcome:
    values: dict[str, object] = {"project": "/p/one", "signature": "sig_a", "cls": "unknown",
                                 "outcome": "none"}
    values.update(fields)
    return Outcome(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "store.sqlite3", ttl_seconds=30 * DAY) as opened:
        yield opened


# --- scenarios every backend must pass ---------------------------------------------------


def check_ttl(s: OutcomeStore) -> None:
    """A record counts until its expires_at and never after; purge removes it then."""
    s.record(outcome(outcome="failed", action=PIP), T0)
    second = s.record(outcome(outcome="failed", action=PIP), T0 + 10 * DAY)
    ttl = s.ttl_seconds
    assert s.recent_failures("/p/one", "sig_a", PIP, 0, T0 + 10 * DAY) == 2
    assert s.recent_failures("/p/one", "sig_a", PIP, 0, T0 + ttl - 1) == 2
    assert s.recent_failures("/p/one", "sig_a", PIP, 0, T0 + ttl) == 1  # the first expired
    assert [r.id for r in s.history(T0 + ttl)] == [second]
    assert s.groups(T0 + ttl)[1][0].count == 1
    assert s.purge(T0 + ttl - 1) == 0
    assert s.purge(T0 + ttl) == 1
    assert len(s.history(T0)) == 1  # the expired one is gone even for a clock turned back
    assert s.purge(T0 + 10 * DAY + ttl) == 1 and s.history(T0) == []


def check_loop_breaker(s: OutcomeStore) -> None:
    """Two failures of one recovery for one failure in one project stop a third."""
    def attempt(now: float, project: str = "/p/one", action: str = PIP) -> bool:
        return should_attempt(s, project, "sig_a", action, now, max_failures=2,
                              window_seconds=3600).allowed

    assert attempt(T0)
    s.record(outcome(outcome="failed", action=PIP), T0)
    assert attempt(T0 + 60)
    s.record(outcome(outcome="failed", action=PIP), T0 + 60)
    assert not attempt(T0 + 120)  # the third identical failing recovery is not run
    verdict = should_attempt(s, "/p/one", "sig_a", PIP, T0 + 120, max_failures=2,
                             window_seconds=3600)
    assert verdict.failures == 2 and verdict.last_success is None
    assert attempt(T0 + 120, project="/p/two")  # another project has its own history
    assert attempt(T0 + 120, action=action_text("uv_add", ["uv", "add", "pyyaml"]))
    assert attempt(T0 + 3661)  # the window has passed
    # A recovery that worked clears the failures before it.
    s.record(outcome(outcome="healed", action=PIP), T0 + 200)
    assert s.last_success("/p/one", "sig_a", PIP, T0 + 300) == T0 + 200
    assert s.last_success("/p/one", "sig_a", None, T0 + 300) == T0 + 200
    assert s.last_success("/p/one", "sig_b", None, T0 + 300) is None
    assert attempt(T0 + 300)
    assert s.recent_failures("/p/one", "sig_a", PIP, T0, T0 + 300) == 2


def check_credit(s: OutcomeStore) -> None:
    """A later success of the same command heals its latest failed or suggested outcome."""
    command = "python -m pytest  tests/test_app.py"
    failed = s.record(outcome(outcome="failed", action=PIP, command=command), T0)
    assert s.credit("/p/two", command, T0 + 10) is None  # another project
    assert s.credit("/p/one", "python -m pytest", T0 + 10) is None  # another command
    assert s.credit("/p/one", "python -m pytest tests/test_app.py", T0 + 10) == failed
    assert s.credit("/p/one", command, T0 + 20) is None  # once
    record = s.history(T0 + 30)[0]
    assert (record.outcome, record.credited_at) == ("healed", T0 + 10)
    assert s.last_success("/p/one", "sig_a", PIP, T0 + 30) == T0
    # Only the latest outcome of the command counts, and only within the window.
    s.record(outcome(outcome="suggested", command="make build"), T0 + 100)
    s.record(outcome(outcome="none", command="make build"), T0 + 200)
    assert s.credit("/p/one", "make build", T0 + 300) is None
    suggested = s.record(outcome(outcome="suggested", command="npm test"), T0 + 400)
    assert s.credit("/p/one", "npm test", T0 + 400 + 7200, within=3600) is None
    assert s.credit("/p/one", "npm test", T0 + 500, within=3600) == suggested


def check_finish(s: OutcomeStore) -> None:
    running = s.record(outcome(outcome="in_progress", action=PIP), T0)
    assert s.finish(running, "healed", T0 + 30, recovery_ms=30_000.0)
    assert not s.finish(running, "failed", T0 + 31)  # settled already
    record = s.history(T0 + 40)[0]
    assert (record.outcome, record.recovery_ms) == ("healed", 30_000.0)
    with pytest.raises(StoreError):
        s.finish(running, "bogus", T0 + 50)
    with pytest.raises(StoreError):
        s.record(outcome(outcome="bogus"), T0)


def check_redaction(s: OutcomeStore) -> None:
    secret = "sk-ant-api03-abcdefghijklmnop"
    s.record(outcome(command=f"ANTHROPIC_API_KEY={secret} ./run", action=f"retry: {secret}",
                     example=f"boom\nerror: key {secret} rejected\n" + "x" * 5000,
                     subject=f"https://u:{secret}@host/x"), T0)
    s.record(outcome(cls="missing_python_module", signature="sig_k", example="kept?"), T0 + 1)
    unknown, known = sorted(s.history(T0 + 2), key=lambda r: r.time)
    stored = f"{unknown.command} {unknown.action} {unknown.example} {unknown.subject}"
    assert secret not in stored and stored.count("[REDACTED]") == 4
    assert len(unknown.example) <= signatures.EXAMPLE_LIMIT
    assert "error: key [REDACTED] rejected" in unknown.example
    assert known.example == ""  # output is kept for unknown failures only


@pytest.mark.parametrize("scenario", [check_ttl, check_loop_breaker, check_credit, check_finish,
                                      check_redaction])
def test_scenario(store: Store, scenario: object) -> None:
    scenario(store)  # type: ignore[operator]


# --- SQLite itself -------------------------------------------------------------------------


def test_open_creates_a_private_wal_store_at_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "state" / "store.sqlite3"
    with Store.open(path) as s:
        s.record(outcome(), T0)
        assert s.schema_version() == store_module.SCHEMA_VERSION
        for file in path.parent.iterdir():
            assert file.stat().st_mode & 0o777 == 0o600, file
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT value FROM meta").fetchone()[0] == str(
            store_module.SCHEMA_VERSION)
    with Store.open(path) as again:  # reopening migrates nothing and keeps the data
        assert len(again.history(T0)) == 1


def test_purge_forgets_the_templates_of_signatures_no_record_has(store: Store) -> None:
    store.record(outcome(signature="old", template="old <num>"), T0)
    store.record(outcome(signature="new", template="new <num>"), T0 + 10 * DAY)
    assert store.purge(T0 + 30 * DAY) == 1
    rows = store._read("SELECT signature, template FROM signatures", ())
    assert rows == [("new", "new <num>")]
    assert [g.template for g in store.signature_groups(T0 + 30 * DAY)] == ["new <num>"]


def test_migrations_run_forward_once_in_order(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store.sqlite3"
    Store.open(path).close()
    ran: list[int] = []

    def add_note(db: sqlite3.Connection) -> None:
        ran.append(2)
        db.execute("ALTER TABLE outcomes ADD COLUMN note TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, add_note])
    for _ in range(2):
        with Store.open(path) as s:
            assert s.schema_version() == 2
    assert ran == [2]


def test_a_store_from_a_newer_recoverd_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Store.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        Store.open(path)


def test_an_unusable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="cannot open"):
        Store.open(tmp_path / "file" / "store.sqlite3")


@pytest.mark.usefixtures("no_leaked_threads")
def test_records_from_many_threads_all_land(store: Store) -> None:
    ids: list[int] = []

    def write() -> None:
        for i in range(50):
            ids.append(store.record(outcome(session=str(i)), T0 + i))

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 200 and len(store.history(T0)) == 200


def test_outcome_for_fingerprints_an_event() -> None:
    event = Event(command="python app.py", cwd="/p/one", exit_code=1, kind="failure",
                  source="PostToolUseFailure", session_id="s1",
                  output="Traceback\nModuleNotFoundError: No module named 'yaml'\n")
    result = Classification("missing_python_module", "python_module_not_found",
                            subject="yaml", fix=Fix("pip_install", ["pip", "install", "pyyaml"]))
    made = outcome_for(event, result, "healed", project="/p/one", classify_ms=0.2)
    expected = signatures.signature("missing_python_module", "python_module_not_found",
                                    event.output)
    assert (made.signature, made.template) == (expected.id, expected.template)
    assert made.action == "pip_install: pip install pyyaml" and made.example == ""
    unknown = outcome_for(event, Classification("unknown", ""), "none", project="/p/one")
    assert unknown.action == "" and unknown.example == event.output


# --- durability: SIGKILL during bursts of writes -------------------------------------------

# A zygote imports once, then forks one writer per round; each writer records outcomes in
# bursts and prints the id of each *after* record() returned: that line is the acknowledgement.
WRITER = r"""
import os, sys, time
from recoverd.outcomes import Outcome
from recoverd.store import Store
path = sys.argv[1]
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        store = Store.open(path)
        n = 0
        while True:
            for _ in range(int(line)):
                n += 1
                rid = store.record(Outcome(project="/p", signature="s%d" % (n % 7),
                                           cls="unknown", outcome="failed",
                                           command="cmd %d" % n, example="x" * (n % 3000)),
                                   time.time())
                os.write(1, b"ack %d\n" % rid)
            time.sleep(0.0005)
    os.write(1, b"pid %d\n" % pid)
    os.waitpid(pid, 0)
    os.write(1, b"dead\n")
"""


def test_acknowledged_outcomes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Store.open(path).close()
    rng = random.Random(5)
    zygote = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, start_new_session=True)
    assert zygote.stdin is not None and zygote.stdout is not None
    acknowledged: set[int] = set()
    deadline = time.monotonic() + 120
    try:
        for _ in range(100):
            zygote.stdin.write(f"{rng.randint(1, 40)}\n".encode())
            zygote.stdin.flush()
            header = zygote.stdout.readline().split()
            assert header[0] == b"pid", header
            writer = int(header[1])
            wanted, seen = rng.randint(1, 60), 0
            while seen < wanted:
                line = zygote.stdout.readline()
                assert line.startswith(b"ack "), line
                acknowledged.add(int(line.split()[1]))
                seen += 1
                assert time.monotonic() < deadline
            os.kill(writer, signal.SIGKILL)  # mid-burst, mid-transaction as it happens
            for line in iter(zygote.stdout.readline, b"dead\n"):
                assert line.startswith(b"ack "), line
                acknowledged.add(int(line.split()[1]))
    finally:
        try:
            os.killpg(zygote.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        zygote.wait()
    with Store.open(path) as s:
        assert s.integrity_check() == "ok"
        stored = {r.id for r in s.history(0.0)}
    assert len(acknowledged) >= 100
    assert acknowledged <= stored, sorted(acknowledged - stored)[:10]
