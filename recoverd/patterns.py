"""The pattern catalogue's runtime model: entries, their RE2 matching, and the set over them.

The entries' file format and its checks live in pattern_files.py. Nothing here can hang:
RE2 matches in linear time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

