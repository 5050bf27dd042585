"""Failing tests out of a runner's report: one `each` match per test, named as the runner
names it.

Groups an `each` regex may use: `id` (or `name`) the test; `file`; `message`; `qual` the
unittest class path (`test_add (test_calc.TestCalc)` → `test_calc.TestCalc.test_add`);
`section` a file header that the tests after it belong to (jest's `FAIL x.test.js`); `ref` a
test named elsewhere whose `file` this match gives (cargo's panic line); any `skip…` group
that matched drops the match (a suite that failed only because a test inside it did).
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

from recoverd import locations
from recoverd.patterns import Pattern

_WHITESPACE = re2.compile(r"\s+")
# A failing test whose id is another's plus one of these is the suite around it.
_PARENT_SEPARATORS = ("/", " > ", " › ", " ")


@dataclass(frozen=True)
class FailingTest:
    id: str
    file: str = ""
    name: str = ""
    message: str = ""


def _test_id(groups: dict[str, str]) -> str:
    ident = str(_WHITESPACE.sub(" ", groups.get("id") or groups.get("name") or "")).strip()
    qual, name = groups.get("qual", ""), groups.get("name", "")
    if qual and name:
        # unittest: `test_add (test_calc.TestCalc)` before 3.11, `(test_calc.TestCalc.test_add)`
        # after; the runnable id is the dotted one either way.
        ident = qual if qual.endswith("." + name) else f"{qual}.{name}"
    return ident


def _short_name(ident: str) -> str:
    for separator in ("::", " › ", " > "):
        if separator in ident:
            return ident.rsplit(separator, 1)[1]
    return ident


def failing_tests(pattern: Pattern, text: str, cwd: str) -> list[FailingTest]:
    """Every test the entry's `each` regex finds, named as the runner names it."""
    seen: dict[str, FailingTest] = {}
    ref_files: dict[str, str] = {}
    section = ""
    for match in pattern.each_matches(text):
        groups = {k: (v or "").strip() for k, v in match.groupdict().items()}
        if groups.get("section"):
            section = groups["section"]
        if groups.get("ref") and groups.get("file"):
            ref_files.setdefault(groups["ref"], groups["file"])
        ident = _test_id(groups)
        if not ident or ident in seen or any(
                v for k, v in groups.items() if k.startswith("skip")):
            continue
        file = groups.get("file") or section
        head = ident.split("::", 1)[0]
        if not file and "::" in ident and ("." in head or "/" in head):
            file = head  # pytest: the node id starts with the file
        name = groups.get("name", "")
        seen[ident] = FailingTest(ident, file, name or _short_name(ident),
                                  groups.get("message", ""))
    tests = []
    for ident, test in seen.items():
        if any(other.startswith(ident + sep) for other in seen for sep in _PARENT_SEPARATORS):
            continue  # a suite that failed only because a test inside it did
        file = test.file or ref_files.get(ident, "")
        tests.append(FailingTest(ident, locations.relative(file, cwd), test.name, test.message))
    return tests
