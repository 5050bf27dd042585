"""The outcome record, the contract every store keeps (SQLite or Redis), and the loop breaker.

What one judged failure came to (`Outcome`), as stored (`Record`) and as counted (`Group`,
`SignatureGroup`); its redaction and fingerprinting before any store sees it (`prepare`,
`outcome_for`); and `should_attempt`, which asks any `OutcomeStore`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from recoverd import signatures
from recoverd.journal import redact

if TYPE_CHECKING:
    from recoverd.classifier import Classification
    from recoverd.events import Event

__all__ = ["CREDITABLE", "DEFAULT_TTL_SECONDS", "OUTCOMES", "Attempt", "Group", "Outcome",
           "OutcomeStore", "Record", "SignatureGroup", "StoreError", "action_text", "outcome_for",
           "prepare", "should_attempt"]

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
