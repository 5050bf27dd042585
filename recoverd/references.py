"""Every reference a project makes to a resource, with a severity, a strategy and a confidence.

A reference is the resource's name as a whole name (not inside a longer name: `requests` is not
found in `grequests` or `requests_oauthlib`; `deepseek-coder` is not found in
`deepseek-coder:6.7b`), matched without regard to case.

Severity comes from the file's role (project_files: config and entrypoints critical, source
high, scripts, tests and CI medium, docs and deprecated code low); a reference inside a comment
or a docstring is `info` whatever the file.

Strategy and confidence come from where the reference stands (placement). The confidence is how
safe it is to apply the edit without a person looking; `recoverd fix` applies edits at or above
0.5 by default.

| context      | where                                                | replacement  | none       |
| ------------ | ---------------------------------------------------- | ------------ | ---------- |
| config_value | the whole value of a config key (`model: X`, `M=X`)  | replace 0.9  | review 0   |
| list_entry   | a line that is one list / dependency entry (`- X`)   | replace 0.9  | remove 0.8 |
| literal      | a string literal that is exactly the name            | replace 0.85 | review 0   |
| prose        | documentation text                                   | replace 0.8  | review 0   |
| comment      | a comment                                            | replace 0.8  | review 0   |
| docstring    | a docstring                                          | replace 0.8  | review 0   |
| argument     | a whole word in a longer value or command (`pull X`) | replace 0.7  | review 0   |
| embedded     | part of a longer word (a path, a URL)                | replace 0.5  | review 0   |
| import       | an import or require                                 | review 0.4   | review 0   |
| code         | an identifier or expression                          | review 0.3   | review 0   |
| interpolated | an f-string, template, format string, concatenation  | review 0.3   | review 0   |

Then: -0.2 when a version constraint written for the old resource follows it (`X>=2`,
`"X": "^1"`), -0.2 when the case differs from the name given, -0.1 in a file of no known type;
clamped to 0..1. A `review` reference still carries the plain textual edit at its (low)
confidence, so `--min-confidence` can take it on purpose.
"""

from __future__ import annotations

import functools
import re
import tokenize
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from recoverd import placement, project_files, textfiles

_BASE = {"config_value": 0.9, "list_entry": 0.9, "literal": 0.85, "prose": 0.8,
         "comment": 0.8, "docstring": 0.8, "argument": 0.7, "embedded": 0.5, "import": 0.4,
         "code": 0.3, "interpolated": 0.3}
_REVIEW = frozenset({"import", "code", "interpolated"})
_DESCRIPTION = {
    "config_value": "the whole value of a config key", "list_entry": "one entry of a list",
    "literal": "a string literal naming it", "prose": "documentation text",
    "comment": "a comment", "docstring": "a docstring",
    "argument": "a word in a longer value or command", "embedded": "part of a longer word",
    "import": "an import: the code using it must change too",
    "code": "code that uses it", "interpolated": "a value built at run time",
}
_SEVERITY_RANK = {name: rank for rank, name in enumerate(project_files.SEVERITIES)}


@dataclass(frozen=True)
class Reference:
    path: str  # relative to the project root
    line: int  # 1-based
    column: int  # 1-based, in characters
    matched: str
    text: str  # the line, without its ending
    role: str
    severity: str
    context: str
    strategy: str  # replace, remove or review
    confidence: float
    reason: str
    whole_line: bool
    start: int  # offsets of the match in the file's text
    end: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Analysis:
    root: Path
    resource: str
    replacement: str | None
    files_scanned: int
    references: tuple[Reference, ...]

    def to_json(self) -> dict[str, Any]:
        counts = {s: sum(r.severity == s for r in self.references)
                  for s in project_files.SEVERITIES}
        return {"root": str(self.root), "resource": self.resource,
                "replacement": self.replacement, "files_scanned": self.files_scanned,
                "severity_counts": counts, "references": [r.to_json() for r in self.references]}


