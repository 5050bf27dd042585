"""Reading command lines: the words of the deciding command, as the shell would split them."""

from __future__ import annotations

import shlex

from hypothesis import given, settings
from hypothesis import strategies as st

from recoverd import commands

# Quotes, escapes, separators and every kind of whitespace, among plain characters.
ALPHABET = st.sampled_from(list("ab c-=./|&;#$\t\n\r\x0b\x0c\x1c'\"\\é"))


@settings(max_examples=3000, deadline=None)
@given(st.text(ALPHABET, max_size=16))
def test_words_are_what_shlex_makes_of_them(segment: str) -> None:
    try:
        expected = shlex.split(segment, comments=False)
    except ValueError:  # an unclosed quote: plain whitespace splitting
        expected = segment.split()
    assert commands.words(segment) == expected


def test_program_words_drop_assignments_and_wrappers() -> None:
    line = "cd app && FOO=1 timeout 30 env -i .venv/bin/python -m pytest -q"
    assert commands.program_words(line) == [".venv/bin/python", "-m", "pytest", "-q"]
    assert commands.python_of(line) == ".venv/bin/python"
    assert commands.python_of("make test") == "python3"
    assert commands.runs_under_uv("uv run pytest") and not commands.runs_under_uv("pytest")
