"""Reading a shell command line: which program decided the exit code, and with what."""

from __future__ import annotations

import functools
import os
import shlex
import tomllib
from importlib import resources
from typing import Any

import re2

_SEPARATORS = re2.compile(r"\|\||&&|[;|&\n]")
_WRAPPERS = frozenset({"env", "time", "nice", "nohup", "command", "exec", "timeout", "stdbuf"})
_PYTHON = re2.compile(r"\A(?:.*/)?python(?:\d+(?:\.\d+)?)?\z")
# How each package manager installs one package; `{python}` is the failed command's python.
_INSTALL = {
    "apt": ["apt-get", "install", "-y", "{package}"],
    "brew": ["brew", "install", "{package}"],
    "pip": ["{python}", "-m", "pip", "install", "{package}"],
    "uv": ["uv", "tool", "install", "{package}"],
    "pipx": ["pipx", "install", "{package}"],
    "npm": ["npm", "install", "-g", "{package}"],
    "cargo": ["cargo", "install", "{package}"],
    "go": ["go", "install", "{package}@latest"],
}
# Package-manager front ends whose `run`/`test`/`start` execute a package.json script.
_SCRIPT_RUNNERS = re2.compile(r"\A(?:npm|pnpm|yarn|bun)\z")


@functools.lru_cache(maxsize=256)
def segments(command: str) -> tuple[str, ...]:
    """The commands of a list or pipeline, stripped, empty ones left out.

    Quotes are respected only roughly (a separator inside quotes splits too); that is enough to
    find the program names, which is all callers need. Cached: one event asks several times."""
    return tuple(part for part in (p.strip() for p in _SEPARATORS.split(command)) if part)


def last_segment(command: str) -> str:
    """The last command of a list or pipeline: the one whose exit status the shell reports."""
    parts = segments(command)
    return parts[-1] if parts else command.strip()


def words(segment: str) -> list[str]:
    return list(_split(segment))


@functools.lru_cache(maxsize=512)
def _split(segment: str) -> tuple[str, ...]:
    """shlex is slow and one event asks about the same command several times. Without quotes
    or backslashes, and in printable ASCII, shlex splits exactly where str.split() does."""
    if not ("'" in segment or '"' in segment or "\\" in segment) and segment.isascii() and (
            segment.replace("\t", " ").replace("\n", " ").replace("\r", " ").isprintable()):
        return tuple(segment.split())
    try:
        return tuple(shlex.split(segment, comments=False))
    except ValueError:
        return tuple(segment.split())


def program_words(command: str, segment: str | None = None) -> list[str]:
    """The words of the deciding command with env assignments and wrappers dropped."""
    return list(_program_words(last_segment(command) if segment is None else segment))


@functools.lru_cache(maxsize=512)
def _program_words(segment: str) -> tuple[str, ...]:
    tokens = words(segment)
    while tokens:
        head = tokens[0]
        if _is_assignment(head):
            tokens.pop(0)
        elif head in _WRAPPERS:
            tokens.pop(0)
            if head == "timeout" and tokens and not tokens[0].startswith("-"):
                tokens.pop(0)  # the duration
            while tokens and tokens[0].startswith("-"):
                tokens.pop(0)
        else:
            break
    return tuple(tokens)


def _is_assignment(word: str) -> bool:
    """`NAME=value`, NAME as the shell allows it: ASCII letters, digits, `_`, no digit first."""
    name, sep, _ = word.partition("=")
    return bool(sep) and name.isascii() and name.isidentifier()


def python_of(command: str) -> str:
    """The Python interpreter the failed command ran, as written in it (`.venv/bin/python`), or
    `python3`: a tool in a venv's bin folder (`.venv/bin/pytest`) names the venv's python."""
    for segment in reversed(segments(command)):
        tokens = _program_words(segment)
        if not tokens:
            continue
        head = tokens[0]
        if _PYTHON.search(head):
            return head
        folder = os.path.dirname(head)
        if folder.endswith("bin") and folder:
            return os.path.join(folder, "python")
    return "python3"


@functools.cache
def _table() -> dict[str, Any]:
    try:
        text = resources.files("recoverd").joinpath("data/commands.toml").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return {}
    return tomllib.loads(text)


def install_candidates(name: str, command: str = "") -> list[dict[str, Any]]:
    """How to install the executable `name`, best first: [{manager, package, argv}]."""
    entry = _table().get("command", {}).get(os.path.basename(name))
    if not isinstance(entry, dict):
        return []
    python = python_of(command)
    found = []
    for manager, package in entry.items():
        template = _INSTALL.get(manager)
        if template is None or not isinstance(package, str):
            continue
        argv = [w.replace("{package}", package).replace("{python}", python) for w in template]
        found.append({"manager": manager, "package": package, "argv": argv})
    return found


def npm_package_for_bin(name: str) -> str:
    """The npm package whose bin is `name` (tsc → typescript); the name itself otherwise."""
    mapped = _table().get("npm_bin", {}).get(name)
    return mapped if isinstance(mapped, str) else name


def runs_package_script(command: str) -> bool:
    """`npm test`, `pnpm run build`, `yarn lint`: the shell error comes from a package.json
    script, so a missing executable is a missing npm package."""
    tokens = program_words(command)
    return bool(tokens) and bool(_SCRIPT_RUNNERS.search(os.path.basename(tokens[0]))) and (
        len(tokens) > 1 and not tokens[1].startswith("-") and tokens[1] not in (
            "install", "i", "ci", "add", "exec", "dlx", "x"))


def runs_under_uv(command: str) -> bool:
    """`uv run …` / `uvx …`: the project's environment is managed by uv."""
    words = program_words(command)
    return words[:2] == ["uv", "run"] or (bool(words) and os.path.basename(words[0]) == "uvx")


_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "fish", "source", "."})


def script_of(command: str) -> str:
    """The script a command runs: `bash setup.sh` → setup.sh, `./deploy.sh --prod` → ./deploy.sh."""
    words = program_words(command)
    if not words:
        return ""
    if os.path.basename(words[0]) in _SHELLS:
        rest = [w for w in words[1:] if not w.startswith("-")]
        return rest[0] if rest else ""
    return words[0] if "/" in words[0] or words[0].endswith(".sh") else ""
