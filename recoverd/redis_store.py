"""The outcome store on Redis: the same interface and answers as store.Store, shared by hosts.

Keys, under a namespace (default `recoverd`):

    {ns}:next            the id counter (INCR)
    {ns}:o:{id}          one outcome, a hash; EXPIREs after the store's TTL
    {ns}:all             sorted set: every id, scored by time
    {ns}:expiry          sorted set: "{id} {index key}…", scored by expires_at (for purge)
    {ns}:b:{h}  :ps:{h}  sorted sets by time: project+signature+action (the loop breaker),
    {ns}:c:{h}  :p:{h}   project+signature, project+command (credit), project,
    {ns}:s:{h}  :k:{h}   signature, and class; each EXPIREs a TTL after its last write

As in SQLite, a record whose `expires_at` is not after the caller's `now` is never counted,
whether or not Redis has dropped it yet. Redis runs with its own persistence settings: an
acknowledged outcome survives the daemon, and survives Redis only if Redis persists it.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import statistics
from collections.abc import Iterable, Iterator
from typing import Any, Self

import redis

from recoverd import signatures
from recoverd.outcomes import (
    CREDITABLE,
    DEFAULT_TTL_SECONDS,
    OUTCOMES,
    Group,
    Outcome,
    Record,
    SignatureGroup,
    StoreError,
    prepare,
)

_BATCH = 1000


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise StoreError(f"redis store: {exc}") from None


Row = dict[str, str]


def _grouped(rows: list[Row], *, by_pattern: bool) -> list[Group]:
    buckets: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        buckets.setdefault((r["class"], r["pattern"] if by_pattern else ""), []).append(r)
    out = []
    for (cls, pattern), members in buckets.items():
        times = [float(r["recovery_ms"]) for r in members if r["recovery_ms"]]
        out.append(Group(
            cls=cls, pattern=pattern, count=len(members),
            healed=sum(r["outcome"] == "healed" for r in members),
            failed=sum(r["outcome"] == "failed" for r in members),
            median_recovery_ms=statistics.median(times) if times else None,
            last_seen=max(float(r["time"]) for r in members),
            expires_at=max(float(r["expires_at"]) for r in members)))
    return out


class RedisStore:
    """outcomes.OutcomeStore on Redis. Every method is one or a few round trips."""

    def __init__(self, client: Any, ttl_seconds: float, namespace: str) -> None:
        # Any: redis-py types every command as "result or awaitable of result".
        self._redis: Any = client
        self.ttl_seconds = ttl_seconds
        self.ns = namespace

    @classmethod
    def open(cls, url: str, *, ttl_seconds: float = DEFAULT_TTL_SECONDS,
             namespace: str = "recoverd", timeout: float = 5.0) -> RedisStore:
        """Connect to `url` (redis://host:port/db or unix://path) and check it answers."""
        with _errors():
            client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=timeout,
                                          socket_connect_timeout=timeout)
            client.ping()
        return cls(client, ttl_seconds, namespace)

    def close(self) -> None:
        self._redis.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- keys and fetching ------------------------------------------------------------------

    def _key(self, kind: str, *parts: str) -> str:
        return f"{self.ns}:{kind}:{_hash(*parts)}" if parts else f"{self.ns}:{kind}"

    def _fetch(self, ids: Iterable[str], now: float) -> list[Record]:
        """The unexpired records among `ids`, in the order given."""
        out: list[Record] = []
        ids = list(ids)
        with _errors():
            for start in range(0, len(ids), _BATCH):
                pipe = self._redis.pipeline(transaction=False)
                for rid in ids[start: start + _BATCH]:
                    pipe.hgetall(f"{self.ns}:o:{rid}")
                for row in pipe.execute():
                    if row and float(row["expires_at"]) > now:
                        out.append(Record.from_row(row))
        return out

    def _rows(self, ids: list[str], now: float, fields: tuple[str, ...]) -> list[Row]:
        """Some fields of the unexpired records among `ids`: cheaper than whole records."""
        wanted = ("expires_at", "time", *fields)
        out: list[Row] = []
        with _errors():
            for start in range(0, len(ids), _BATCH):
                pipe = self._redis.pipeline(transaction=False)
                for rid in ids[start: start + _BATCH]:
                    pipe.hmget(f"{self.ns}:o:{rid}", wanted)
                for values in pipe.execute():
                    if values[0] is not None and float(values[0]) > now:
                        out.append(dict(zip(wanted, values, strict=True)))
        return out

    def _ids(self, key: str, low: float | str = "-inf", high: float | str = "+inf") -> list[str]:
        with _errors():
            return list(self._redis.zrevrangebyscore(key, high, low))

    # -- writing ---------------------------------------------------------------------------

    def record(self, outcome: Outcome, now: float) -> int:
        o = prepare(outcome)
        command_key = signatures.command_key(o.command)
        expires_at = now + self.ttl_seconds
        ttl = max(1, math.ceil(self.ttl_seconds))
        indexes = (self._key("b", o.project, o.signature, o.action),
                   self._key("ps", o.project, o.signature), self._key("c", o.project, command_key),
                   self._key("p", o.project), self._key("s", o.signature), self._key("k", o.cls))
        with _errors():
            rid = int(self._redis.incr(self._key("next")))
            fields = {
                "id": rid, "time": repr(now), "expires_at": repr(expires_at),
                "project": o.project, "session": o.session, "signature": o.signature,
                "template": o.template, "class": o.cls, "pattern": o.pattern,
                "subject": o.subject, "action": o.action, "outcome": o.outcome,
                "classify_ms": "" if o.classify_ms is None else repr(o.classify_ms),
                "recovery_ms": "" if o.recovery_ms is None else repr(o.recovery_ms),
                "command": o.command, "command_key": command_key, "example": o.example,
                "credited_at": "",
            }
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(f"{self.ns}:o:{rid}", mapping=fields)
            pipe.expire(f"{self.ns}:o:{rid}", ttl)
            for key in indexes:
                pipe.zadd(key, {str(rid): now})
                pipe.expire(key, ttl)
            pipe.zadd(self._key("all"), {str(rid): now})
            pipe.zadd(self._key("expiry"), {" ".join((str(rid), *indexes)): expires_at})
            pipe.execute()
        return rid

    def _update_if(self, rid: int, now: float, allowed: frozenset[str],
                   fields: dict[str, str]) -> bool:
        """Set `fields` on a record if, watched, it is unexpired and its outcome in `allowed`."""
        key = f"{self.ns}:o:{rid}"
        with _errors(), self._redis.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                row = pipe.hgetall(key)
                if not row or float(row["expires_at"]) <= now or row["outcome"] not in allowed:
                    return False
                if "credited_at" in fields and row.get("credited_at"):
                    return False
                pipe.multi()
                pipe.hset(key, mapping=fields)
                pipe.execute()
                return True
            except redis.WatchError:
                return False  # changed under us: the other writer's word stands

    def finish(self, record_id: int, outcome: str, now: float,
               recovery_ms: float | None = None) -> bool:
        if outcome not in OUTCOMES:
            raise StoreError(f"unknown outcome {outcome!r}")
        fields = {"outcome": outcome}
        if recovery_ms is not None:
            fields["recovery_ms"] = repr(recovery_ms)
        return self._update_if(record_id, now, frozenset({"in_progress"}), fields)

    def credit(self, project: str, command: str, now: float, *,
               within: float = 3600.0) -> int | None:
        key = self._key("c", project, signatures.command_key(command))
        found = [r for r in self._rows(self._ids(key, now - within, now), now,
                                       ("id", "outcome", "credited_at"))
                 if now - within <= float(r["time"]) <= now]
        if not found:
            return None
        latest = max(found, key=lambda r: (float(r["time"]), int(r["id"])))
        if latest["outcome"] not in CREDITABLE or latest["credited_at"]:
            return None
        fields = {"outcome": "healed", "credited_at": repr(now)}
        rid = int(latest["id"])
        return rid if self._update_if(rid, now, CREDITABLE, fields) else None

    def purge(self, now: float) -> int:
        with _errors():
            members = self._redis.zrangebyscore(self._key("expiry"), "-inf", now)
            for start in range(0, len(members), _BATCH):
                pipe = self._redis.pipeline(transaction=True)
                for member in members[start: start + _BATCH]:
                    rid, *indexes = member.split(" ")
                    pipe.delete(f"{self.ns}:o:{rid}")
                    for key in (*indexes, self._key("all")):
                        pipe.zrem(key, rid)
                    pipe.zrem(self._key("expiry"), member)
                pipe.execute()
        return len(members)

    # -- the loop breaker ------------------------------------------------------------------

    def recent_failures(self, project: str, signature: str, action: str, since: float,
                        now: float) -> int:
        key = self._key("b", project, signature, action)
        return sum(1 for r in self._rows(self._ids(key, since), now, ("outcome",))
                   if r["outcome"] == "failed" and float(r["time"]) >= since)

    def last_success(self, project: str, signature: str, action: str | None,
                     now: float) -> float | None:
        key = (self._key("ps", project, signature) if action is None
               else self._key("b", project, signature, action))
        healed = [float(r["time"]) for r in self._rows(self._ids(key), now, ("outcome",))
                  if r["outcome"] == "healed"]
        return max(healed) if healed else None

    # -- reading for stats -----------------------------------------------------------------

    def history(self, now: float, *, project: str | None = None, since: float | None = None,
                signature: str | None = None, limit: int | None = None) -> list[Record]:
        if signature is not None:
            key = self._key("s", signature)
        else:
            key = self._key("p", project) if project is not None else self._key("all")
        records = [r for r in self._fetch(self._ids(key, "-inf" if since is None else since), now)
                   if (project is None or r.project == project)
                   and (signature is None or r.signature == signature)
                   and (since is None or r.time >= since)]
        records.sort(key=lambda r: (r.time, r.id), reverse=True)
        return records if limit is None else records[:limit]

    def _filtered(self, key: str, now: float, project: str | None, since: float | None,
                  fields: tuple[str, ...]) -> list[Row]:
        rows = self._rows(self._ids(key, "-inf" if since is None else since), now,
                          ("project", *fields))
        return [r for r in rows if (project is None or r["project"] == project)
                and (since is None or float(r["time"]) >= since)]

    def groups(self, now: float, *, project: str | None = None,
               since: float | None = None) -> tuple[list[Group], list[Group]]:
        key = self._key("p", project) if project is not None else self._key("all")
        rows = self._filtered(key, now, project, since,
                              ("class", "pattern", "outcome", "recovery_ms"))
        return _grouped(rows, by_pattern=False), _grouped(rows, by_pattern=True)

    def signature_groups(self, now: float, *, cls: str = "unknown", project: str | None = None,
                         since: float | None = None) -> list[SignatureGroup]:
        buckets: dict[str, list[Row]] = {}
        for r in self._filtered(self._key("k", cls), now, project, since,
                                ("id", "class", "signature", "pattern", "template")):
            if r["class"] == cls:
                buckets.setdefault(r["signature"], []).append(r)
        out = []
        for sig, rows in buckets.items():
            first = min(rows, key=lambda r: int(r["id"]))
            times = [float(r["time"]) for r in rows]
            out.append(SignatureGroup(
                signature=sig, cls=first["class"], pattern=first["pattern"],
                template=first["template"], count=len(rows), first_seen=min(times),
                last_seen=max(times), expires_at=max(float(r["expires_at"]) for r in rows)))
        out.sort(key=lambda g: (g.first_seen, g.signature))
        return out

    def examples(self, signature: str, now: float, *, project: str | None = None,
                 since: float | None = None, limit: int = 3) -> list[str]:
        rows = self._filtered(self._key("s", signature), now, project, since,
                              ("id", "class", "signature", "example"))
        rows.sort(key=lambda r: (float(r["time"]), int(r["id"])), reverse=True)
        out: list[str] = []
        for r in rows:
            wanted = r["class"] == "unknown" and r["signature"] == signature
            if wanted and r["example"] and r["example"] not in out:
                out.append(r["example"])
        return out[:limit]
