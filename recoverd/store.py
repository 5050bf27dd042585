"""The outcome store: every judged failure and what recovery made of it, in SQLite (WAL).

One writer (the daemon) and any number of readers (`recoverd stats`). Each outcome is committed
before `record` returns, so an acknowledged outcome survives a SIGKILL of the writer. Every
record expires (`expires_at`, default 30 days): no query counts an expired record, and `purge`
deletes them. The current time is always the caller's `now`, so tests control it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from recoverd import signatures
from recoverd.journal import redact

if TYPE_CHECKING:
    from recoverd.classifier import Classification
    from recoverd.events import Event

__all__ = ["Attempt", "Group", "Outcome", "OutcomeStore", "Record", "SignatureGroup", "Store",
           "StoreError", "action_text", "outcome_for", "should_attempt"]

OUTCOMES = frozenset({"healed", "failed", "suggested", "skipped", "in_progress", "none"})
CREDITABLE = frozenset({"failed", "suggested"})  # what a later success of the command heals
DEFAULT_TTL_SECONDS = 30 * 86400.0


class StoreError(RuntimeError):
    """The store cannot be opened, read or written; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What happened to one judged failure, as the daemon reports it."""

    project: str  # the project's root path
    signature: str  # signatures.Signature.id
    cls: str
    outcome: str  # one of OUTCOMES
    session: str = ""
    template: str = ""  # signatures.Signature.template
    pattern: str = ""
    subject: str = ""
    action: str = ""  # action_text(kind, argv)
    classify_ms: float | None = None
    recovery_ms: float | None = None
    command: str = ""
    example: str = ""  # signatures.example(output), kept for unknown failures only


@dataclass(frozen=True, kw_only=True)
class Record(Outcome):
    """A stored outcome."""

    id: int
    time: float
    expires_at: float
    credited_at: float | None = None  # when a later success of the command healed it

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Record:
        def number(key: str) -> float | None:
            value = row.get(key)
            return None if value in (None, "") else float(value)

        return cls(
            id=int(row["id"]), time=float(row["time"]), expires_at=float(row["expires_at"]),
            project=str(row["project"]), session=str(row["session"]),
            signature=str(row["signature"]), template=str(row["template"]),
            cls=str(row["class"]), pattern=str(row["pattern"]), subject=str(row["subject"]),
            action=str(row["action"]), outcome=str(row["outcome"]),
            classify_ms=number("classify_ms"), recovery_ms=number("recovery_ms"),
            command=str(row["command"]), example=str(row["example"]),
            credited_at=number("credited_at"))


@dataclass(frozen=True, kw_only=True)
class Group:
    """Figures of one class (pattern "") or one class and pattern."""

    cls: str
    pattern: str
    count: int
    healed: int
    failed: int
    median_recovery_ms: float | None
    last_seen: float
    expires_at: float  # when the newest record of the group expires


@dataclass(frozen=True, kw_only=True)
class SignatureGroup:
    signature: str
    cls: str
    pattern: str
    template: str
    count: int
    first_seen: float
    last_seen: float
    expires_at: float


def action_text(kind: str, argv: list[str] | tuple[str, ...] = ()) -> str:
    """The action as stored and matched by the loop breaker: fix kind and argv, redacted."""
    return redact(f"{kind}: {shlex.join(argv)}" if argv else kind)


def prepare(outcome: Outcome) -> Outcome:
    """Check an outcome and redact its free text before it is stored anywhere."""
    if outcome.outcome not in OUTCOMES:
        raise StoreError(f"unknown outcome {outcome.outcome!r}")
    # Output is kept only where no pattern explains it: to mine and draft patterns from.
    example = signatures.example(outcome.example) if outcome.cls == "unknown" else ""
    return replace(outcome, command=redact(outcome.command), action=redact(outcome.action),
                   subject=redact(outcome.subject), template=redact(outcome.template),
                   example=example)


def outcome_for(event: Event, result: Classification, outcome: str, *, project: str,
                classify_ms: float | None = None, recovery_ms: float | None = None) -> Outcome:
    """The outcome of one judged event, fingerprinted; the output is kept for unknowns."""
    sig = signatures.signature(result.cls, result.pattern, event.output)
    fix = result.fix
    return Outcome(
        project=project, session=event.session_id, signature=sig.id, template=sig.template,
        cls=result.cls, pattern=result.pattern, subject=result.subject, outcome=outcome,
        action=action_text(fix.kind, fix.argv) if fix is not None else "",
        classify_ms=classify_ms, recovery_ms=recovery_ms, command=event.command,
        example=event.output if result.cls == "unknown" else "")


class OutcomeStore(Protocol):
    """What the daemon and `recoverd stats` need from a store (SQLite or Redis)."""

    ttl_seconds: float

    def record(self, outcome: Outcome, now: float) -> int: ...
    def finish(self, record_id: int, outcome: str, now: float,
               recovery_ms: float | None = None) -> bool: ...
    def credit(self, project: str, command: str, now: float, *,
               within: float = 3600.0) -> int | None: ...
    def purge(self, now: float) -> int: ...
    def recent_failures(self, project: str, signature: str, action: str, since: float,
                        now: float) -> int: ...
    def last_success(self, project: str, signature: str, action: str | None,
                     now: float) -> float | None: ...
    def history(self, now: float, *, project: str | None = None, since: float | None = None,
                signature: str | None = None, limit: int | None = None) -> list[Record]: ...
    def groups(self, now: float, *, project: str | None = None,
               since: float | None = None) -> tuple[list[Group], list[Group]]: ...
    def signature_groups(self, now: float, *, cls: str = "unknown", project: str | None = None,
                         since: float | None = None) -> list[SignatureGroup]: ...
    def examples(self, signature: str, now: float, *, project: str | None = None,
                 since: float | None = None, limit: int = 3) -> list[str]: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Attempt:
    allowed: bool
    failures: int  # failures of this action for this failure here, since the window or a heal
    last_success: float | None


def should_attempt(store: OutcomeStore, project: str, signature: str, action: str, now: float,
                   *, max_failures: int = 2, window_seconds: float = 3600.0) -> Attempt:
    """The loop breaker: a recovery that failed `max_failures` times for this failure in this
    project within the window is not tried again; a heal since then clears the count."""
    since = now - window_seconds
    healed = store.last_success(project, signature, action, now)
    if healed is not None and healed > since:
        since = healed
    failures = store.recent_failures(project, signature, action, since, now)
    return Attempt(failures < max_failures, failures, healed)


_COLUMNS = ("id", "time", "expires_at", "project", "session", "signature", "class", "pattern",
            "subject", "action", "outcome", "classify_ms", "recovery_ms", "command", "command_key",
            "example", "credited_at")


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


def _filters(now: float, project: str | None, since: float | None, table: str = "outcomes",
             all_live: bool = False) -> tuple[str, list[Any]]:
    # `+expires_at`: purge's index on expires_at would make a scan of live records (nearly all
    # of them) fetch every row; the covering indexes serve these queries. When no record has
    # expired (the daemon purges), the test is true of every row and is left out.
    where: list[str] = ["1" if all_live else f"+{table}.expires_at > ?"]
    args: list[Any] = [] if all_live else [now]
    if project is not None:
        where.append(f"{table}.project = ?")
        args.append(project)
    if since is not None:
        where.append(f"{table}.time >= ?")
        args.append(since)
    return " AND ".join(where), args


class Store:
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

    # -- reading for stats -----------------------------------------------------------------

    def history(self, now: float, *, project: str | None = None, since: float | None = None,
                signature: str | None = None, limit: int | None = None) -> list[Record]:
        """Unexpired records, newest first."""
        where, args = _filters(now, project, since, table="o")
        if signature is not None:
            where += " AND o.signature = ?"
            args.append(signature)
        columns = ", ".join(f"o.{c}" for c in _COLUMNS)
        sql = (f"SELECT {columns}, COALESCE(s.template, '') FROM outcomes AS o"
               " LEFT JOIN signatures AS s ON s.class = o.class AND s.signature = o.signature"
               f" WHERE {where} ORDER BY o.time DESC, o.id DESC")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [Record.from_row(dict(zip((*_COLUMNS, "template"), row, strict=True)))
                for row in self._read(sql, args)]

    def groups(self, now: float, *, project: str | None = None,
               since: float | None = None) -> tuple[list[Group], list[Group]]:
        """Figures per class and per class and pattern: counts, heals, failures, last seen,
        latest expiry and the median recovery time."""
        where, args = _filters(now, project, since, all_live=self._all_live(now))
        rows = self._read(
            "SELECT class, pattern, COUNT(*), SUM(outcome = 'healed'), SUM(outcome = 'failed'),"
            f" MAX(time), MAX(expires_at) FROM outcomes WHERE {where} GROUP BY class, pattern",
            args)
        classes: dict[str, list[Any]] = {}
        for cls, _, count, healed, failed, last, expires in rows:
            c = classes.setdefault(cls, [cls, "", 0, 0, 0, last, expires])
            c[2:5] = c[2] + count, c[3] + healed, c[4] + failed
            c[5], c[6] = max(c[5], last), max(c[6], expires)
        by_pattern = [Group(cls=r[0], pattern=r[1], count=r[2], healed=r[3], failed=r[4],
                            median_recovery_ms=self._median(where, args, r[0], r[1]),
                            last_seen=r[5], expires_at=r[6]) for r in rows]
        by_class = [Group(cls=c[0], pattern="", count=c[2], healed=c[3], failed=c[4],
                          median_recovery_ms=self._median(where, args, c[0], None),
                          last_seen=c[5], expires_at=c[6]) for c in classes.values()]
        return by_class, by_pattern

    def _all_live(self, now: float) -> bool:
        """Whether no record has expired yet: one step down the expiry index."""
        oldest = self._read("SELECT MIN(expires_at) FROM outcomes", ())[0][0]
        return oldest is None or oldest > now

    def _median(self, where: str, args: list[Any], cls: str, pattern: str | None) -> float | None:
        """The median recovery time of a class (or class and pattern): two steps along an
        index already in recovery-time order, rather than every time brought into Python."""
        index, keys = "outcomes_class_times", [cls]
        sql = " AND class = ?"
        if pattern is not None:
            index, sql = "outcomes_pattern_times", sql + " AND pattern = ?"
            keys.append(pattern)
        base = f"FROM outcomes INDEXED BY {index} WHERE {where}{sql} AND recovery_ms IS NOT NULL"
        count = int(self._read(f"SELECT COUNT(*) {base}", [*args, *keys])[0][0])
        if count == 0:
            return None
        middle = self._read(f"SELECT recovery_ms {base} ORDER BY recovery_ms LIMIT ? OFFSET ?",
                            [*args, *keys, 2 - count % 2, (count - 1) // 2])
        return float(sum(r[0] for r in middle) / len(middle))

    def signature_groups(self, now: float, *, cls: str = "unknown", project: str | None = None,
                         since: float | None = None) -> list[SignatureGroup]:
        """Figures per signature of class `cls`, in order of first sight. A signature's pattern
        and template are those it was first recorded with (they are what it hashes)."""
        where, args = _filters(now, project, since, all_live=self._all_live(now))
        rows = self._read(
            "SELECT g.signature, s.class, s.pattern, s.template, g.n, g.first, g.last, g.expires"
            " FROM (SELECT signature, COUNT(*) AS n, MIN(time) AS first, MAX(time) AS last,"
            f" MAX(expires_at) AS expires FROM outcomes WHERE class = ? AND {where}"
            " GROUP BY signature) AS g"
            " JOIN signatures AS s ON s.class = ? AND s.signature = g.signature"
            " ORDER BY g.first, g.signature", [cls, *args, cls])
        return [SignatureGroup(signature=r[0], cls=r[1], pattern=r[2], template=r[3], count=r[4],
                               first_seen=r[5], last_seen=r[6], expires_at=r[7]) for r in rows]

    def examples(self, signature: str, now: float, *, project: str | None = None,
                 since: float | None = None, limit: int = 3) -> list[str]:
        """The newest distinct stored output excerpts of an unknown failure's signature."""
        where, args = _filters(now, project, since)
        out: list[str] = []
        # Examples are kept for unknown failures only; newest first, a few more than asked
        # so that repeats can be skipped.
        for (text,) in self._read(
                f"SELECT example FROM outcomes WHERE class = 'unknown' AND signature = ?"
                f" AND {where} AND example != '' ORDER BY time DESC, id DESC LIMIT ?",
                [signature, *args, limit * 10]):
            if text not in out:
                out.append(text)
        return out[:limit]

    def integrity_check(self) -> str:
        return str(self._read("PRAGMA integrity_check", ())[0][0])
