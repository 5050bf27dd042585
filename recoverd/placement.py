"""Where a match stands inside a file: a comment, a docstring, a string, a config value, a list
entry, an import, code.

Python is read with its own tokenizer (comments, docstrings, f-strings are exact); other files
with a small line lexer per family (`#` or `//` and `/* */` comments, quotes). The contexts are
the vocabulary of references.py (see its table of strategies and confidences).
"""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import PurePosixPath

from recoverd import project_files

# After a name: PEP 508 extras / version / marker, an npm-style range, a pin.
_SPEC = re.compile(r"\s*(?:\[[^\]]*\])?\s*(?:(?:[<>=!~^]=?|===|@|;)\s*\S.*)?\Z")
_VERSIONED = re.compile(r"\s*(?:\[[^\]]*\])?\s*(?:[<>=!~^]|@\s*\S)")
_KEY_VALUE = re.compile(r"""^\s*(?:export\s+)?(["']?)([\w.@/:\-]+)\1\s*[:=]\s*(.*?)\s*,?\s*$""")
_LIST_MARK = re.compile(r"^\s*(?:-\s+)?")
_IMPORT_LINE = re.compile(r"^\s*(?:import\b|from\s+\S+\s+import\b|export\s.*\bfrom\b|use\s)|"
                          r"\brequire\s*\(|\bimport\s*\(|\bfrom\s+['\"]|"
                          r"\bimport_module\s*\(|\b__import__\s*\(")
_INTERPOLATION = ("${", "{{", "$(", "%s", "%(", ".format(", "#{")
_WORD_EDGE = " \t\"'`,;()[]{}<>=|&"


@dataclass(frozen=True)
class Place:
    context: str  # config_value, list_entry, literal, prose, comment, docstring, argument,
    #               embedded, import, code, interpolated
    whole_line: bool = False  # the line is this one entry (a removal deletes the line)
    versioned: bool = False  # a version constraint written for the old resource follows it


@dataclass(frozen=True)
class _Style:
    hash_comments: bool = True
    slash_comments: bool = False
    semicolon_comments: bool = False
    quotes: str = "\"'"


_SLASH = _Style(hash_comments=False, slash_comments=True, quotes="\"'`")
_JSON = _Style(hash_comments=False, quotes='"')
_INI = _Style(semicolon_comments=True)
_HASH = _Style()


def family(relative: PurePosixPath) -> str:
    """python, code (C-like), json, config, shell, docs or text."""
    suffix = relative.suffix.lower()
    if suffix in (".py", ".pyi") or relative.name == "setup.py":
        return "python"
    if suffix in (".md", ".markdown", ".rst", ".adoc", ".txt") and not project_files.is_config(
            relative):
        return "docs"
    if suffix == ".json":
        return "json"
    if project_files.is_config(relative):
        return "config"
    if suffix in project_files.SOURCE_SUFFIXES:
        return "code"
    if suffix in project_files.SHELL_SUFFIXES or relative.name in ("Makefile", "justfile"):
        return "shell"
    return "text"


def style_for(kind: str, relative: PurePosixPath) -> _Style:
    if kind == "code" or relative.suffix.lower() in (".jsonc", ".json5"):
        return _SLASH
    if kind == "json":
        return _JSON
    if relative.suffix.lower() in (".ini", ".cfg", ".conf"):
        return _INI
    return _HASH


def spans(line: str, style: _Style, in_block: bool) -> tuple[list[tuple[int, int, str]], bool]:
    """Comment and string spans of one line as (start, end, kind); and whether a /* */ block
    comment is still open at its end. A string left open runs to the end of the line."""
    found: list[tuple[int, int, str]] = []
    i, n = 0, len(line)
    if in_block:
        close = line.find("*/")
        if close < 0:
            return [(0, n, "comment")], True
        found.append((0, close + 2, "comment"))
        i = close + 2
    while i < n:
        char = line[i]
        if style.slash_comments and line.startswith("//", i):
            found.append((i, n, "comment"))
            break
        if style.slash_comments and line.startswith("/*", i):
            close = line.find("*/", i + 2)
            if close < 0:
                found.append((i, n, "comment"))
                return found, True
            found.append((i, close + 2, "comment"))
            i = close + 2
            continue
        if (style.hash_comments and char == "#" and (i == 0 or line[i - 1].isspace())) or (
                style.semicolon_comments and char == ";" and not line[:i].strip()):
            found.append((i, n, "comment"))
            break
        if char in style.quotes:
            j = i + 1
            while j < n and line[j] != char:
                j += 2 if line[j] == "\\" else 1
            found.append((i, min(j + 1, n), "string:" + char))
            i = j + 1
            continue
        i += 1
    return found, False


