"""Second looks at a failure: is the syntax error still there (the language's own checker),
and does a failing test fail again when re-run alone (flaky or real)?"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from recoverd import commands
from recoverd.classifier import Classification
from recoverd.events import Event

CHECK_TIMEOUT = 30.0
MAX_SOURCE_BYTES = 5 << 20


@dataclass(frozen=True)
class SyntaxCheck:
    checker: str  # what was run or used: "python -m ast", "node --check", "json parser", …
    still_broken: bool
    detail: str = ""  # the checker's own message, when it has one


def excerpt(path: Path, line: int, col: int | None, context: int = 1) -> str:
    """The offending line with its neighbours and a caret under the column, read from the file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(MAX_SOURCE_BYTES).splitlines()
    except OSError:
        return ""
    if not 1 <= line <= len(lines):
        return ""
    first, last = max(1, line - context), min(len(lines), line + context)
    width = len(str(last))
    out = []
    for number in range(first, last + 1):
        text = lines[number - 1].expandtabs(4)[:300]
        out.append(f"{'>' if number == line else ' '} {number:>{width}} | {text}")
        if number == line and col is not None and col >= 1:
            out.append(f"  {' ' * width} | {' ' * min(col - 1, 299)}^")
    return "\n".join(out)


def _run(argv: list[str], cwd: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, cwd=cwd or None, capture_output=True, text=True,
                              timeout=CHECK_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _python_for(event: Event) -> str | None:
    python = commands.python_of(event.command)
    if os.path.isabs(python) or "/" not in python:
        return shutil.which(python, path=event.env.get("PATH")) if "/" not in python else python
    return os.path.join(event.cwd, python)


def confirm_syntax(result: Classification, event: Event) -> SyntaxCheck | None:
    """Re-check the reported file with the language's own checker, where one is at hand.
    Nothing here executes the file: parsers and `--check`/`-n` modes only."""
    if result.location is None or not result.location.file:
        return None
    path = Path(event.cwd or ".", result.location.file)
    if not path.is_file():
        return None
    variant = result.variant
    if variant.startswith("python"):
        python = _python_for(event)
        if python is None:
            return None
        done = _run([python, "-I", "-c", "import ast, sys\nwith open(sys.argv[1], 'rb') as f:"
                     "\n    ast.parse(f.read(), sys.argv[1])", str(path)], event.cwd)
        if done is None:
            return None
        tail = done.stderr.strip().splitlines()[-1:] if done.stderr.strip() else []
        return SyntaxCheck(f"{os.path.basename(python)} ast.parse", done.returncode != 0,
                           tail[0] if tail else "")
    if variant.startswith("javascript") and shutil.which("node"):
        done = _run(["node", "--check", str(path)], event.cwd)
        return None if done is None else SyntaxCheck("node --check", done.returncode != 0)
    if variant == "shell" and shutil.which("bash"):
        done = _run(["bash", "-n", str(path)], event.cwd)
        return None if done is None else SyntaxCheck("bash -n", done.returncode != 0,
                                                     done.stderr.strip()[:300])
    if variant == "json":
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            return SyntaxCheck("json parser", True, str(exc))
        return SyntaxCheck("json parser", False)
    if variant == "toml":
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            return SyntaxCheck("tomllib", True, str(exc))
        return SyntaxCheck("tomllib", False)
    if variant == "go" and shutil.which("gofmt"):
        done = _run(["gofmt", "-e", "-l", str(path)], event.cwd)
        return None if done is None else SyntaxCheck("gofmt -e", done.returncode != 0)
    return None


def rerun_argv(argv: list[str]) -> list[str]:
    """The re-run command made safe to run unattended: npx never downloads a package."""
    if argv and argv[0] == "npx" and "--no" not in argv:
        return ["npx", "--no", *argv[1:]]
    return argv
