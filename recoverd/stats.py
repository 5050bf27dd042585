"""Figures for `recoverd stats`, and pattern drafts for the unknown failures that recur.

Every figure comes from unexpired records only (the store's queries see nothing else). The heal
rate is healed / (healed + failed): a suggestion nobody confirmed, a skip or an unfinished
recovery counts neither way, and a suggestion healed by a later success counts as healed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from recoverd import patterns, signatures
from recoverd.outcomes import Group, OutcomeStore, SignatureGroup, StoreError
from recoverd.text import normalize


@dataclass(frozen=True)
class Figures:
    """One class (pattern "") or one class and pattern."""

    cls: str
    pattern: str
    count: int
    healed: int
    failed: int
    heal_rate: float | None  # None when nothing was healed or failed
    median_recovery_ms: float | None
    last_seen: float
    expires_at: float  # when the newest record (and so the group) expires

    @classmethod
    def of(cls, group: Group) -> Figures:
        judged = group.healed + group.failed
        return cls(group.cls, group.pattern, group.count, group.healed, group.failed,
                   group.healed / judged if judged else None, group.median_recovery_ms,
                   group.last_seen, group.expires_at)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return {"class": out.pop("cls"), **out}


@dataclass(frozen=True)
class Unknown:
    """A recurring unknown failure: one Drain template over one or more signatures."""

    signature: str  # the most frequent member's: what `suggest_pattern` takes
    template: str
    count: int
    last_seen: float
    expires_at: float
    example: str
    members: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["members"] = list(self.members[:20])  # enough to look up; all are counted
        out["member_count"] = len(self.members)
        return out


@dataclass(frozen=True)
class Stats:
    now: float
    project: str | None
    since: float | None
    total: int
    classes: tuple[Figures, ...]
    patterns: tuple[Figures, ...]
    unknown: tuple[Unknown, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now, "project": self.project, "since": self.since, "total": self.total,
            "classes": [f.to_json() for f in self.classes],
            "patterns": [f.to_json() for f in self.patterns],
            "unknown": [u.to_json() for u in self.unknown],
        }


def _ranked(groups: list[Group]) -> tuple[Figures, ...]:
    return tuple(sorted((Figures.of(g) for g in groups),
                        key=lambda f: (-f.count, f.cls, f.pattern)))


def clusters(store: OutcomeStore, now: float, *, project: str | None = None,
             since: float | None = None) -> list[tuple[signatures.Cluster, list[SignatureGroup]]]:
    """Unknown failures mined into templates, most frequent first, with their signatures."""
    groups = store.signature_groups(now, cls="unknown", project=project, since=since)
    by_id = {g.signature: g for g in groups}
    mined = signatures.mine((g.signature, g.template, g.count) for g in groups)
    return [(c, [by_id[m] for m in c.members]) for c in mined]


def compute(store: OutcomeStore, now: float, *, project: str | None = None,
            since: float | None = None, top: int = 10) -> Stats:
    by_class, by_pattern = store.groups(now, project=project, since=since)
    classes = _ranked(by_class)
    unknown = []
    for cluster, members in clusters(store, now, project=project, since=since)[:top]:
        example = next((found[0] for m in cluster.members
                        if (found := store.examples(m, now, project=project, since=since,
                                                    limit=1))), "")
        unknown.append(Unknown(cluster.id, cluster.template, cluster.count,
                               max(m.last_seen for m in members),
                               max(m.expires_at for m in members), example, cluster.members))
    return Stats(now, project, since, sum(f.count for f in classes), classes,
                 _ranked(by_pattern),
                 tuple(unknown))


# --- drafting a pattern -------------------------------------------------------------------

_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_literal(text: str) -> str:
    """A TOML literal string (no escapes, so a regex reads as itself) when `text` allows it."""
    if "'" in text or any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in text):
        return toml_string(text)
    return f"'{text}'"


def _matching(regex: str, examples: list[str]) -> list[str]:
    compiled = patterns.compile_regex(regex)
    return [e for e in examples if patterns.search_all(compiled, normalize(e))]


def suggest_pattern(store: OutcomeStore, signature: str, now: float, *,
                    project: str | None = None, max_examples: int = 3) -> str:
    """A draft `[[pattern]]` entry (pattern_files.py's format) for the recurring unknown failure
    that `signature` belongs to, with its stored examples. Raises StoreError when there is
    nothing unexpired to draft from."""
    found = next(((c, members) for c, members in clusters(store, now, project=project)
                  if signature in c.members), None)
    if found is None:
        known = store.history(now, project=project, signature=signature, limit=1)
        if known:
            raise StoreError(f"signature {signature} is {known[0].cls}/{known[0].pattern}, "
                             "which a pattern already names")
        raise StoreError(f"no unexpired record has signature {signature}")
    cluster, members = found
    examples: list[str] = []
    for member in cluster.members:  # the most frequent first; a few more than needed
        for text in store.examples(member, now, project=project, limit=max_examples):
            if text not in examples:
                examples.append(text)
        if len(examples) >= 3 * max_examples:
            break
    # The mined template first; a member's own template if the miner generalised too far.
    for template in (cluster.template, *(m.template for m in members[:20])):
        regex, captures = signatures.template_regex(template)
        matching = _matching(regex, examples)[:max_examples]
        if matching:
            break
    else:
        raise StoreError(f"no stored example of signature {signature} to draft from")
    lines = [
        f"# Drafted by recoverd from {cluster.count} unknown failure(s) of one template.",
        "# Check the class, action and captures, and add near_misses, before relying on it.",
        "[[pattern]]",
        f"id = {toml_string('draft_' + cluster.id[:8])}",
        'class = "unknown"',
        'action = "report"',
        f"description = {toml_string('Recurring failure: ' + cluster.template)}",
        f"regex = {toml_literal(regex)}",
    ]
    if captures:
        pairs = ", ".join(f"{name} = {toml_string(meaning)}" for name, meaning in captures.items())
        lines.append(f"captures = {{ {pairs} }}")
    lines.append("examples = [")
    lines.extend(f"    {toml_string(text)}," for text in matching)
    lines.append("]")
    return "\n".join(lines) + "\n"
