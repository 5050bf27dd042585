"""`recoverd mcp` driven by the MCP SDK's own stdio client: `python -m recoverd mcp` in a child
process with RECOVERD_HOME set, its tools listed and each one called."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult
from selfheal_projects import MODEL, NEW_MODEL, REFERENCE_PROJECT, REPO, snapshot, write_tree

TOOLS = {"recoverd_check", "recoverd_analyze", "recoverd_fix", "recoverd_rollback",
         "recoverd_stats"}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server(home: Path, project: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "recoverd", "mcp"], cwd=str(project),
        env={"RECOVERD_HOME": str(home), "PYTHONPATH": str(REPO),
             "RECOVERD_OLLAMA_URL": f"http://127.0.0.1:{_closed_port()}"})


def _data(result: CallToolResult) -> Any:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def _log_failures(home: Path) -> None:
    """Three failure outcomes in the store, as the daemon records them."""
    import time

    from recoverd.outcomes import Outcome
    from recoverd.store import Store

    home.mkdir(mode=0o700)
    with Store.open(home / "store.sqlite3") as store:
        for cls in ("missing_python_module", "missing_python_module", "syntax_error"):
            store.record(Outcome(project="/p", signature=f"sig-{cls}", cls=cls,
                                 outcome="none"), time.time())


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_every_tool_through_the_sdk_client(tmp_path: Path, mode: str) -> None:
    """`legacy` is the initialize handshake Claude Code uses; `auto` the SDK's own default."""
    home = tmp_path / "home"
    project = write_tree(tmp_path / "p", {**REFERENCE_PROJECT,
                                          "package.json": '{"dependencies": {"gone": "1"}}'})
    before = snapshot(project)
    _log_failures(home)

    async def session() -> None:
        with anyio.fail_after(60):
            async with Client(_server(home, project), mode=mode) as client:
                listed = await client.list_tools()
                assert {tool.name for tool in listed.tools} == TOOLS
                fix_tool = next(t for t in listed.tools if t.name == "recoverd_fix")
                assert fix_tool.input_schema["properties"]["apply"]["default"] is False
                assert fix_tool.annotations is not None
                assert fix_tool.annotations.destructive_hint is True

                check = _data(await client.call_tool("recoverd_check", {}))
                assert check["root"] == str(project)
                assert [(b["kind"], b["name"]) for b in check["broken"]] == [("node", "gone")]
                assert any("no Ollama server answers" in n for n in check["notes"])

                analysis = _data(await client.call_tool("recoverd_analyze",
                                                        {"resource": MODEL}))
                assert analysis["severity_counts"]["critical"] == 12
                assert len(analysis["references"]) == 20

                dry = _data(await client.call_tool(
                    "recoverd_fix", {"resource": MODEL, "replacement": NEW_MODEL}))
                assert dry["dry_run"] is True and len(dry["files"]) == 11
                assert f"+model: {NEW_MODEL}" in next(
                    f["diff"] for f in dry["files"] if f["path"] == "config.yaml")
                assert snapshot(project) == before

                applied = _data(await client.call_tool(
                    "recoverd_fix", {"resource": MODEL, "replacement": NEW_MODEL,
                                     "apply": True}))
                assert applied["backup"] and len(applied["applied"]) == 11
                assert f"model: {NEW_MODEL}" in (project / "config.yaml").read_text()

                stats = _data(await client.call_tool("recoverd_stats", {}))
                counts = {c["class"]: c["count"] for c in stats["classes"]}
                assert counts == {"missing_python_module": 2, "syntax_error": 1}
                assert stats["total"] == 3

                rolled = _data(await client.call_tool("recoverd_rollback", {}))
                assert rolled["backup"] == applied["backup"]
                assert snapshot(project) == before

                again = await client.call_tool("recoverd_rollback", {})
                assert again.is_error
                assert "no backup to roll back" in again.content[0].text  # type: ignore[union-attr]

    anyio.run(session)
    log = (home / "recoverd.log").read_text()
    assert '"event": "mcp.started"' in log and '"event": "selfheal.fix_applied"' in log
    assert os.stat(home / "backups").st_mode & 0o777 == 0o700
