"""Name a failure: one RE2 pass over the output, the best entry, and what its captures mean.

The best entry is the applicable one with the highest (priority, start of its last match): the
last error of a log is usually the one that ended the command. An entry that wants the *first*
error instead (compilers, whose later errors are often consequences) starts its regex with
`\\A(?s:.*?)`. A command that exited 0 is judged only by entries whose `exit_codes` list 0.

Named groups a regex may use, and what the classifier makes of them:

    subject          what the error is about (module, package, command, file…); when the
                     regex has alternatives, `subject_<anything>` groups stand in for it
    exc              the exception type; fills `{exc}` in the entry's variant
    message          the tool's own words
    file line col    where; a file:// URL or absolute path becomes relative to cwd
    pos              a 0-based character offset in `file` (JSON parsers), read into line/col
    caret_indent caret   a caret under a source line gives the column…
    src_indent       …counted from this indent of the printed source line (Python strips
                     the real indent, so that is read from the file)
    caret_after      the underlined token the error comes *after* ("missing ) after …")
    host port url    a network endpoint; becomes the subject (host:port)
    dist             the distribution the tool itself names as the one to install
    script           a script whose line endings may be the real cause
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import re2

from recoverd import (
    commands,
    endpoints,
    events,
    fixes,
    locations,
    node_packages,
    python_imports,
    test_reports,
)
from recoverd.locations import Location
from recoverd.patterns import Pattern, PatternSet
from recoverd.test_reports import FailingTest
from recoverd.text import normalize

__all__ = ["Classification", "FailingTest", "Location", "classify"]

_DATA_FILE = {
    "json": re2.compile(r"([\w./~-]+\.(?:json|jsonc|geojson|ipynb))\b"),
    "yaml": re2.compile(r"([\w./~-]+\.ya?ml)\b"),
    "toml": re2.compile(r"([\w./~-]+\.toml)\b"),
}
# What to propose when the project's files turned a match into another class.
_ACTIONS = {"crlf_line_endings": "convert_line_endings", "missing_local_module": "report",
            "missing_command": "install_command"}
# Classes whose subject is a path: shown relative to cwd like locations.
_PATH_CLASSES = frozenset({"file_not_found", "permission_denied", "crlf_line_endings"})
# Classes whose location, when the entry gives none, is the project's frame of the trace.
_FRAME_CLASSES = frozenset({"runtime_error", "file_not_found", "permission_denied",
                            "python_import_error"})


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
    # Facts for the fix, not part of the JSON: where the project declares the missing
    # dependency, and whether a missing npm package belongs in devDependencies.
    declared_in: str = ""
    dev: bool = False

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
            loc = self.location
            out["location"] = {"file": loc.file, "line": loc.line, "col": loc.col}
        if self.failing_tests:
            out["failing_tests"] = [
                {"id": t.id, "file": t.file, "name": t.name} for t in self.failing_tests
            ]
        if self.fix is not None:
            out["fix"] = self.fix.to_json()
        if self.message:
            out["message"] = self.message
        return out


def _best(patterns: PatternSet, texts: list[str], event: events.Event
          ) -> tuple[Pattern, Any, str] | None:
    success = event.kind == events.SUCCESS
    best: tuple[int, int, Pattern, Any, str] | None = None
    for number, text in enumerate(texts):
        for pattern in patterns.candidates(text):  # highest priority first
            if best is not None and pattern.priority < best[0]:
                break  # a lower priority cannot win, wherever it matches
            if number and pattern.cls != "crlf_line_endings":
                continue  # the second text only serves the line-ending entries
            if success and 0 not in pattern.exit_codes:
                continue
            if not pattern.applies(event.command, event.exit_code):
                continue
            match = pattern.last_match(text) if pattern.compiled is not None else None
            if pattern.compiled is not None and match is None:
                continue
            rank = (pattern.priority, match.start() if match is not None else -1)
            if best is None or rank > best[:2]:
                best = (rank[0], rank[1], pattern, match, text)
    return None if best is None else (best[2], best[3], best[4])


def _texts(output: str) -> list[str]:
    r"""The output as patterns read it, and, when it has CRLF line ends, a copy that keeps them:
    a shell message ending in \r (`cd: can't cd to src\r`) is the only trace of a script
    saved with Windows line endings, and normalising turns it into a plain line end. Doubling
    the CR first makes normalize's CRLF → LF leave one CR behind."""
    text = normalize(output)
    if "\r" not in output or "\r\n" not in output:  # one-character search first: memchr-fast
        return [text]
    return [text, normalize(output.replace("\r\n", "\r\r\n"))]


