"""The package holds to its own standard: strict mypy and ruff (STYLE.md habit 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKED = ["recoverd", "hooks/recoverd-hook", "bench"]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)


def test_strict_mypy_passes() -> None:
    done = run("mypy", "recoverd")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_passes() -> None:
    done = run("ruff", "check", *CHECKED)
    assert done.returncode == 0, done.stdout + done.stderr
