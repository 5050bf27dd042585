"""Smoke test of the e2e harness itself, without recoverd.

A throwaway hook on PostToolUseFailure and PostToolUse records its stdin and answers with
additionalContext for failures only. The real Claude Code binary runs a failing and a
succeeding Bash call scripted by the fake Messages API; the test checks what the hook got and
what reached the model.
"""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest
from claude_code import ClaudeRun, require_claude_binary, run_claude
from fake_messages_api import (
    SCRIPT_EXHAUSTED_TEXT,
    FakeMessagesAPI,
    ToolResult,
    bash,
    split_hook_texts,
    text,
    tool_use_id,
)

FAILING_COMMAND = 'python3 -c "import nosuchmod_abc"'
SUCCEEDING_COMMAND = "echo ok"
FINAL_TEXT = "smoke done"
FAILURE_CONTEXT = "PostToolUseFailure:Bash hook additional context: SMOKE PostToolUseFailure"

# Reads the payload to EOF, appends it to the record file, and answers for failures only.
HOOK_SOURCE = textwrap.dedent(
    """\
    import json
    import sys

    payload = json.load(sys.stdin)
    with open(sys.argv[1], "a", encoding="utf-8") as record:
        record.write(json.dumps(payload) + "\\n")
    event = payload.get("hook_event_name")
    if event == "PostToolUseFailure":
        answer = {"hookEventName": event, "additionalContext": "SMOKE " + event}
        print(json.dumps({"hookSpecificOutput": answer}))
    """
)


@dataclass
class SmokeRun:
    run: ClaudeRun
    api: FakeMessagesAPI
    hook_payloads: list[dict[str, Any]]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> SmokeRun:
    binary = require_claude_binary()
    root = tmp_path_factory.mktemp("smoke")
    project, home = root / "project", root / "home"
    (project / ".claude").mkdir(parents=True)
    home.mkdir()
    hook_script, record = root / "smoke_hook.py", root / "hook_stdin.jsonl"
    hook_script.write_text(HOOK_SOURCE, encoding="utf-8")

    hook_command = " ".join(shlex.quote(str(p)) for p in (sys.executable, hook_script, record))
    hook = {"type": "command", "command": hook_command, "timeout": 10}
    matcher_group = [{"matcher": "Bash", "hooks": [hook]}]
    settings = {"hooks": {"PostToolUseFailure": matcher_group, "PostToolUse": matcher_group}}
    settings_json = json.dumps(settings, indent=2)
    (project / ".claude" / "settings.json").write_text(settings_json, encoding="utf-8")

    turns = [bash(FAILING_COMMAND), bash(SUCCEEDING_COMMAND), text(FINAL_TEXT)]
    with FakeMessagesAPI(turns, lifetime_s=120) as api:
        run = run_claude(
            project, home, api.url, "Run the smoke commands.", timeout=60, claude_bin=binary
        )
    assert not run.timed_out, run.describe()
    assert run.returncode == 0, run.describe()

    lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    payloads = [json.loads(line) for line in lines]
    return SmokeRun(run=run, api=api, hook_payloads=payloads)


@pytest.mark.e2e
def test_session_plays_the_whole_script(smoke: SmokeRun) -> None:
    assert len(smoke.api.requests) == 3, smoke.run.describe()
    result = smoke.run.result
    assert result is not None, smoke.run.describe()
    assert result.get("result") == FINAL_TEXT


@pytest.mark.e2e
def test_failure_payload_reaches_hook(smoke: SmokeRun) -> None:
    failures = [p for p in smoke.hook_payloads if p.get("hook_event_name") == "PostToolUseFailure"]
    assert len(failures) == 1, smoke.hook_payloads
    failure = failures[0]
    assert failure["tool_name"] == "Bash"
    assert failure["tool_input"]["command"] == FAILING_COMMAND
    assert failure["tool_use_id"] == tool_use_id(0)
    assert failure["error"].startswith("Exit code 1\n"), failure["error"]
    assert "No module named 'nosuchmod_abc'" in failure["error"]
    assert "exit_code" not in failure


@pytest.mark.e2e
def test_failure_context_reaches_model(smoke: SmokeRun) -> None:
    request = smoke.api.request_after(tool_use_id(0))
    assert request is not None
    messages = request["messages"]
    position = next(
        i
        for i, m in enumerate(messages)
        if isinstance(m["content"], list)
        and any(
            b.get("type") == "tool_result" and b.get("tool_use_id") == tool_use_id(0)
            for b in m["content"]
        )
    )
    result_block = next(b for b in messages[position]["content"] if b.get("type") == "tool_result")
    assert result_block.get("is_error") is True
    follower = messages[position + 1]
    assert follower["role"] == "system"
    # §3.2: the freshly added system message is a one-block list carrying cache_control.
    assert isinstance(follower["content"], list), follower
    assert follower["content"][0]["text"] == FAILURE_CONTEXT

    failure_result = smoke.api.tool_results()[0]
    assert failure_result.is_error
    [failure] = [p for p in smoke.hook_payloads if p["hook_event_name"] == "PostToolUseFailure"]
    assert failure_result.content == failure["error"]


