"""Reading a shell command line: which program decided the exit code, and with what."""

from __future__ import annotations

import os
import shlex

import re2

_SEPARATORS = re2.compile(r"\|\||&&|[;|&\n]")
_ASSIGNMENT = re2.compile(r"\A[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = frozenset({"env", "time", "nice", "nohup", "command", "exec", "timeout", "stdbuf"})
_PYTHON = re2.compile(r"\A(?:.*/)?python(?:\d+(?:\.\d+)?)?\z")


def last_segment(command: str) -> str:
    """The last command of a list or pipeline: the one whose exit status the shell reports.

    Quotes are respected only roughly (a separator inside quotes splits too); that is enough to
    find the program name, which is all callers need."""
    parts = [p.strip() for p in _SEPARATORS.split(command) if p.strip()]
    return parts[-1] if parts else command.strip()


def words(segment: str) -> list[str]:
    try:
        return shlex.split(segment, comments=False)
    except ValueError:
        return segment.split()


def program_words(command: str, segment: str | None = None) -> list[str]:
    """The words of the deciding command with env assignments and wrappers dropped."""
    tokens = words(last_segment(command) if segment is None else segment)
    while tokens:
        head = tokens[0]
        if _ASSIGNMENT.search(head):
            tokens.pop(0)
        elif head in _WRAPPERS:
            tokens.pop(0)
            if head == "timeout" and tokens and not tokens[0].startswith("-"):
                tokens.pop(0)  # the duration
            while tokens and tokens[0].startswith("-"):
                tokens.pop(0)
        else:
            break
    return tokens


def python_of(command: str) -> str:
    """The Python interpreter the failed command ran, as written in it (`.venv/bin/python`), or
    `python3`: a tool in a venv's bin folder (`.venv/bin/pytest`) names the venv's python."""
    for segment in reversed([p for p in _SEPARATORS.split(command) if p.strip()]):
        tokens = program_words(command, segment)
        if not tokens:
            continue
        head = tokens[0]
        if _PYTHON.search(head):
            return head
        folder = os.path.dirname(head)
        if folder.endswith("bin") and folder:
            return os.path.join(folder, "python")
    return "python3"