def classify(event: events.Event, patterns: PatternSet) -> Classification:
    if event.kind == events.IGNORED:
        return Classification("no_error", "ignored_event")
    if event.kind == events.BENIGN:
        return Classification("benign_nonzero_exit", "claude_code_interpretation",
                              variant=event.interpretation, fix=fixes.Fix("none"))
    found = _best(patterns, _texts(event.output), event)
    if found is None:
        if event.kind == events.SUCCESS:
            return Classification("no_error", "exit_zero", fix=fixes.Fix("none"))
        return Classification("unknown", "", fix=fixes.Fix("report"))
    pattern, match, text = found
    groups = {k: v for k, v in (match.groupdict() if match else {}).items() if v is not None}
    result = Classification(pattern.cls, pattern.id, variant=pattern.variant, captures=groups)
    exc = groups.get("exc", "")
    result.variant = result.variant.replace("{exc}", exc)
    result.subject = _subject(groups) or exc
    result.message = groups.get("message", "").strip()
    result.dist = groups.get("dist", "")
    before = text[: match.start()] if match else text
    _locate(result, groups, event, text, match)
    if pattern.compiled_each is not None:
        result.failing_tests = test_reports.failing_tests(pattern, text, event.cwd)
    span = (match.start(), match.end()) if match else (0, 0)
    _refine(result, groups, before, text, span, event)
    action = pattern.action if result.cls == pattern.cls else _ACTIONS.get(result.cls, "report")
    result.fix = fixes.build(action, result, event)
    return result


def _subject(groups: dict[str, str]) -> str:
    """`subject`, or the `subject_…` group of whichever alternative matched (RE2 allows a
    group name only once)."""
    for name, value in groups.items():
        if (name == "subject" or name.startswith("subject_")) and value.strip():
            return value.strip()
    return ""


# --- where -----------------------------------------------------------------------------

def _column(groups: dict[str, str], path: str, line: int | None) -> int | None:
    if groups.get("col", "").isdigit():
        return int(groups["col"])
    indent = len(groups.get("caret_indent", ""))
    if "caret_after" in groups:
        return indent + len(groups["caret_after"]) + 1
    if "src_indent" in groups:
        # Python prints the source line stripped of its indent, so add the real one back.
        real = locations.leading_space(path, line)
        if "caret" not in groups:
            return real or None  # `unexpected indent`: the error is where the indent ends
        return max(1, indent - len(groups["src_indent"]) + 1 + real)
    return indent + 1 if "caret" in groups else None


def _data_file(variant: str, event: events.Event, seen: str, whole: str) -> str:
    """The data file a parser complained about when its message names none: named in the
    command, in the output so far, or in the project's source line that read it."""
    finder = _DATA_FILE.get(variant)
    if finder is None:
        return ""
    texts = [event.command, seen[-3000:]]
    frame = locations.first_js_frame(whole, event.cwd) or locations.last_python_frame(
        seen, event.cwd)
    if frame is not None:
        texts.append(locations.source_line(locations.absolute(frame[0], event.cwd),
                                           frame[1]) or "")
    for text in texts:
        names = finder.findall(text)
        if names:
            return str(names[-1])
    return ""