@pytest.mark.e2e
def test_success_adds_no_context(smoke: SmokeRun) -> None:
    successes = [p for p in smoke.hook_payloads if p.get("hook_event_name") == "PostToolUse"]
    assert len(successes) == 1, smoke.hook_payloads
    assert successes[0]["tool_input"]["command"] == SUCCEEDING_COMMAND
    assert successes[0]["tool_response"]["stdout"] == "ok"

    assert smoke.api.hook_contexts() == [FAILURE_CONTEXT]
    assert smoke.api.hook_contexts("PostToolUse") == []
    last = smoke.api.requests[-1]["messages"]
    assert last[-1]["role"] != "system", "the success must not add a system message"


@pytest.mark.e2e
def test_stream_reports_hook_events(smoke: SmokeRun) -> None:
    responses = smoke.run.hook_events("hook_response")
    events = sorted(str(e.get("hook_event")) for e in responses)
    assert events == ["PostToolUse", "PostToolUseFailure"], smoke.run.hook_events()
    assert all(e.get("exit_code") == 0 for e in responses), responses


# The fake API on its own (no binary needed).


def _post(url: str, path: str, body: Any) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["content-type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read()


def _sse_data(payload: bytes) -> list[dict[str, Any]]:
    return [
        json.loads(line[len("data: ") :])
        for line in payload.decode().splitlines()
        if line.startswith("data: ")
    ]


def test_fake_api_counts_tool_results_in_all_messages() -> None:
    turns = [bash("false", timeout_ms=3000), text("end")]
    failure_context = {"type": "text", "text": "PostToolUseFailure:Bash hook additional context: X"}
    after_failure = {
        "model": "m",
        "stream": True,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": tool_use_id(0)}]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tool_use_id(0), "is_error": True}
                ],
            },
            {
                "role": "system",
                "content": [dict(failure_context, cache_control={"type": "ephemeral"})],
            },
        ],
    }
    with FakeMessagesAPI(turns, lifetime_s=30) as api:
        status, content_type, first = _post(
            api.url, "/v1/messages?beta=true", {"model": "m", "stream": True, "messages": []}
        )
        assert (status, content_type) == (200, "text/event-stream")
        events = _sse_data(first)
        assert [e["type"] for e in events] == [
            "message_start", "ping", "content_block_start", "content_block_delta",
            "content_block_stop", "message_delta", "message_stop",
        ]
        assert events[2]["content_block"]["id"] == tool_use_id(0)
        assert json.loads(events[3]["delta"]["partial_json"]) == {
            "command": "false", "description": "run command", "timeout": 3000,
        }
        assert events[5]["delta"]["stop_reason"] == "tool_use"

        # A system message last must not replay the tool call, and the final turn repeats.
        for _ in range(2):
            events = _sse_data(_post(api.url, "/v1/messages?beta=true", after_failure)[2])
            assert events[3]["delta"] == {"type": "text_delta", "text": "end"}
            assert events[5]["delta"]["stop_reason"] == "end_turn"

        status, _, counted = _post(api.url, "/v1/messages/count_tokens", after_failure)
        assert status == 200 and json.loads(counted)["input_tokens"] > 0
        with urllib.request.urlopen(api.url + "/v1/models", timeout=5) as response:
            assert json.load(response)["data"] == []
        assert _post(api.url, "/nowhere", {})[0] == 404

        assert len(api.requests) == 3
        assert api.hook_contexts() == [failure_context["text"]]
        assert api.tool_results() == [ToolResult(tool_use_id(0), True, "")]


def test_fake_api_ends_an_overlong_conversation() -> None:
    results = [
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}"}]}
        for i in range(3)
    ]
    with FakeMessagesAPI([bash("true")], lifetime_s=30) as api:
        body = {"model": "m", "stream": False, "messages": results}
        message = json.loads(_post(api.url, "/v1/messages", body)[2])
    assert message["stop_reason"] == "end_turn"
    assert message["content"] == [{"type": "text", "text": SCRIPT_EXHAUSTED_TEXT}]


def test_fake_api_stops_after_its_lifetime() -> None:
    api = FakeMessagesAPI([text("x")], lifetime_s=0.3).start()
    try:
        deadline = time.monotonic() + 5
        while not api.stopped and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.stopped
        with pytest.raises(OSError):
            urllib.request.urlopen(api.url + "/", timeout=2)
    finally:
        api.stop()


def test_hook_texts_split_only_at_hook_prefixes() -> None:
    joined = (
        "PostToolUseFailure:Bash hook blocking error from command: \"h\": R\n\n"
        "PostToolUseFailure:Bash hook additional context: para 1\n\npara 2"
    )
    assert split_hook_texts(joined) == [
        "PostToolUseFailure:Bash hook blocking error from command: \"h\": R",
        "PostToolUseFailure:Bash hook additional context: para 1\n\npara 2",
    ]
