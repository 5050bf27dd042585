"""`recoverd mcp`: recoverd's self-heal tools and stats for Claude, as an MCP server over stdio.

Built on the official MCP Python SDK (`mcp` ≥ 2: `MCPServer`, formerly FastMCP). Every tool
returns a JSON object. A tool's `project` defaults to the server's working folder, which Claude
Code sets to the project it runs in. `recoverd_fix` and `recoverd_rollback` change files;
`recoverd_fix` is a dry run unless called with `apply: true`. stdout carries the protocol, so
nothing else is ever printed; events go to the recovery log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from recoverd import __version__, backups, config, journal, references, resources, selfheal
from recoverd.project import find_root

_INSTRUCTIONS = (
    "recoverd watches failed Bash calls. Before removing a model, package or other resource, "
    "call recoverd_analyze to see every reference that would break; recoverd_fix shows the "
    "diff (apply=true writes it after a backup); recoverd_rollback undoes the last fix; "
    "recoverd_check lists references that no longer resolve; recoverd_stats counts failures."
)
_READ_ONLY = ToolAnnotations(read_only_hint=True)
_WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=True)


@contextmanager
def _tool_errors() -> Iterator[None]:
    """Known failures reach Claude with their message (the SDK hides any other exception's)."""
    try:
        yield
    except (ValueError, OSError, backups.BackupError) as exc:
        raise ToolError(str(exc)) from None


def _root(folder: str) -> Path:
    path = Path(folder or os.getcwd()).expanduser()
    if not path.is_dir():
        raise ValueError(f"no project folder {path}")
    return find_root(path)


def stats_summary(cfg: config.Config) -> dict[str, Any]:
    """`recoverd_stats`: what `recoverd stats --json` prints, from the outcome store."""
    import time

    from recoverd import stats

    store = cfg.open_store()
    try:
        return stats.compute(store, time.time()).to_json()
    finally:
        store.close()


def build(cfg: config.Config) -> MCPServer:
    server = MCPServer(name="recoverd", version=__version__, instructions=_INSTRUCTIONS,
                       log_level="WARNING")

    @server.tool(annotations=_READ_ONLY)
    def recoverd_check(project: str = "") -> dict[str, Any]:
        """References the project makes to resources that no longer exist: Python
        distributions declared or imported but not installed in its virtualenv, npm packages
        missing from node_modules, Ollama models the local server does not list."""
        with _tool_errors():
            found = resources.survey(_root(project))
        return {"root": str(found.root), "broken": [b.to_json() for b in found.broken()],
                "notes": list(found.notes)}

    @server.tool(annotations=_READ_ONLY)
    def recoverd_analyze(resource: str, replacement: str | None = None,
                         project: str = "") -> dict[str, Any]:
        """Every file and line of the project that references `resource` (a model such as
        deepseek-coder:6.7b, a package, any name), each with a severity (critical, high,
        medium, low, info), a suggested strategy (replace, remove, review) and a confidence."""
        with _tool_errors():
            return references.analyze(_root(project), resource, replacement).to_json()

    @server.tool(annotations=_WRITES)
    def recoverd_fix(resource: str, replacement: str | None = None, apply: bool = False,
                     min_confidence: float = selfheal.DEFAULT_MIN_CONFIDENCE,
                     project: str = "") -> dict[str, Any]:
        """Replace `resource` with `replacement` in the project (without a replacement, remove
        whole-line list entries). A dry run returning the unified diff unless `apply` is true;
        applying backs every file up first and returns the backup id for recoverd_rollback.
        Only references at or above `min_confidence` are edited; the others are listed."""
        with _tool_errors():
            plan = selfheal.plan(_root(project), resource, replacement, min_confidence)
            if not apply:
                return {"dry_run": True, **plan.to_json()}
            cfg.paths.ensure()
            return {"dry_run": False, **selfheal.apply(plan, cfg.paths.backups).to_json()}

    @server.tool(annotations=_WRITES)
    def recoverd_rollback(backup_id: str | None = None, force: bool = False) -> dict[str, Any]:
        """Restore the files of a fix's backup (default: the latest) byte for byte. Refused,
        naming the files, when one was edited after the fix, unless `force` is true."""
        with _tool_errors():
            result = backups.rollback(cfg.paths.backups, backup_id, force=force)
        journal.get().info("selfheal.rolled_back", backup=result.backup_id,
                           restored=len(result.restored), via="mcp")
        return result.to_json()

    @server.tool(annotations=_READ_ONLY)
    def recoverd_stats() -> dict[str, Any]:
        """How many failed and successful Bash calls recoverd has seen, by failure class."""
        return stats_summary(cfg)

    return server


def serve(cfg: config.Config) -> int:
    """Serve on stdin/stdout until the client closes them."""
    journal.configure(cfg.paths.log, cfg.log_max_bytes, cfg.log_backups)
    journal.get().info("mcp.started", pid=os.getpid(), cwd=os.getcwd())
    build(cfg).run("stdio")
    return 0
