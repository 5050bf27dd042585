"""Fingerprints of failures: the decisive line with its variable parts made placeholders.

The same failure gets the same signature across runs and projects: numbers, paths, hex ids,
UUIDs, quoted names, line/column numbers, durations, ports, URLs, times and memory addresses
are replaced by `<placeholder>`s in the line that decided (the last line with an error cue).
Failures no pattern named are grouped further by Drain template mining (drain3), so recurring
unknown failures that differ in unquoted words still add up to one template.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import re2
from drain3.drain import Drain  # type: ignore[import-untyped]

from recoverd.journal import redact
from recoverd.text import normalize

KEY_LINE_LIMIT = 240
EXAMPLE_LIMIT = 2000
WILDCARD = "<*>"  # Drain's mark for a token that differs between members of a template

# A line that says something went wrong; the last such line of an output is the decisive one.
_CUE = re2.compile(
    r"(?i)(?:error|err!|fatal|fail|cannot|can't|could not|couldn't|unable|not found|no such"
    r"|denied|refused|invalid|exception|panic|abort|missing|undefined|unknown|timed? ?out"
    r"|not permitted|unexpected|unsupported|conflict|killed|segmentation)"
)
_LETTER = re2.compile(r"[A-Za-z]")
_SPACES = re2.compile(r"[ \t]+")
_SOURCE_EXT = (r"py|pyi|pyx|js|mjs|cjs|ts|tsx|jsx|json|ya?ml|toml|cfg|ini|txt|md|rs|go|c|h|cc"
               r"|cpp|hpp|java|kt|rb|php|sh|lock|sql|html|css|xml|csv|log|vue|svelte")
_PATH = (r"(?:~|\.{1,2})?(?:/[\w.@+~-]+)+/?|[A-Za-z]:\\[\w.\\-]+"
         r"|[\w.@+-]+(?:/[\w.@+-]+)+/?|[\w-]+\.(?:" + _SOURCE_EXT + r")\b")
_DURATION_UNITS = r"(?:ms|us|µs|ns|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)"

# What each placeholder stands for, as an RE2 fragment; used to mask and to draft regexes.
SHAPES: dict[str, str] = {
    "uuid": r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}",
    "url": r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"`<>)\]]+",
    "addr": r"0x[0-9a-fA-F]+",
    "time": r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
            r"|\d{1,2}:\d\d:\d\d(?:[.,]\d+)?",
    "ip": r"\d{1,3}(?:\.\d{1,3}){3}",
    "port": r"\d+",
    "path": _PATH,
    "line": r"\d+",
    "col": r"\d+",
    "duration": r"\d+(?:\.\d+)?[ ]?" + _DURATION_UNITS,
    "hex": r"[0-9a-fA-F]+",
    "num": r"\d+(?:\.\d+)*",
}

Rule = tuple[Any, Callable[[Any], str]]


def _keep(group: int, text: str) -> Callable[[Any], str]:
    """Keep the context group (the character before, a keyword…) and put a placeholder after."""
    return lambda m: (m.group(group) or "") + text


_QUOTES = (("'", "'"), ('"', '"'), ("`", "`"), ("‘", "’"), ("“", "”"))


def _quoted(m: Any) -> str:
    before, whole = m.group(1) or "", m.group(0)
    return f"{before}{whole[len(before)]}<name>{whole[-1]}"


def _path(m: Any) -> str:
    return ((m.group(1) or "") + "<path>" + (":<line>" if m.group(2) else "")
            + (":<col>" if m.group(3) else ""))


def _hex_or_keep(m: Any) -> str:
    token: str = m.group(0)
    return "<hex>" if any(c.isdigit() for c in token) else token


# Order matters: quoted names (one pass, so quotes never nest) swallow whatever they hold;
# wide shapes go before narrow ones.
_RULES: tuple[Rule, ...] = (
    (re2.compile("(^|[^\\w'\"`‘“])(?:" + "|".join(f"{o}[^{c}\\n]*{c}" for o, c in _QUOTES) + ")"),
     _quoted),
    (re2.compile(r"\b(?:" + SHAPES["uuid"] + r")\b"), lambda m: "<uuid>"),
    (re2.compile(SHAPES["url"]), lambda m: "<url>"),
    (re2.compile(r"\b" + SHAPES["addr"] + r"\b"), lambda m: "<addr>"),
    (re2.compile(r"\b(?:" + SHAPES["time"] + r")\b"), lambda m: "<time>"),
    (re2.compile(r"\b" + SHAPES["ip"] + r"\b"), lambda m: "<ip>"),
    (re2.compile(r"(^|[\s(\[=,:<>])(?:" + _PATH + r")(:\d+)?(:\d+)?"), _path),
    (re2.compile(r"((?:<ip>|\blocalhost|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}):)\d{1,5}\b"),
     _keep(1, "<port>")),
    (re2.compile(r"(?i)(\bport\b[ =:]*)\d+\b"), _keep(1, "<port>")),
    (re2.compile(r"(?i)(\blines? )\d+"), _keep(1, "<line>")),
    (re2.compile(r"(?i)(\b(?:col|column) )\d+"), _keep(1, "<col>")),
    (re2.compile(r"(:)\d+:\d+\b"), _keep(1, "<line>:<col>")),
    (re2.compile(r"\b" + SHAPES["duration"] + r"\b"), lambda m: "<duration>"),
    (re2.compile(r"\b[0-9a-fA-F]{7,}\b"), _hex_or_keep),
    (re2.compile(r"\b" + SHAPES["num"] + r"\b"), lambda m: "<num>"),
)


_KINDS = "uuid|url|addr|time|ip|port|path|line|col|duration|hex|num|name|\\*"
# `<kind>` is a placeholder; text that already reads `<kind>` gets one more `_` on each side
# (`<_kind_>`), and template_regex takes it back off, so the template stays unambiguous.
_PLACEHOLDER = re2.compile(rf"<(_*)({_KINDS})(_*)>")


def _escape_placeholder(m: Any) -> str:
    before, kind, after = m.group(1), m.group(2), m.group(3)
    return f"<_{before}{kind}{after}_>" if len(before) == len(after) else str(m.group(0))


def mask(line: str) -> str:
    """The line with its variable parts as placeholders and its blanks collapsed."""
    line = _PLACEHOLDER.sub(_escape_placeholder, line)
    for pattern, replace in _RULES:
        line = pattern.sub(replace, line)
    return str(_SPACES.sub(" ", line)).strip()


def key_line(output: str) -> str:
    """The decisive line: the last one with an error cue, else the last one with a letter."""
    lines = [ln.strip() for ln in normalize(output).splitlines()]
    lines = [ln for ln in lines if _LETTER.search(ln)]
    if not lines:
        return ""
    chosen = next((ln for ln in reversed(lines) if _CUE.search(ln)), lines[-1])
    if len(chosen) > KEY_LINE_LIMIT:
        cut = chosen.rfind(" ", 0, KEY_LINE_LIMIT)
        chosen = chosen[: cut if cut > KEY_LINE_LIMIT // 2 else KEY_LINE_LIMIT]
    return chosen


@dataclass(frozen=True)
class Signature:
    id: str  # 16 hex digits, stable across runs, projects and machines
    template: str  # the masked decisive line, for people

    def describe(self, cls: str, pattern: str) -> str:
        return f"{cls}/{pattern or '-'}: {self.template}"


def signature(cls: str, pattern: str, output_excerpt: str) -> Signature:
    """The fingerprint of a failure named `cls`/`pattern` whose output (or the part of it the
    pattern matched) is `output_excerpt`."""
    template = mask(redact(key_line(output_excerpt)))
    digest = hashlib.sha256(f"{cls}\0{pattern}\0{template}".encode()).hexdigest()
    return Signature(digest[:16], template)


def example(output: str, limit: int = EXAMPLE_LIMIT) -> str:
    """A redacted excerpt of at most `limit` characters that holds the decisive line: the tail
    of the output, or a window starting a little before that line when it is further up."""
    text = redact(normalize(output)).strip("\n")
    if len(text) <= limit:
        return text
    line = key_line(text)
    at = text.rfind(line) if line else -1
    if at < 0 or at >= len(text) - limit:
        return text[-limit:]
    start = max(0, at - limit // 4)
    return text[start: start + limit]


def command_key(command: str) -> str:
    """The command as recognised again later: redacted, blanks collapsed, hashed."""
    normal = " ".join(redact(command).split())
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


# --- mining recurring unknown failures --------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """Signatures that Drain found to be one template; `id` is its most frequent member's."""

    id: str
    template: str
    count: int
    members: tuple[str, ...]