def _locate(result: Classification, groups: dict[str, str], event: events.Event, text: str,
            match: Any) -> None:
    cwd = event.cwd
    file = groups.get("file", "")
    if (not file or file.startswith("<")) and result.cls == "syntax_error" and (
            "line" in groups or "pos" in groups):
        file = _data_file(result.variant, event, text[: match.end()] if match else text, text)
    if file and not locations.is_project_file(file, cwd) and result.cls in _FRAME_CLASSES:
        file = ""  # a library's or the runtime's own file: look for the project's frame
    if not file and result.cls in _FRAME_CLASSES:
        _frame_location(result, text, match, cwd)
        return
    if not file:
        return
    path = locations.absolute(file, cwd)
    line = int(groups["line"]) if groups.get("line", "").isdigit() else None
    col = _column(groups, path, line)
    if groups.get("pos", "").isdigit() and col is None:
        spot = locations.offset_to_line_col(path, int(groups["pos"]))
        if spot is not None:
            line, col = spot
    result.location = Location(locations.relative(file, cwd), line, col)
    if not result.subject:
        result.subject = result.location.file


def _frame_location(result: Classification, text: str, match: Any, cwd: str) -> None:
    end = match.end() if match else len(text)
    frame = locations.last_python_frame(text[:end], cwd)
    if frame is None and match is not None:
        js = locations.first_js_frame(text[match.start():], cwd)
        frame = (js[0], js[1]) if js else None
    if frame is not None:
        result.location = Location(locations.relative(frame[0], cwd), frame[1], None)


# --- what it means for this project -----------------------------------------------------------

def _refine(result: Classification, groups: dict[str, str], before: str, text: str,
            match_span: tuple[int, int], event: events.Event) -> None:
    if result.cls == "missing_python_module" and result.subject:
        if result.variant != "system_package":  # the OS provides it, not PyPI
            _python_module(result, before, event)
    elif result.cls in ("missing_node_module", "missing_local_module") and result.subject:
        node_packages.refine(result, groups, event)
    elif result.cls == "network_error" and not _subject(groups):
        server = endpoints.endpoint(groups, text, text[match_span[0]:match_span[1]])
        result.subject = server or result.subject
    elif result.cls == "npm_package_not_found":
        result.subject = urllib.parse.unquote(result.subject)  # the registry URL encodes scopes
    if result.cls in _PATH_CLASSES and os.path.isabs(result.subject):
        result.subject = locations.relative(result.subject, event.cwd)
    if "script" in groups:
        _crlf_script(result, groups["script"], event.cwd)
    if result.cls == "crlf_line_endings" and not result.subject:
        result.subject = groups.get("script") or commands.script_of(event.command)


def _python_module(result: Classification, before: str, event: events.Event) -> None:
    facts = python_imports.facts(result.subject, before, event.cwd)
    result.subject = facts.subject
    result.dist = result.dist or facts.dist
    result.declared_in = facts.declared_in
    if facts.variant:
        result.variant = facts.variant  # what the module is matters more than the wrapper
    elif commands.runs_under_uv(event.command):
        result.variant = "uv"


def _crlf_script(result: Classification, script: str, cwd: str) -> None:
    """A script the shell could not start. Its first line decides: a shebang ending in `\r`
    is a CRLF file, any other names the interpreter that is missing. Unread, the entry's own
    guess stands (bash's `required file not found` is nearly always a CRLF shebang)."""
    try:
        with open(locations.absolute(script, cwd), "rb") as handle:
            first = handle.readline().decode("utf-8", "replace").rstrip("\n")
    except OSError:
        return
    if first.endswith("\r"):
        if result.cls != "crlf_line_endings":
            result.variant = "shebang"
        result.cls, result.subject = "crlf_line_endings", script
    elif first.startswith("#!") and result.cls in ("missing_command", "file_not_found",
                                                   "crlf_line_endings"):
        interpreter = first[2:].split()
        if interpreter:
            name = os.path.basename(interpreter[0])
            result.cls, result.variant = "missing_command", "shebang"
            result.subject = interpreter[1] if name == "env" and len(interpreter) > 1 else name
