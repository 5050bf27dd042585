"""Every payload shape becomes one normalized Event; anything else is a clear EventError."""

from __future__ import annotations

import json

import pytest

from recoverd import events


def failure(error: str, **extra: object) -> bytes:
    payload = {"session_id": "s", "cwd": "/p", "hook_event_name": "PostToolUseFailure",
               "tool_name": "Bash", "tool_input": {"command": "make"}, "error": error, **extra}
    return json.dumps(payload).encode()


def test_claude_code_failure_takes_exit_code_from_first_line() -> None:
    event = events.parse(failure("Exit code 2\nmake: *** No rule to make target 'x'."))
    assert (event.exit_code, event.kind, event.source) == (2, events.FAILURE, "PostToolUseFailure")
    assert event.output == "make: *** No rule to make target 'x'."
    assert (event.command, event.cwd, event.session_id) == ("make", "/p", "s")
    assert event.hook_event_name == "PostToolUseFailure"


def test_exit_code_without_output() -> None:
    event = events.parse(failure("Exit code 1"))
    assert event.exit_code == 1 and event.output == ""


def test_truncation_marker_is_folded_and_counted() -> None:
    head, tail = "h" * 5000, "t" * 4990 + "\nboom"
    event = events.parse(failure(f"Exit code 1\n{head}\n\n... [12345 characters truncated] ...\n\n"
                                 f"{tail}"))
    assert event.truncated_chars == 12345
    assert event.output == f"{head}\n{tail}"
    assert "characters truncated" not in event.output


def test_failure_without_exit_line_keeps_whole_text() -> None:
    event = events.parse(failure("Command timed out"))
    assert event.exit_code is None and event.output == "Command timed out"


def test_failure_of_another_tool_is_ignored() -> None:
    payload = json.loads(failure("Exit code 1\nx"))
    payload["tool_name"] = "Read"
    assert events.parse(json.dumps(payload)).kind == events.IGNORED


def success(response: dict[str, object]) -> bytes:
    return json.dumps({"cwd": "/p", "hook_event_name": "PostToolUse", "tool_name": "Bash",
                       "tool_input": {"command": "echo hi"}, "tool_response": response}).encode()


def test_claude_code_success() -> None:
    event = events.parse(success({"stdout": "hi", "stderr": "", "interrupted": False}))
    assert (event.exit_code, event.kind, event.output) == (0, events.SUCCESS, "hi")


def test_harmless_nonzero_exit_is_benign() -> None:
    event = events.parse(success({"stdout": "", "stderr": "",
                                  "returnCodeInterpretation": "No matches found"}))
    assert event.kind == events.BENIGN and event.interpretation == "No matches found"


@pytest.mark.parametrize("key", ["exit_code", "exitCode"])
def test_success_shape_with_an_exit_code_field(key: str) -> None:
    event = events.parse(success({"stdout": "boom", key: 3}))
    assert (event.exit_code, event.kind) == (3, events.FAILURE)


def test_backgrounded_command_is_ignored() -> None:
    event = events.parse(success({"stdout": "", "backgroundTaskId": "b1"}))
    assert event.kind == events.IGNORED


def test_explicit_shape_for_other_agents() -> None:
    event = events.parse(json.dumps({"tool_input": {"command": "pytest"}, "cwd": "/p",
                                     "exit_code": 1, "stdout": "out", "stderr": "err"}))
    assert (event.source, event.exit_code, event.kind) == ("generic", 1, events.FAILURE)
    assert event.output == "out\nerr"


@pytest.mark.parametrize("payload,reason", [
    (b"", "not JSON"),
    (b"\xff\xfe garbage", "not JSON"),
    (b"[1, 2]", "JSON list"),
    (b'{"hook_event_name": "Stop"}', "unsupported hook_event_name"),
    (b'{"tool_input": {"command": "x"}}', "integer exit_code"),
    (b'{"exit_code": 1}', "tool_input.command"),
    (b'{"tool_input": {"command": "x"}, "exit_code": true}', "integer exit_code"),
])
def test_malformed_payloads_name_the_problem(payload: bytes, reason: str) -> None:
    with pytest.raises(events.EventError, match=reason):
        events.parse(payload)