class PythonTokens:
    """Python's own tokens for one file: which ones are comments, docstrings, f-strings."""

    def __init__(self, text: str) -> None:
        self.tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        self.starts = [token.start for token in self.tokens]
        self.comments = {t.start[0]: t.start[1] for t in self.tokens if t.type == tokenize.COMMENT}
        self.docstrings: set[int] = set()
        self.fstring_ranges: list[tuple[tuple[int, int], tuple[int, int]]] = []
        significant = [i for i, t in enumerate(self.tokens)
                       if t.type not in (tokenize.NL, tokenize.COMMENT)]
        opening: list[tuple[int, int]] = []
        for position, index in enumerate(significant):
            token = self.tokens[index]
            name = tokenize.tok_name[token.type]
            if name == "FSTRING_START":  # Python ≥ 3.12 splits f-strings into tokens
                opening.append(token.start)
            elif name == "FSTRING_END" and opening:
                self.fstring_ranges.append((opening.pop(), token.end))
            if token.type != tokenize.STRING:
                continue
            before = self.tokens[significant[position - 1]].type if position else None
            after = (self.tokens[significant[position + 1]].type
                     if position + 1 < len(significant) else tokenize.ENDMARKER)
            if before in (None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                          tokenize.ENCODING) and after in (tokenize.NEWLINE, tokenize.ENDMARKER):
                self.docstrings.add(index)

    def at(self, row: int, col: int) -> tuple[str, int]:
        """(kind, token index) at a 1-based row and 0-based column: comment, docstring,
        fstring, string or code."""
        where = (row, col)
        for start, end in self.fstring_ranges:
            if start <= where < end:
                return "fstring", -1
        # Tokens do not overlap: the last one starting at or before `where` is the only one
        # that can hold it (zero-width DEDENTs come before the token at their position).
        index = bisect.bisect_right(self.starts, where) - 1
        token = self.tokens[index] if index >= 0 else None
        if token is None or not token.start <= where < token.end:
            return "code", -1
        if token.type == tokenize.COMMENT:
            return "comment", index
        if token.type == tokenize.STRING:
            if index in self.docstrings:
                return "docstring", index
            prefix = token.string[:len(token.string) - len(token.string.lstrip("rRbBuUfF"))]
            return ("fstring" if "f" in prefix.lower() else "string"), index
        return "code", index

    def neighbours(self, index: int) -> tuple[str, str]:
        """The significant tokens just before and after token `index` (their text)."""
        def text_at(step: int) -> str:
            i = index + step
            while 0 <= i < len(self.tokens) and self.tokens[i].type in (
                    tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE):
                i += step
            return self.tokens[i].string if 0 <= i < len(self.tokens) else ""
        return text_at(-1), text_at(1)


def _is_name_with_spec(text: str, start: int, length: int) -> tuple[bool, bool]:
    """(the resource at `start` is all of `text` but a spec, a version is attached)."""
    rest = text[start + length:]
    exact = not text[:start].strip() and bool(_SPEC.match(rest))
    return exact, bool(_VERSIONED.match(rest))


def _whole_word(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1] in _WORD_EDGE) and (
        end >= len(text) or text[end] in _WORD_EDGE or text[end] in ".:")


def _list_entry(body: str, start: int, length: int) -> Place | None:
    """The line is one list entry (`- x`, `"x>=1",`, `x==1`) or one dependency-table entry
    (`"x": "^1.0",`, `x = "^1"`) naming the resource."""
    mark = _LIST_MARK.match(body)
    offset = mark.end() if mark else 0
    entry = body[offset:].rstrip().rstrip(",").rstrip()
    if entry[:1] in "\"'" and len(entry) > 1 and entry[-1] == entry[0]:
        entry, offset = entry[1:-1], offset + 1
    if start >= offset and not entry[:start - offset].strip():
        exact, versioned = _is_name_with_spec(entry, start - offset, length)
        if exact:
            return Place("list_entry", whole_line=True, versioned=versioned)
    key_value = _KEY_VALUE.match(body)
    if key_value and key_value.start(2) == start and key_value.end(2) == start + length:
        value = key_value.group(3).strip().strip("\"'")
        if value:  # a key with nothing after it opens a block: not one line to remove
            return Place("list_entry", whole_line=True, versioned=value[0] not in "{[")
    return None


