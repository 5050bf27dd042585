"""Where an error is: file paths made relative, columns read off carets, offsets turned into
line and column, and the project's own frame picked out of a stack trace."""

from __future__ import annotations

import os
from dataclasses import dataclass

import re2

_PY_FRAME = re2.compile(r'(?m)^\s*(?:E\s+)?File "([^"\n]+)", line (\d+)')
_JS_FRAME = re2.compile(r"(?m)^\s+at (?:[^\n(]*\()?((?:file://)?/[^\s():]+):(\d+):(\d+)\)?$")
# Installed code and the interpreter's own files are never where the user's mistake is.
_NOT_PROJECT = ("site-packages", "dist-packages", "node_modules", "/lib/python", "<frozen",
                "node:", "/usr/lib/", "/usr/local/lib/")


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None
    col: int | None = None


def relative(path: str, cwd: str) -> str:
    """`path` relative to cwd when it lies inside it; file:// URLs become paths."""
    path = path.removeprefix("file://")
    if cwd and os.path.isabs(path):
        try:
            rel = os.path.relpath(path, cwd)
        except ValueError:
            return path
        return path if rel.startswith("..") else rel
    return path


def absolute(path: str, cwd: str) -> str:
    path = path.removeprefix("file://")
    return path if os.path.isabs(path) or not cwd else os.path.join(cwd, path)


def is_project_file(path: str, cwd: str) -> bool:
    """A file of the project itself: not installed code, not the runtime's own."""
    if any(marker in path for marker in _NOT_PROJECT):
        return False
    if path.startswith(("<", "[")):
        return False
    path = path.removeprefix("file://")
    if cwd and os.path.isabs(path):
        return not os.path.relpath(path, cwd).startswith("..")
    return True


def source_line(path: str, line: int | None) -> str | None:
    if line is None:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                if number == line:
                    return text.rstrip("\r\n")
    except OSError:
        pass
    return None


def leading_space(path: str, line: int | None) -> int:
    """How far the real source line is indented: Python strips that before printing it."""
    text = source_line(path, line)
    return 0 if text is None else len(text) - len(text.lstrip(" \t"))


def offset_to_line_col(path: str, offset: int) -> tuple[int, int] | None:
    """A 0-based character offset in a file (JSON parsers report these) as 1-based line, col."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    if offset > len(text):
        return None
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def last_python_frame(text: str, cwd: str) -> tuple[str, int] | None:
    """The innermost traceback frame that is the project's own code."""
    found = None
    for match in _PY_FRAME.finditer(text):
        if is_project_file(match.group(1), cwd):
            found = (match.group(1), int(match.group(2)))
    return found


def first_js_frame(text: str, cwd: str) -> tuple[str, int, int] | None:
    """The innermost stack frame (node prints innermost first) that is the project's code."""
    for match in _JS_FRAME.finditer(text):
        if is_project_file(match.group(1), cwd):
            return match.group(1), int(match.group(2)), int(match.group(3))
    return None