def mine(signatures: Iterable[tuple[str, str, int]], similarity: float = 0.5) -> list[Cluster]:
    """Group (signature id, template, count) triples into Drain templates, most frequent
    first. Feed them in a stable order (first seen) for stable results: a cluster is named by
    its most frequent member, the first fed among equals."""
    drain = Drain(depth=4, sim_th=similarity, max_children=100, param_str=WILDCARD,
                  parametrize_numeric_tokens=True)
    members: dict[int, list[tuple[int, str]]] = {}
    for ident, template, count in signatures:
        cluster, _ = drain.add_log_message(template)
        members.setdefault(cluster.cluster_id, []).append((count, ident))
    out = []
    for cluster_id, found in members.items():
        found.sort(key=lambda pair: -pair[0])
        template = drain.id_to_cluster[cluster_id].get_template()
        out.append(Cluster(found[0][1], template, sum(c for c, _ in found),
                           tuple(ident for _, ident in found)))
    out.sort(key=lambda c: (-c.count, c.id))
    return out


# --- drafting a regex from a template ---------------------------------------------------

_SPECIAL = frozenset("\\.^$|?*+()[]{}")
# The first placeholder of these kinds becomes a named group the classifier understands.
GROUP_NAMES = {"name": "subject", "path": "file", "line": "line", "col": "col", "port": "port"}
GROUP_MEANINGS = {
    "subject": "the quoted name the error is about",
    "file": "the file the error is in",
    "line": "the line number",
    "col": "the column number",
    "port": "the network port",
}


