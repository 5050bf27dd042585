"""One normalized event from every payload shape the hook can receive."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import re2

# Claude Code cuts a long `error` to head and tail around this marker (claude-code-hooks.md §2.3).
_TRUNCATION = re2.compile(r"\n*\.\.\. \[(\d+) characters truncated\] \.\.\.\n*")
_EXIT_LINE = re2.compile(r"\AExit code (-?\d+)(?:\n|\z)")

FAILURE = "failure"
SUCCESS = "success"
BENIGN = "benign"  # a non-zero exit Claude Code itself calls harmless (grep: "No matches found")
IGNORED = "ignored"  # not a Bash call, or nothing to judge (backgrounded)


class EventError(ValueError):
    """A payload that is not one of the shapes recoverd understands."""


@dataclass(frozen=True)
class Event:
    command: str
    cwd: str
    exit_code: int | None
    output: str
    kind: str
    source: str  # "PostToolUseFailure", "PostToolUse" or "generic"
    session_id: str = ""
    tool_name: str = "Bash"
    truncated_chars: int = 0
    interpretation: str = ""
    env: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def hook_event_name(self) -> str:
        return self.source if self.source.startswith("PostToolUse") else ""


def parse(payload: bytes | str, env: dict[str, str] | None = None) -> Event:
    """Parse a hook payload; raise EventError for anything that is not a known shape."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"payload is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EventError(f"payload is a JSON {type(data).__name__}, not an object")
    return from_mapping(data, env or {})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _command(data: dict[str, Any]) -> str:
    tool_input = data.get("tool_input")
    if isinstance(tool_input, dict):
        return _text(tool_input.get("command"))
    return _text(data.get("command"))


def split_error(error: str) -> tuple[int | None, str, int]:
    """`Exit code N\\n<output>` → (N, output with the truncation marker folded, chars cut)."""
    exit_code: int | None = None
    match = _EXIT_LINE.search(error)
    if match:
        exit_code = int(match.group(1))
        error = error[match.end():]
    truncated = 0
    cut = _TRUNCATION.search(error)
    if cut:
        truncated = int(cut.group(1))
        error = error[: cut.start()] + "\n" + error[cut.end():]
    return exit_code, error, truncated


def from_mapping(data: dict[str, Any], env: dict[str, str]) -> Event:
    name = _text(data.get("hook_event_name"))
    tool = _text(data.get("tool_name")) or "Bash"
    common: dict[str, Any] = {
        "command": _command(data),
        "cwd": _text(data.get("cwd")),
        "session_id": _text(data.get("session_id")),
        "tool_name": tool,
        "env": env,
    }
    if name == "PostToolUseFailure":
        error = _text(data.get("error"))
        exit_code, output, truncated = split_error(error)
        kind = FAILURE if tool == "Bash" else IGNORED
        if data.get("is_interrupt") is True and exit_code is None:
            exit_code = 130
        return Event(exit_code=exit_code, output=output, kind=kind, source=name,
                     truncated_chars=truncated, **common)
    if name == "PostToolUse":
        response = data.get("tool_response")
        response = response if isinstance(response, dict) else {}
        exit_code = _int(response.get("exit_code", response.get("exitCode")))
        stdout, stderr = _text(response.get("stdout")), _text(response.get("stderr"))
        output = stdout + ("\n" + stderr if stdout and stderr else stderr)
        interpretation = _text(response.get("returnCodeInterpretation"))
        if tool != "Bash" or response.get("backgroundTaskId"):
            kind = IGNORED
        elif interpretation:
            kind = BENIGN
        elif exit_code not in (None, 0):
            kind = FAILURE
        else:
            kind = SUCCESS
        return Event(exit_code=0 if exit_code is None else exit_code, output=output, kind=kind,
                     source=name, interpretation=interpretation, **common)
    if name:
        raise EventError(f"unsupported hook_event_name {name!r}")
    # The explicit shape for other agents and scripts.
    exit_code = _int(data.get("exit_code", data.get("exitCode")))
    if exit_code is None:
        raise EventError("generic event needs an integer exit_code")
    if not common["command"]:
        raise EventError("generic event needs tool_input.command")
    stdout, stderr = _text(data.get("stdout")), _text(data.get("stderr"))
    if "output" in data and not (stdout or stderr):
        stdout = _text(data.get("output"))
    output = stdout + ("\n" + stderr if stdout and stderr and not stdout.endswith("\n") else stderr)
    return Event(exit_code=exit_code, output=output, kind=FAILURE if exit_code else SUCCESS,
                 source="generic", **common)
