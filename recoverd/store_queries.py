"""The SQLite store's reads for `recoverd stats`: history, figures, and unknowns' examples."""

from __future__ import annotations

from typing import Any

from recoverd.outcomes import Group, Record, SignatureGroup

__all__ = ["StatsQueries"]


_COLUMNS = ("id", "time", "expires_at", "project", "session", "signature", "class", "pattern",
            "subject", "action", "outcome", "classify_ms", "recovery_ms", "command", "command_key",
            "example", "credited_at")


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


class StatsQueries:
    """The queries behind `recoverd stats`, for `store.Store`, which runs them through `_read`."""

    def _read(self, sql: str, args: list[Any] | tuple[Any, ...]) -> list[Any]:
        raise NotImplementedError  # Store's: one query, under its lock

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