@functools.lru_cache(maxsize=64)
def name_pattern(resource: str) -> re.Pattern[str]:
    """The resource as a whole name: no name character before it (a `-` only when it follows a
    name character: `my-x` is another name, `${M:-x}` is x), none (nor a `:tag`) after."""
    return re.compile(r"(?<![A-Za-z0-9_.@])(?<![A-Za-z0-9_.@]-)" + re.escape(resource)
                      + r"(?![A-Za-z0-9_-]|:[A-Za-z0-9])", re.IGNORECASE)


def judge(context: str, role: str, replacement: str | None, versioned: bool,
          case_differs: bool, whole_line: bool) -> tuple[str, float, str]:
    """(strategy, confidence, reason) by the table in the module docstring."""
    notes = [_DESCRIPTION[context]]
    if replacement is not None:
        strategy = "review" if context in _REVIEW else "replace"
        confidence = _BASE[context]
        if versioned:
            confidence -= 0.2
            notes.append("a version constraint for the old resource follows it")
    elif context == "list_entry" and whole_line:
        strategy, confidence = "remove", 0.8
    else:
        strategy, confidence = "review", 0.0
    if confidence and case_differs:
        confidence -= 0.2
        notes.append("spelled with a different case")
    if confidence and role == "other":
        confidence -= 0.1
        notes.append("a file of no known type")
    return strategy, round(min(1.0, max(0.0, confidence)), 2), "; ".join(notes)


def find_in_text(relative: PurePosixPath, text: str, resource: str, replacement: str | None,
                 role: str) -> list[Reference]:
    """The references to `resource` in one file's text."""
    pattern = name_pattern(resource)
    if not pattern.search(text):
        return []
    kind = placement.family(relative)
    style = placement.style_for(kind, relative)
    python: placement.PythonTokens | None = None
    if kind == "python":
        try:
            python = placement.PythonTokens(text)
        except (tokenize.TokenError, SyntaxError):
            kind = "text"  # a file Python cannot read is read with `#` comments
    found: list[Reference] = []
    in_block = False
    offset = 0
    for row, line in enumerate(textfiles.lines(text), start=1):
        line_spans, next_block = placement.spans(line, style, in_block)
        for match in pattern.finditer(line):
            start, length = match.start(), match.end() - match.start()
            if python is not None:
                place = placement.place_in_python(python, line, row, start, length)
            else:
                place = placement.place_in_line(kind, line, line_spans, start, length)
            strategy, confidence, reason = judge(
                place.context, role, replacement, place.versioned, match.group() != resource,
                place.whole_line)
            severity = ("info" if place.context in ("comment", "docstring")
                        else project_files.ROLE_SEVERITY[role])
            found.append(Reference(str(relative), row, start + 1, match.group(),
                                   line.rstrip("\r\n"), role, severity, place.context, strategy,
                                   confidence, reason, place.whole_line, offset + start,
                                   offset + match.end()))
        in_block = next_block
        offset += len(line)
    return found


@dataclass(frozen=True)
class ScannedFile:
    relative: PurePosixPath
    file: textfiles.TextFile
    role: str
    references: tuple[Reference, ...]


def scan(root: Path, resource: str, replacement: str | None = None,
         tracked_only: bool = True) -> tuple[int, list[ScannedFile]]:
    """(files scanned, the files that reference `resource` with their references)."""
    if not resource.strip():
        raise ValueError("name the resource to look for")
    entrypoints = project_files.declared_entrypoints(root)
    files = project_files.project_files(root, tracked_only)
    found = []
    for relative in files:
        text_file = textfiles.read(root / relative)
        if text_file is None or not name_pattern(resource).search(text_file.text):
            continue  # binary, a symlink, too large, unreadable; or no reference
        role = project_files.role_of(relative, text_file.text, entrypoints)
        refs = find_in_text(relative, text_file.text, resource, replacement, role)
        if refs:
            found.append(ScannedFile(relative, text_file, role, tuple(refs)))
    return len(files), found


def analyze(root: Path, resource: str, replacement: str | None = None,
            tracked_only: bool = True) -> Analysis:
    """Every reference to `resource` under `root`, most severe first."""
    count, scanned = scan(root, resource, replacement, tracked_only)
    found = [ref for item in scanned for ref in item.references]
    found.sort(key=lambda r: (_SEVERITY_RANK[r.severity], r.path, r.line, r.column))
    return Analysis(root, resource, replacement, count, tuple(found))
