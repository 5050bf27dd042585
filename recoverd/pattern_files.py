"""Pattern TOML files: each entry checked on load, the layers merged bundled → user → project.

A file holds `[[pattern]]` entries and, optionally, `disable = ["id", …]`. An entry:

    id          stable snake_case name; a later layer's entry with the same id replaces it
    class       a class from the vocabulary (patterns.VOCABULARY)
    variant     optional sub-kind (the language of a syntax error, the runner of a test failure…)
    regex       RE2 syntax, searched in the output in multi-line mode (`^`/`$` match at lines)
    command     optional RE2 the command line must match (searched, multi-line)
    exit_codes  optional list: the entry applies only to these exit codes
    priority    higher wins when several entries match (default 50); ties go to the later match
    action      the fix kind (patterns.FIX_KINDS)
    captures    {group = "meaning"}: every named group of `regex`, documented
    each        optional RE2 whose every match adds one failing test
                (groups id, file, name, message)
    examples    outputs that must match: strings, or tables {output, command?, exit_code?, <group>?}
    near_misses outputs that must not match (same forms)
    description one line for people

A bad entry is reported as `file:entry:key: reason` and skipped, never fatal.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import re2

from recoverd.patterns import (
    FIX_KINDS,
    VOCABULARY,
    Example,
    LoadReport,
    Pattern,
    PatternSet,
    build,
    compile_regex,
)

_KEYS = frozenset(
    """id class variant regex command exit_codes priority action captures each examples
    near_misses description""".split()
)
_ID = re2.compile(r"\A[a-z][a-z0-9_]*\z")
_GROUP = re2.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")  # str pattern: used on pattern text


def _example(raw: Any, where: str, report: LoadReport) -> Example | None:
    if isinstance(raw, str):
        return Example(raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("output", ""), str):
        report.add(where, "an example is a string or a table with an `output` string")
        return None
    expect = {k: str(v) for k, v in raw.items() if k not in ("output", "command", "exit_code")}
    code = raw.get("exit_code")
    if code is not None and not isinstance(code, int):
        report.add(where, "exit_code must be an integer")
        return None
    return Example(str(raw.get("output", "")), str(raw.get("command", "")), code, expect)


def _entry(raw: Any, source: str, index: int, report: LoadReport) -> Pattern | None:
    if not isinstance(raw, dict):
        report.add(f"{source}:#{index}", "an entry must be a table")
        return None
    ident = raw.get("id")
    name = f"{source}:{ident if isinstance(ident, str) else '#' + str(index)}"
    if not isinstance(ident, str) or not _ID.search(ident):
        report.add(f"{name}:id", "missing, or not snake_case")
        return None
    before = len(report.errors)
    for key in raw.keys() - _KEYS:
        report.add(f"{name}:{key}", "unknown key")
    cls = raw.get("class")
    if not isinstance(cls, str) or cls not in VOCABULARY:
        report.add(f"{name}:class", f"{cls!r} is not in the class vocabulary")
    action = raw.get("action", "report")
    if action not in FIX_KINDS:
        report.add(f"{name}:action", f"{action!r} is not a fix kind")
    regex, command, each = (raw.get(k, "") for k in ("regex", "command", "each"))
    compiled = {}
    for key, text in (("regex", regex), ("command", command), ("each", each)):
        if not isinstance(text, str):
            report.add(f"{name}:{key}", "must be a string")
            continue
        if text:
            try:
                compiled[key] = compile_regex(text)
            except re2.error as exc:
                report.add(f"{name}:{key}", f"invalid RE2 regex: {exc}")
    if not regex and not command:
        report.add(f"{name}:regex", "an entry needs a regex, a command, or both")
    captures = raw.get("captures", {})
    groups = set(_GROUP.findall(regex)) if isinstance(regex, str) else set()
    if not isinstance(captures, dict):
        report.add(f"{name}:captures", "must be a table {group = meaning}")
        captures = {}
    for group in groups - captures.keys():
        report.add(f"{name}:captures", f"group {group!r} is not documented")
    for group in captures.keys() - groups:
        report.add(f"{name}:captures", f"documents {group!r}, which the regex does not have")
    codes = raw.get("exit_codes", [])
    if not isinstance(codes, list) or not all(isinstance(c, int) for c in codes):
        report.add(f"{name}:exit_codes", "must be a list of integers")
        codes = []
    priority = raw.get("priority", 50)
    if not isinstance(priority, int):
        report.add(f"{name}:priority", "must be an integer")
        priority = 50
    examples = [_example(e, f"{name}:examples", report) for e in raw.get("examples", [])]
    misses = [_example(e, f"{name}:near_misses", report) for e in raw.get("near_misses", [])]
    if not examples:
        report.add(f"{name}:examples", "at least one example is required")
    if len(report.errors) > before:
        return None
    pattern = Pattern(
        id=ident, cls=str(cls), regex=regex, action=action, source=source,
        variant=str(raw.get("variant", "")), command=command, exit_codes=tuple(codes),
        priority=priority, captures=dict(captures), each=each,
        examples=tuple(e for e in examples if e), near_misses=tuple(e for e in misses if e),
        description=str(raw.get("description", "")), compiled=compiled.get("regex"),
        compiled_command=compiled.get("command"), compiled_each=compiled.get("each"),
    )
    for i, example in enumerate(pattern.examples):
        if not pattern.matches(example):
            report.add(f"{name}:examples", f"example {i + 1} does not match")
    for i, example in enumerate(pattern.near_misses):
        if pattern.matches(example):
            report.add(f"{name}:near_misses", f"near miss {i + 1} matches")
    return None if len(report.errors) > before else pattern


def load_file(path: Path, report: LoadReport) -> tuple[list[Pattern], set[str]] | None:
    """The entries and disabled ids of one file; None when the file as a whole is unusable."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        report.add(str(path), f"cannot read: {exc}")
        return None
    disabled = data.get("disable", [])
    if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
        report.add(f"{path}:disable", "must be a list of pattern ids")
        return None
    entries = data.get("pattern", [])
    if not isinstance(entries, list):
        report.add(f"{path}:pattern", "use [[pattern]] entries")
        return None
    before = len(report.errors)
    seen: set[str] = set()
    patterns = []
    for index, raw in enumerate(entries):
        pattern = _entry(raw, str(path), index, report)
        if pattern is None:
            continue
        if pattern.id in seen:
            report.add(f"{path}:{pattern.id}:id", "duplicate id in this file")
            continue
        seen.add(pattern.id)
        patterns.append(pattern)
    return None if len(report.errors) > before else (patterns, set(disabled))


def pattern_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []



def load_layers(folders: Iterable[Path | None]) -> PatternSet:
    """Load every layer in order; a broken file is reported and its entries left out."""
    report = LoadReport()
    merged: dict[str, Pattern] = {}
    for folder in folders:
        if folder is None:
            continue
        for path in pattern_files(folder):
            loaded = load_file(path, report)
            report.files.append(path)
            if loaded is None:
                continue
            entries, disabled = loaded
            for ident in disabled:
                merged.pop(ident, None)
            for pattern in entries:
                merged.pop(pattern.id, None)  # re-insert so the newer layer's order counts
                merged[pattern.id] = pattern
    return build(list(merged.values()), report)