def _literal(text: str) -> str:
    escaped = "".join("\\" + c if c in _SPECIAL else c for c in text)
    return str(_SPACES.sub(r"[ \\t]+", escaped))


def template_regex(template: str) -> tuple[str, dict[str, str]]:
    """An RE2 regex matching the lines a template was made from, and its named groups with
    their meaning (the `captures` of a pattern entry)."""
    parts = [r"^[ \t]*"]
    captures: dict[str, str] = {}
    end = 0
    for found in _PLACEHOLDER.finditer(template):
        before, kind, after = found.group(1), found.group(2), found.group(3)
        if before or after:  # text that read like a placeholder: literal, one `_` less
            if len(before) == len(after):
                parts.append(_literal(template[end: found.start()]))
                parts.append(_literal(f"<{before[1:]}{kind}{after[1:]}>"))
                end = found.end()
            continue
        parts.append(_literal(template[end: found.start()]))
        if kind == "name":
            before = template[found.start() - 1: found.start()]
            closing = {"‘": "’", "“": "”"}.get(before, before)
            shape = f"[^{_literal(closing)}\\n]*" if closing else r"[^\n]*?"
        elif kind == "*":
            shape = r"\S+"
        else:
            shape = SHAPES[kind]
        name = GROUP_NAMES.get(kind)
        if name and name not in captures:
            captures[name] = GROUP_MEANINGS[name]
            parts.append(f"(?P<{name}>{shape})")
        else:
            parts.append(f"(?:{shape})" if "|" in shape else shape)
        end = found.end()
    parts.append(_literal(template[end:]))
    return "".join(parts), captures
