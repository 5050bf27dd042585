"""Name a failure: one RE2 pass over the output, the best entry, and what its captures mean."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import re2

from recoverd import events, fixes
from recoverd.dists import dist_for
from recoverd.patterns import Pattern, PatternSet
from recoverd.text import normalize

_IMPORT_LINE = re2.compile(r"(?m)^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+))")


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None
    col: int | None = None


@dataclass(frozen=True)
class FailingTest:
    id: str
    file: str = ""
    name: str = ""
    message: str = ""


@dataclass
class Classification:
    cls: str
    pattern: str
    variant: str = ""
    subject: str = ""
    dist: str = ""
    location: Location | None = None
    failing_tests: list[FailingTest] = field(default_factory=list)
    fix: fixes.Fix | None = None
    message: str = ""
    captures: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The stable `recoverd classify` shape; empty optional fields are left out."""
        out: dict[str, Any] = {"class": self.cls}
        if self.variant:
            out["variant"] = self.variant
        out["pattern"] = self.pattern
        if self.subject:
            out["subject"] = self.subject
        if self.dist:
            out["dist"] = self.dist
        if self.location is not None:
            out["location"] = asdict(self.location)
        if self.failing_tests:
            out["failing_tests"] = [
                {"id": t.id, "file": t.file, "name": t.name} for t in self.failing_tests
            ]
        if self.fix is not None:
            out["fix"] = self.fix.to_json()
        if self.message:
            out["message"] = self.message
        return out


def classify(event: events.Event, patterns: PatternSet) -> Classification:
    if event.kind == events.IGNORED:
        return Classification("no_error", "ignored_event")
    if event.kind == events.SUCCESS:
        return Classification("no_error", "exit_zero", fix=fixes.Fix("none"))
    if event.kind == events.BENIGN:
        return Classification("benign_nonzero_exit", "claude_code_interpretation",
                              variant=event.interpretation, fix=fixes.Fix("none"))
    text = normalize(event.output)
    best: tuple[int, int, Pattern, Any] | None = None
    for pattern in patterns.candidates(text):
        if not pattern.applies(event.command, event.exit_code):
            continue
        match = pattern.last_match(text) if pattern.compiled is not None else None
        if pattern.compiled is not None and match is None:
            continue
        rank = (pattern.priority, match.start() if match is not None else -1)
        if best is None or rank > best[:2]:
            best = (rank[0], rank[1], pattern, match)
    if best is None:
        return Classification("unknown", "", fix=fixes.Fix("report"))
    _, _, pattern, match = best
    groups = {k: v for k, v in (match.groupdict() if match else {}).items() if v is not None}
    result = Classification(pattern.cls, pattern.id, variant=pattern.variant, captures=groups)
    result.subject = groups.get("subject", "")
    result.message = groups.get("message", "").strip()
    _locate(result, groups, event.cwd)
    if pattern.compiled_each is not None:
        result.failing_tests = _failing_tests(pattern, text)
    if pattern.cls == "missing_python_module" and result.subject:
        _python_dist(result, text[: match.start()] if match else "")
    result.fix = fixes.build(pattern.action, result, event)
    return result


def _relative(path: str, cwd: str) -> str:
    if cwd and os.path.isabs(path):
        try:
            rel = os.path.relpath(path, cwd)
        except ValueError:
            return path
        return path if rel.startswith("..") else rel
    return path


def _locate(result: Classification, groups: dict[str, str], cwd: str) -> None:
    file = groups.get("file")
    if not file:
        return
    line = int(groups["line"]) if groups.get("line", "").isdigit() else None
    col = int(groups["col"]) if groups.get("col", "").isdigit() else None
    if col is None and "caret" in groups:
        # CPython 3.11+ shows no column, only a caret under the source line (indented by 4).
        col = max(1, len(groups.get("caret_indent", "")) - 3)
        col += _leading_space(os.path.join(cwd, file) if cwd else file, line)
    result.location = Location(_relative(file, cwd), line, col)
    if not result.subject:
        result.subject = result.location.file


def _leading_space(path: str, line: int | None) -> int:
    """How far the real source line is indented: Python strips that before printing it."""
    if line is None:
        return 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                if number == line:
                    return len(text) - len(text.lstrip(" \t"))
    except OSError:
        pass
    return 0


def _failing_tests(pattern: Pattern, text: str) -> list[FailingTest]:
    seen: dict[str, FailingTest] = {}
    for match in pattern.each_matches(text):
        groups = {k: (v or "").strip() for k, v in match.groupdict().items()}
        ident = groups.get("id") or groups.get("name", "")
        if not ident or ident in seen:
            continue
        file, name = groups.get("file", ""), groups.get("name", "")
        if "::" in ident and not (file and name):
            file = file or ident.split("::", 1)[0]
            name = name or ident.rsplit("::", 1)[1]
        seen[ident] = FailingTest(ident, file, name or ident, groups.get("message", ""))
    return list(seen.values())


def _python_dist(result: Classification, before: str) -> None:
    """Python names only the missing top-level package; the import line above it is dotted."""
    module = result.subject
    for found in _IMPORT_LINE.finditer(before[-2000:]):
        dotted = found.group(1) or found.group(2) or ""
        if dotted.startswith(module + "."):
            module = dotted
    guess = dist_for(module)
    if guess is not None:
        result.dist = guess.dist
