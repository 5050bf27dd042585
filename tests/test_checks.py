"""Second looks: the excerpt read from the file, and each language's own checker."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from recoverd import checks
from recoverd.classifier import Classification, Location
from recoverd.events import FAILURE, Event


def test_excerpt_marks_the_line_and_the_column(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("one\n\ttwo = (\nthree\n")
    assert checks.excerpt(source, 2, 7) == (
        "  1 | one\n"
        "> 2 |     two = (\n"
        "    |       ^\n"
        "  3 | three")


def test_excerpt_of_a_missing_line_or_file_is_empty(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("x\n")
    assert checks.excerpt(source, 5, 1) == ""
    assert checks.excerpt(tmp_path / "nope.py", 1, 1) == ""


def syntax(tmp_path: Path, name: str, text: str, variant: str,
           command: str = "true") -> checks.SyntaxCheck | None:
    (tmp_path / name).write_text(text)
    result = Classification("syntax_error", "p", variant=variant, location=Location(name, 1, 1))
    event = Event(command=command, cwd=str(tmp_path), exit_code=1, output="", kind=FAILURE,
                  source="generic")
    return checks.confirm_syntax(result, event)


@pytest.mark.parametrize("name,broken,fixed,variant", [
    ("c.json", '{"a": 1,}', '{"a": 1}', "json"),
    ("c.toml", "a = = 1", "a = 1", "toml"),
    ("s.sh", "if true; then\n", "if true; then :; fi\n", "shell"),
])
def test_checkers_tell_broken_from_fixed(tmp_path: Path, name: str, broken: str, fixed: str,
                                         variant: str) -> None:
    if variant == "shell" and shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    check = syntax(tmp_path, name, broken, variant)
    assert check is not None and check.still_broken
    check = syntax(tmp_path, name, fixed, variant)
    assert check is not None and not check.still_broken


def test_python_is_checked_by_the_commands_own_interpreter(tmp_path: Path) -> None:
    command = f"{sys.executable} app.py"
    check = syntax(tmp_path, "app.py", "def f(:\n", "python", command)
    assert check is not None and check.still_broken and "SyntaxError" in check.detail
    assert check.checker.startswith(Path(sys.executable).name)
    check = syntax(tmp_path, "app.py", "def f():\n    pass\n", "python", command)
    assert check is not None and not check.still_broken


def test_python_checker_does_not_run_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = f"{sys.executable} app.py"
    check = syntax(tmp_path, "app.py", f"open({str(marker)!r}, 'w')\n", "python", command)
    assert check is not None and not check.still_broken and not marker.exists()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_is_checked_with_node_check(tmp_path: Path) -> None:
    check = syntax(tmp_path, "a.js", "function f( {\n", "javascript")
    assert check is not None and check.still_broken and check.checker == "node --check"


def test_no_checker_for_languages_without_a_safe_one(tmp_path: Path) -> None:
    assert syntax(tmp_path, "Makefile", "all:\n  echo\n", "makefile") is None


def test_npx_reruns_never_download() -> None:
    assert checks.rerun_argv(["npx", "jest", "-t", "x"]) == ["npx", "--no", "jest", "-t", "x"]
    assert checks.rerun_argv(["python", "-m", "pytest"]) == ["python", "-m", "pytest"]