def _config_value(body: str, start: int, length: int) -> Place | None:
    key_value = _KEY_VALUE.match(body)
    if not key_value or start < key_value.start(3):
        return None
    value = key_value.group(3)
    offset = key_value.start(3)
    if value[:1] in "\"'" and len(value) > 1 and value.rstrip(",")[-1:] == value[0]:
        value, offset = value.rstrip(",")[1:-1], offset + 1
    exact, versioned = _is_name_with_spec(value, start - offset, length)
    return Place("config_value", versioned=versioned) if exact else None


def _in_string(line: str, span: tuple[int, int, str], start: int, length: int,
               code: bool) -> Place:
    first, last, kind = span
    quote = kind.split(":", 1)[1]
    content_end = last - 1 if last - first > 1 and line[last - 1] == quote else last
    content = line[first + 1:content_end]
    around = (line[:first].rstrip()[-1:], line[last:].lstrip()[:1])
    if (quote == "`" and "${" in content) or "+" in around or any(
            mark in line for mark in _INTERPOLATION):
        return Place("interpolated")
    if code and _IMPORT_LINE.search(line):
        return Place("import")
    exact, versioned = _is_name_with_spec(content, start - first - 1, length)
    if exact:
        return Place("literal", versioned=versioned)
    return Place("argument" if _whole_word(line, start, start + length) else "embedded")


def place_in_line(kind: str, line: str, line_spans: list[tuple[int, int, str]], start: int,
                  length: int) -> Place:
    """The place of a match at column `start` of a line that is not Python."""
    body = line.rstrip("\r\n")
    span = next((s for s in line_spans if s[0] <= start < s[1]), None)
    if span is not None and span[2] == "comment":
        return Place("comment")
    if kind == "docs":
        return Place("prose")
    comment = next((s[0] for s in line_spans if s[2] == "comment"), len(body))
    code = body[:comment].rstrip()  # `- x  # main model` is still one list entry
    if kind in ("config", "json") or span is not None:
        entry = _list_entry(code, start, length)
        if entry is not None:
            return entry
    if kind in ("config", "json", "shell", "text"):
        value = _config_value(code, start, length)
        if value is not None and not any(mark in body for mark in _INTERPOLATION):
            return value
    if span is not None:
        return _in_string(body, span, start, length, code=kind == "code")
    if any(mark in body for mark in _INTERPOLATION):
        return Place("interpolated")
    if kind == "code":
        return Place("import" if _IMPORT_LINE.search(body) else "code")
    return Place("argument" if _whole_word(body, start, start + length) else "embedded")


def place_in_python(tokens: PythonTokens, line: str, row: int, start: int,
                    length: int) -> Place:
    kind, index = tokens.at(row, start)
    body = line.rstrip("\r\n")
    if kind in ("comment", "docstring"):
        return Place(kind)
    if kind == "fstring":
        return Place("interpolated")
    if kind == "string":
        before, after = tokens.neighbours(index)
        token = tokens.tokens[index]
        formatted = token.end[0] == row and body[token.end[1]:].startswith(".format(")
        if before == "+" or after in ("+", "%") or formatted:
            return Place("interpolated")
        code = body[:tokens.comments.get(row, len(body))].rstrip()
        entry = _list_entry(code, start, length)
        if entry is not None and tokens.tokens[index].start[0] == row:
            return entry
        if token.start[0] == token.end[0] == row:
            span = (token.start[1] + len(token.string) - len(token.string.lstrip("rRbBuU")),
                    token.end[1], "string:" + token.string.lstrip("rRbBuU")[:1])
            return _in_string(body, span, start, length, code=True)
        return Place("argument" if _whole_word(body, start, start + length) else "embedded")
    return Place("import" if _IMPORT_LINE.search(body) else "code")
