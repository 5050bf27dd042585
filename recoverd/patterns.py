"""The pattern catalogue: TOML entries, checked on load, layered bundled → user → project.

A file holds `[[pattern]]` entries and, optionally, `disable = ["id", …]`. An entry:

    id          stable snake_case name; a later layer's entry with the same id replaces it
    class       a class from the vocabulary (VOCABULARY below)
    variant     optional sub-kind (the language of a syntax error, the runner of a test failure…)
    regex       RE2 syntax, searched in the output in multi-line mode (`^`/`$` match at lines)
    command     optional RE2 the command line must match (searched, multi-line)
    exit_codes  optional list: the entry applies only to these exit codes
    priority    higher wins when several entries match (default 50); ties go to the later match
    action      the fix kind (FIX_KINDS)
    captures    {group = "meaning"}: every named group of `regex`, documented
    each        optional RE2 whose every match adds one failing test
                (groups id, file, name, message)
    examples    outputs that must match: strings, or tables {output, command?, exit_code?, <group>?}
    near_misses outputs that must not match (same forms)
    description one line for people

Nothing here can hang: RE2 matches in linear time, and a bad entry is reported as
`file:entry:key: reason` and skipped, never fatal.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2

from recoverd.text import encoded, normalize

VOCABULARY = frozenset(
    """missing_python_module syntax_error no_error test_failure missing_command
    missing_node_module network_error file_not_found npm_missing_script type_error
    permission_denied runtime_error git_error missing_local_module benign_nonzero_exit
    crlf_line_endings pip_resolution_conflict python_import_error interrupted
    npm_package_not_found pip_package_not_found externally_managed_environment make_error
    missing_go_module missing_rust_crate no_tests_collected npm_resolution_conflict
    pip_install_error timeout unknown""".split()
)
FIX_KINDS = frozenset(
    """report pip_install report_location none rerun_failed_tests install_command npm_install
    retry npm_install_all convert_line_endings pip_install_project cargo_add chmod_x go_get
    npm_run pip_install_requirements use_venv uv_add""".split()
)
_KEYS = frozenset(
    """id class variant regex command exit_codes priority action captures each examples
    near_misses description""".split()
)
_ID = re2.compile(r"\A[a-z][a-z0-9_]*\z")
_GROUP = re2.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")  # str pattern: used on pattern text
_OPTIONS = re2.Options()
# Bytes searched first at the end of a long output, smallest window first.
TAIL_WINDOWS = (4 * 1024, 64 * 1024)
_OPTIONS.max_mem = 64 << 20


def compile_regex(pattern: str) -> Any:
    """Compile in RE2 with `^`/`$` at line boundaries, for UTF-8 bytes; raises re2.error."""
    return re2.compile(("(?m)" + pattern).encode("utf-8"), _OPTIONS)


class Found:
    """A match on the UTF-8 bytes of a text, answering in str and character offsets."""

    __slots__ = ("_match", "_text", "_data")

    def __init__(self, match: Any, text: str, data: bytes) -> None:
        self._match, self._text, self._data = match, text, data

    def _chars(self, offset: int) -> int:
        if len(self._data) == len(self._text):  # ASCII: bytes and characters line up
            return offset
        return len(self._data[:offset].decode("utf-8", "replace"))

    def start(self) -> int:
        return self._chars(self._match.start())

    def end(self) -> int:
        return self._chars(self._match.end())

    def group(self, name: str | int = 0) -> str | None:
        value = self._match.group(name.encode() if isinstance(name, str) else name)
        return None if value is None else value.decode("utf-8", "replace")

    def groupdict(self) -> dict[str, str | None]:
        return {k.decode(): (None if v is None else v.decode("utf-8", "replace"))
                for k, v in self._match.groupdict().items()}


def search_all(compiled: Any, text: str) -> list[Found]:
    """Every match of a compiled pattern in the text."""
    data = encoded(text)
    return [Found(m, text, data) for m in compiled.finditer(data)]


@dataclass(frozen=True)
class Example:
    output: str
    command: str = ""
    exit_code: int | None = None
    expect: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pattern:
    id: str
    cls: str
    regex: str
    action: str
    source: str
    variant: str = ""
    command: str = ""
    exit_codes: tuple[int, ...] = ()
    priority: int = 50
    captures: Mapping[str, str] = field(default_factory=dict)
    each: str = ""
    examples: tuple[Example, ...] = ()
    near_misses: tuple[Example, ...] = ()
    description: str = ""
    compiled: Any = field(default=None, compare=False, repr=False)
    compiled_command: Any = field(default=None, compare=False, repr=False)
    compiled_each: Any = field(default=None, compare=False, repr=False)

    def applies(self, command: str, exit_code: int | None) -> bool:
        if self.exit_codes and exit_code not in self.exit_codes:
            return False
        if self.compiled_command is not None and not self.compiled_command.search(
                command.encode("utf-8", "replace")):
            return False
        return True

    def last_match(self, text: str) -> Found | None:
        """The last match in the text: the final error of a log is the one that decided.

        A long output is searched in its tail first, from a line start, where the deciding
        error usually is: the last 4 KB, then the last 64 KB, then all. RE2 still sees the whole
        text as context there, so `^` and `\\A` keep their meaning (an `\\A`-anchored entry finds
        nothing in a tail and gets the full search)."""
        if self.compiled is None:
            return None
        data = encoded(text)
        found = None
        for window in TAIL_WINDOWS:
            if len(data) <= 2 * window:
                break
            start = data.find(b"\n", len(data) - window) + 1
            for found in self.compiled.finditer(data, start or len(data) - window):  # noqa: B007
                pass  # only the last one is wanted
            if found is not None:
                return Found(found, text, data)
        for found in self.compiled.finditer(data):  # noqa: B007
            pass
        return None if found is None else Found(found, text, data)

    def each_matches(self, text: str) -> list[Found]:
        return search_all(self.compiled_each, text) if self.compiled_each is not None else []

    def matches(self, example: Example) -> bool:
        if not self.applies(example.command, example.exit_code):
            return False
        if self.compiled is None:
            return True
        match = self.last_match(normalize(example.output))
        if match is None:
            return False
        groups = match.groupdict()
        return all(groups.get(k) == v for k, v in example.expect.items())


@dataclass
class LoadReport:
    """What a load found wrong; empty when every file was clean."""

    errors: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def add(self, where: str, reason: str) -> None:
        self.errors.append(f"{where}: {reason}")


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


@dataclass(frozen=True)
class PatternSet:
    """The active entries, with one RE2 set over every regex for a single pass on the output."""

    patterns: tuple[Pattern, ...]
    report: LoadReport
    matcher: Any = field(compare=False, repr=False)
    # indices into `patterns` of the entries that have only a command condition
    command_only: tuple[int, ...] = ()
    by_set_index: tuple[int, ...] = ()
    # each entry's place when ordered by priority, highest first (catalogue order in a tie)
    rank: tuple[int, ...] = ()

    def candidates(self, text: str) -> list[Pattern]:
        """The entries that may match the text, highest priority first."""
        hits = (self.matcher.Match(encoded(text)) if self.matcher is not None else None) or []
        chosen = {self.by_set_index[h] for h in hits} | set(self.command_only)
        return [self.patterns[i] for i in sorted(chosen, key=self.rank.__getitem__)]

    def by_id(self, ident: str) -> Pattern | None:
        return next((p for p in self.patterns if p.id == ident), None)


def build(patterns: Sequence[Pattern], report: LoadReport) -> PatternSet:
    matcher = re2.Set.SearchSet(_OPTIONS)
    index: list[int] = []
    command_only: list[int] = []
    for i, pattern in enumerate(patterns):
        if pattern.regex:
            matcher.Add(("(?m)" + pattern.regex).encode("utf-8"))
            index.append(i)
        else:
            command_only.append(i)
    matcher.Compile()
    order = sorted(range(len(patterns)), key=lambda i: (-patterns[i].priority, i))
    rank = [0] * len(patterns)
    for place, i in enumerate(order):
        rank[i] = place
    return PatternSet(tuple(patterns), report, matcher, tuple(command_only), tuple(index),
                      tuple(rank))


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
