"""The fix recoverd proposes for a classification: a kind, and an argv list when one applies.

`auto` says whether recoverd would run the fix by itself under the current policy. Nothing is
run automatically yet, so every fix is `auto: false` until the recovery runner decides otherwise.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from recoverd import commands

if TYPE_CHECKING:
    from recoverd.classifier import Classification
    from recoverd.events import Event


@dataclass
class Fix:
    kind: str
    argv: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    auto: bool = False
    description: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    dev: bool | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.argv:
            out["argv"] = self.argv
        if self.packages:
            out["packages"] = self.packages
        if self.candidates:
            out["candidates"] = self.candidates
        if self.dev is not None:
            out["dev"] = self.dev
        if self.description:
            out["description"] = self.description
        out["auto"] = self.auto
        return out


def _package_scripts(cwd: str) -> dict[str, str]:
    try:
        with open(os.path.join(cwd, "package.json"), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    scripts = data.get("scripts") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in scripts.items()} if isinstance(scripts, dict) else {}


def _npm_run(result: Classification, event: Event) -> Fix:
    scripts = _package_scripts(event.cwd) if event.cwd else {}
    close = difflib.get_close_matches(result.subject, list(scripts), n=1, cutoff=0.5)
    if close:
        runner = commands.program_words(event.command)[:1] or ["npm"]
        return Fix("npm_run", argv=[runner[0], "run", close[0]],
                   description=f"The closest existing script is '{close[0]}'.")
    listed = ", ".join(sorted(scripts)) or "none"
    return Fix("npm_run", description=f"Scripts in package.json: {listed}.")


def _rerun(result: Classification, event: Event) -> Fix:
    ids = [t.id for t in result.failing_tests]
    if not ids:
        return Fix("rerun_failed_tests")
    if result.variant in ("pytest", "pytest_fixture_error", ""):
        return Fix("rerun_failed_tests", argv=[commands.python_of(event.command), "-m", "pytest",
                                               *ids])
    return Fix("rerun_failed_tests")


def build(kind: str, result: Classification, event: Event) -> Fix:
    """Turn an entry's action into a concrete proposal."""
    if kind == "pip_install" and result.subject:
        dist = result.dist or result.subject
        python = commands.python_of(event.command)
        return Fix(kind, argv=[python, "-m", "pip", "install", dist], packages=[dist])
    if kind == "npm_install" and result.subject:
        return Fix(kind, argv=["npm", "install", result.subject], packages=[result.subject],
                   dev=False)
    if kind == "npm_run":
        return _npm_run(result, event)
    if kind == "rerun_failed_tests":
        return _rerun(result, event)
    if kind == "install_command" and result.subject:
        return Fix(kind, description=f"Install the program that provides `{result.subject}`.")
    if kind == "chmod_x" and result.subject:
        return Fix(kind, argv=["chmod", "+x", result.subject])
    return Fix(kind)
