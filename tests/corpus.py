"""The labelled corpus in ../shared/corpus/cases: loading cases, rebuilding their files, and
delivering each one exactly the way Claude Code hands a finished Bash call to the hook."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cases"
# The project's own cases, captured by tests/capture/capture.py in the same format.
OWN_CASES_DIR = Path(__file__).resolve().parent / "cases"

# Claude Code's cut (claude-code-hooks.md §2.3): a 30,000-character capture window, then the
# `error` string is cut to head and tail around a marker when it is over 10,000 characters.
CAPTURE_WINDOW = 30_000
ERROR_LIMIT = 10_000
ERROR_KEEP = 5_000


def load_cases(folder: Path = CASES_DIR) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def error_text(exit_code: int, output: str) -> str:
    """The `error` of a PostToolUseFailure for a command that printed `output`."""
    error = f"Exit code {exit_code}\n" + output[:CAPTURE_WINDOW]
    if len(error) > ERROR_LIMIT:
        cut = len(error) - 2 * ERROR_KEEP
        error = (error[:ERROR_KEEP] + f"\n\n... [{cut} characters truncated] ...\n\n"
                 + error[-ERROR_KEEP:])
    return error


def case_cwd(case: dict[str, Any], root: Path | None = None) -> str:
    base = str(root) if root is not None else case["capture"]["root"]
    return os.path.normpath(os.path.join(base, case.get("cwd") or "."))


def deliver(case: dict[str, Any], root: Path | None = None) -> dict[str, Any]:
    """The hook payload Claude Code would send for this case.

    With `root`, the case's files were rebuilt there (see `materialise`) and the absolute
    project paths in the output are moved from the captured root to it; otherwise the event's
    cwd is the captured root, which need not exist on this machine."""
    output = case["output"]
    if root is not None:
        output = output.replace(case["capture"]["root"], str(root))
    payload: dict[str, Any] = {
        "session_id": "corpus",
        "transcript_path": "/dev/null",
        "cwd": case_cwd(case, root),
        "tool_name": "Bash",
        "tool_input": {"command": case["command"], "description": case["id"]},
        "tool_use_id": f"toolu_{case['id']}",
    }
    if case["exit_code"] == 0:
        payload["hook_event_name"] = "PostToolUse"
        payload["tool_response"] = {"stdout": output, "stderr": "", "interrupted": False,
                                    "isImage": False, "noOutputExpected": False}
    else:
        payload["hook_event_name"] = "PostToolUseFailure"
        payload["error"] = error_text(case["exit_code"], output)
        payload["is_interrupt"] = False
    return payload


# --- rebuilding a case's project without the network -------------------------------------

_HEREDOC = re.compile(r"<<\s*'?(\w+)'?")


def _script_steps(setup: str) -> list[tuple[str, str]]:
    """(command line, here-document body) pairs of a setup script."""
    steps: list[tuple[str, str]] = []
    lines = setup.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        marker = _HEREDOC.search(line)
        body: list[str] = []
        if marker:
            while i < len(lines) and lines[i] != marker.group(1):
                body.append(lines[i])
                i += 1
            i += 1
        steps.append((line.strip(), "\n".join(body) + ("\n" if marker else "")))
    return steps


def _stub_node_modules(root: Path) -> None:
    """What `npm install` leaves behind that recoverd looks at: a folder per declared package."""
    try:
        manifest = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        for name, version in (manifest.get(key) or {}).items():
            folder = root / "node_modules" / name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "package.json").write_text(
                json.dumps({"name": name, "version": str(version).lstrip("^~")}), "utf-8")


def materialise(case: dict[str, Any], root: Path) -> None:
    """Rebuild the files a case's setup script writes, without running its installers.

    Here-documents, `mkdir`, `chmod` and inline `python3 -` generators run for real; `npm
    install` becomes a stub folder per declared package, a venv or a cargo project an empty
    skeleton. Anything else (git, useradd, downloads) is skipped."""
    root.mkdir(parents=True, exist_ok=True)
    for line, body in _script_steps(case.get("setup", "")):
        try:
            words = shlex.split(line.split("<<")[0]) if line else []
        except ValueError:
            continue
        if not words:
            continue
        if words[0] == "cat" and ">" in words and body:
            target = root / words[words.index(">") + 1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        elif words[0] == "mkdir":
            for name in (w for w in words[1:] if not w.startswith("-")):
                (root / name).mkdir(parents=True, exist_ok=True)
        elif words[0] == "chmod" and len(words) == 3:
            target = root / words[2]
            if target.exists():
                target.chmod(int(words[1], 8) if words[1].isdigit() else 0o755)
        elif words[:2] == ["python3", "-"] and body:
            subprocess.run([sys.executable, "-"], input=body, text=True, cwd=root, check=False,
                           capture_output=True, timeout=30)
        elif words[:2] == ["npm", "install"] and all(w.startswith("-") for w in words[2:]):
            _stub_node_modules(root)
        elif len(words) >= 4 and words[1:3] == ["-m", "venv"]:
            (root / words[3] / "bin").mkdir(parents=True, exist_ok=True)
        elif words[:2] == ["cargo", "new"]:
            name = root / words[-1]
            (name / "src").mkdir(parents=True, exist_ok=True)
            (name / "Cargo.toml").write_text(
                f'[package]\nname = "{name.name}"\nversion = "0.1.0"\nedition = "2021"\n', "utf-8")
        elif words[:3] == ["go", "mod", "init"] and len(words) > 3:
            (root / "go.mod").write_text(f"module {words[3]}\n\ngo 1.22\n", "utf-8")
        elif words[:2] == ["git", "init"]:
            (root / ".git").mkdir(exist_ok=True)
