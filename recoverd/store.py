"""The outcome store: every judged failure and what recovery made of it, in SQLite (WAL).

One writer (the daemon) and any number of readers (`recoverd stats`). Each outcome is committed
before `record` returns, so an acknowledged outcome survives a SIGKILL of the writer. Every
record expires (`expires_at`, default 30 days): no query counts an expired record, and `purge`
deletes them. The current time is always the caller's `now`, so tests control it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

from recoverd import signatures
from recoverd.outcomes import (
    CREDITABLE,
    DEFAULT_TTL_SECONDS,
    OUTCOMES,
    Outcome,
    StoreError,
    prepare,
)
from recoverd.store_queries import StatsQueries

__all__ = ["Store"]


def _migrate_1(db: sqlite3.Connection) -> None:
    outcomes = ", ".join(f"'{o}'" for o in sorted(OUTCOMES))  # constants, not input
    db.execute(f"""
        CREATE TABLE outcomes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time REAL NOT NULL,
            expires_at REAL NOT NULL,
            project TEXT NOT NULL,
            session TEXT NOT NULL DEFAULT '',
            signature TEXT NOT NULL,
            class TEXT NOT NULL,
            pattern TEXT NOT NULL DEFAULT '',
            subject TEXT NOT NULL DEFAULT '',
            action TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL CHECK (outcome IN ({outcomes})),
            classify_ms REAL,
            recovery_ms REAL,
            command TEXT NOT NULL DEFAULT '',
            command_key TEXT NOT NULL DEFAULT '',
            example TEXT NOT NULL DEFAULT '',
            credited_at REAL
        )""")
    # A signature's template, once: it is what the signature hashes, so the first one stands.
    db.execute("""
        CREATE TABLE signatures (
            class TEXT NOT NULL,
            signature TEXT NOT NULL,
            pattern TEXT NOT NULL,
            template TEXT NOT NULL,
            PRIMARY KEY (class, signature)
        ) WITHOUT ROWID""")
    # The loop breaker's and credit's lookups, purge's, then covering indexes for stats so that
    # its scans never read the rows' long texts: counts per pattern, recovery times in order
    # (medians), and unknown failures per signature.
    db.execute("CREATE INDEX outcomes_breaker ON outcomes (project, signature, action, time)")
    db.execute("CREATE INDEX outcomes_command ON outcomes (project, command_key, time)")
    db.execute("CREATE INDEX outcomes_expiry ON outcomes (expires_at)")
    db.execute("CREATE INDEX outcomes_figures ON outcomes"
               " (class, pattern, outcome, time, expires_at, project)")
    db.execute("CREATE INDEX outcomes_project_figures ON outcomes"
               " (project, class, pattern, outcome, time, expires_at)")
    db.execute("CREATE INDEX outcomes_pattern_times ON outcomes"
               " (class, pattern, recovery_ms, expires_at, time, project)"
               " WHERE recovery_ms IS NOT NULL")
    db.execute("CREATE INDEX outcomes_class_times ON outcomes"
               " (class, recovery_ms, expires_at, time, project) WHERE recovery_ms IS NOT NULL")
    db.execute("CREATE INDEX outcomes_signatures ON outcomes"
               " (class, signature, time, expires_at, project)")


# Ordered: migration N brings schema version N-1 to N. Append; never edit a released one.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_1]
SCHEMA_VERSION = len(MIGRATIONS)


class Store(StatsQueries):
    """The SQLite outcome store. Thread-safe: one connection, one lock."""

    def __init__(self, db: sqlite3.Connection, ttl_seconds: float) -> None:
        self._db = db
        self._lock = threading.Lock()
        self.ttl_seconds = ttl_seconds

    @classmethod
    def open(cls, path: Path | str, *, ttl_seconds: float = DEFAULT_TTL_SECONDS,
             synchronous: str = "NORMAL") -> Store:
        """Open (creating it 0600) and migrate the store at `path`. `synchronous`: NORMAL
        survives a crash of the process (SIGKILL); FULL also a crash of the machine."""
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise StoreError(f"synchronous must be NORMAL or FULL (or OFF, EXTRA), "
                             f"not {synchronous!r}")
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Commands and outputs are the user's: the file (and so its -wal and -shm, which
            # SQLite creates with the same mode) is readable by them alone.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            db = sqlite3.connect(path, timeout=5.0, isolation_level=None,
                                 check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the store: {exc}") from None
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"{path}: WAL mode unavailable (journal_mode={mode})")
            db.execute(f"PRAGMA synchronous={synchronous.upper()}")  # checked above
            # Up to 16 MB of pages kept between queries: stats' indexes stay in memory.
            db.execute("PRAGMA cache_size=-16384")
            store = cls(db, ttl_seconds)
            store._migrate()
        except BaseException:
            db.close()
            raise
        return store

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, committed on leaving (the lock serialises threads)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"store write failed: {exc}") from None

    def _read(self, sql: str, args: list[Any] | tuple[Any, ...]) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"store read failed: {exc}") from None

    def _migrate(self) -> None:
        if self.schema_version() == len(MIGRATIONS):
            return  # the common case needs no write lock (a reader may open while we write)
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta "
                       "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0  # read again: another process may have migrated
            if version > len(MIGRATIONS):
                raise StoreError(f"the store has schema version {version}; this recoverd knows "
                                 f"up to {len(MIGRATIONS)}")
            for number, migrate in enumerate(MIGRATIONS[version:], start=version + 1):
                migrate(db)
                db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(number),))

    def schema_version(self) -> int:
        if not self._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'", ()):
            return 0
        row = self._read("SELECT value FROM meta WHERE key = 'schema_version'", ())
        return int(row[0][0]) if row else 0

    # -- writing ---------------------------------------------------------------------------

    def record(self, outcome: Outcome, now: float) -> int:
        """Store one outcome; committed when this returns its id."""
        o = prepare(outcome)
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO outcomes (time, expires_at, project, session, signature, class,"
                " pattern, subject, action, outcome, classify_ms, recovery_ms, command,"
                " command_key, example) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (now, now + self.ttl_seconds, o.project, o.session, o.signature, o.cls,
                 o.pattern, o.subject, o.action, o.outcome, o.classify_ms, o.recovery_ms,
                 o.command, signatures.command_key(o.command), o.example))
            db.execute("INSERT INTO signatures (class, signature, pattern, template)"
                       " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                       (o.cls, o.signature, o.pattern, o.template))
            return int(cursor.lastrowid or 0)

    def finish(self, record_id: int, outcome: str, now: float,
               recovery_ms: float | None = None) -> bool:
        """Settle an `in_progress` outcome once its background recovery ends."""
        if outcome not in OUTCOMES:
            raise StoreError(f"unknown outcome {outcome!r}")
        with self._write() as db:
            cursor = db.execute(
                "UPDATE outcomes SET outcome = ?, recovery_ms = COALESCE(?, recovery_ms)"
                " WHERE id = ? AND outcome = 'in_progress' AND expires_at > ?",
                (outcome, recovery_ms, record_id, now))
            return cursor.rowcount == 1

    def credit(self, project: str, command: str, now: float, *,
               within: float = 3600.0) -> int | None:
        """A command that failed now succeeded: when its latest outcome in this project (within
        `within` seconds) was `failed` or `suggested`, mark it healed-by-credit. Returns the id
        credited, or None."""
        key = signatures.command_key(command)
        with self._write() as db:
            row = db.execute(
                "SELECT id, outcome, credited_at FROM outcomes WHERE project = ?"
                " AND command_key = ? AND time >= ? AND time <= ? AND expires_at > ?"
                " ORDER BY time DESC, id DESC LIMIT 1",
                (project, key, now - within, now, now)).fetchone()
            if row is None or row[1] not in CREDITABLE or row[2] is not None:
                return None
            db.execute("UPDATE outcomes SET outcome = 'healed', credited_at = ? WHERE id = ?",
                       (now, row[0]))
            return int(row[0])

    def purge(self, now: float) -> int:
        """Delete expired records, in short batches; returns how many."""
        total = 0
        while True:
            with self._write() as db:
                deleted = db.execute(
                    "DELETE FROM outcomes WHERE id IN (SELECT id FROM outcomes"
                    " WHERE expires_at <= ? LIMIT 5000)", (now,)).rowcount
            total += deleted
            if deleted < 5000:
                break
        with self._write() as db:
            db.execute("DELETE FROM signatures WHERE NOT EXISTS (SELECT 1 FROM outcomes AS o"
                       " WHERE o.class = signatures.class AND o.signature = signatures.signature)")
        return total

    # -- the loop breaker ------------------------------------------------------------------

    def recent_failures(self, project: str, signature: str, action: str, since: float,
                        now: float) -> int:
        rows = self._read(
            "SELECT COUNT(*) FROM outcomes WHERE project = ? AND signature = ? AND action = ?"
            " AND time >= ? AND outcome = 'failed' AND expires_at > ?",
            (project, signature, action, since, now))
        return int(rows[0][0])

    def last_success(self, project: str, signature: str, action: str | None,
                     now: float) -> float | None:
        """When a recovery (this `action`, or any when None) last healed this failure here."""
        sql = ("SELECT MAX(time) FROM outcomes WHERE project = ? AND signature = ?"
               " AND outcome = 'healed' AND expires_at > ?")
        args: list[Any] = [project, signature, now]
        if action is not None:
            sql += " AND action = ?"
            args.append(action)
        value = self._read(sql, args)[0][0]
        return None if value is None else float(value)

    def integrity_check(self) -> str:
        return str(self._read("PRAGMA integrity_check", ())[0][0])
