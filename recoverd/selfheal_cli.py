"""`recoverd analyze | fix | backups | rollback | sync | mcp`: self-heal after removing a resource.

Every `recoverd` command parses its arguments with these parsers, so the modules that do the
work (and rich) are imported by the handlers, not here: the daemon and the other commands do
not pay for them.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoverd import config

if TYPE_CHECKING:
    from rich.console import Console

    from recoverd import selfheal

Handler = Callable[[argparse.Namespace, config.Config], int]
_COLOURS = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan",
            "info": "dim"}


def _user_error(message: str) -> Exception:
    from recoverd.cli import UserError  # cli imports this module: import it when it is used

    return UserError(message)


def _console() -> Console:
    from rich.console import Console

    # Piped output is not cut to 80 columns: a table of file lines needs room.
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=200)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _root(args: argparse.Namespace) -> Path:
    from recoverd import project

    folder = Path(args.project).expanduser()
    if not folder.is_dir():
        raise _user_error(f"no project folder {folder}")
    return project.find_root(folder)


def _log(cfg: config.Config) -> None:
    from recoverd import journal

    journal.configure(cfg.paths.log, cfg.log_max_bytes, cfg.log_backups)


def cmd_analyze(args: argparse.Namespace, cfg: config.Config) -> int:
    from rich.markup import escape
    from rich.table import Table

    from recoverd import references

    try:
        analysis = references.analyze(_root(args), args.resource, args.replacement,
                                      tracked_only=not args.all_files)
    except ValueError as exc:
        raise _user_error(str(exc)) from None
    if args.json:
        _print_json(analysis.to_json())
        return 0
    refs = analysis.references
    files = len({r.path for r in refs})
    console = _console()
    if not refs:
        console.print(f"No reference to {escape(args.resource)} in {analysis.files_scanned} "
                      f"files under {analysis.root}.")
        return 0
    table = Table(title=f"{escape(args.resource)}: {len(refs)} references in {files} files "
                        f"({analysis.files_scanned} scanned)", title_justify="left")
    for column in ("severity", "where", "context", "strategy", "conf"):
        table.add_column(column, no_wrap=True)
    table.add_column("line", overflow="ellipsis", no_wrap=True, min_width=20)
    for ref in refs:
        colour = _COLOURS[ref.severity]
        table.add_row(f"[{colour}]{ref.severity}[/]", escape(f"{ref.path}:{ref.line}"),
                      ref.context, ref.strategy, f"{ref.confidence:.2f}",
                      escape(ref.text.strip()[:100]))
    console.print(table)
    return 0


def _skipped_lines(plan: selfheal.Plan) -> list[str]:
    return [f"  {s.reference.path}:{s.reference.line} ({s.reference.context}): {s.why}"
            for s in plan.skipped]


def cmd_fix(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import selfheal

    minimum = selfheal.DEFAULT_MIN_CONFIDENCE if args.min_confidence is None \
        else args.min_confidence
    try:
        plan = selfheal.plan(_root(args), args.resource, args.replacement, minimum,
                             tracked_only=not args.all_files)
    except ValueError as exc:
        raise _user_error(str(exc)) from None
    if not args.apply:
        if args.json:
            _print_json({"dry_run": True, **plan.to_json()})
            return 0
        for fix in plan.changes:
            print(fix.diff())
        edits = sum(len(fix.applied) for fix in plan.changes)
        print(f"Would change {len(plan.changes)} files ({edits} edits); "
              f"{len(plan.skipped)} references skipped.")
        print("\n".join(_skipped_lines(plan)))
        if plan.changes:
            print("Run again with --apply to write them (every file is backed up first).")
        return 0
    _log(cfg)
    cfg.paths.ensure()
    result = selfheal.apply(plan, cfg.paths.backups)
    if args.json:
        _print_json({"dry_run": False, **result.to_json()})
    elif result.backup_id is None:
        print(f"Nothing to change ({len(plan.files)} files refer to {args.resource})."
              + ("\nSkipped:\n" + "\n".join(_skipped_lines(plan)) if plan.skipped else ""))
    else:
        print(f"Backup {result.backup_id} ({cfg.paths.backups / result.backup_id})")
        for path in result.applied:
            print(f"fixed   {path}")
        for path, error in result.failed:
            print(f"FAILED  {path}: {error}")
        if plan.skipped:
            print("skipped:\n" + "\n".join(_skipped_lines(plan)))
        print(f"Undo with: recoverd rollback {result.backup_id}")
    return 1 if result.failed else 0


def cmd_backups(args: argparse.Namespace, cfg: config.Config) -> int:
    from rich.markup import escape
    from rich.table import Table

    from recoverd import backups

    found = backups.list_backups(cfg.paths.backups)
    if args.json:
        _print_json([{"id": b.id, "time": b.time, "root": b.root, "resource": b.resource,
                      "replacement": b.replacement, "state": b.state,
                      "files": [f.path for f in b.files]} for b in found])
        return 0
    if not found:
        print(f"No backups in {cfg.paths.backups}.")
        return 0
    table = Table(title=f"backups in {cfg.paths.backups}", title_justify="left")
    for column in ("id", "time", "change", "state", "files", "project"):
        table.add_column(column, overflow="fold")
    for b in found:
        change = f"{b.resource} → {b.replacement}" if b.replacement else f"remove {b.resource}"
        table.add_row(b.id, b.time, escape(change), b.state, str(len(b.files)), escape(b.root))
    _console().print(table)
    return 0


def cmd_rollback(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import backups, journal

    _log(cfg)
    try:
        result = backups.rollback(cfg.paths.backups, args.backup_id, force=args.force)
    except backups.BackupError as exc:
        raise _user_error(str(exc)) from None
    journal.get().info("selfheal.rolled_back", backup=result.backup_id,
                       restored=len(result.restored), overridden=len(result.overridden))
    if args.json:
        _print_json(result.to_json())
        return 0
    print(f"Rolled back {result.backup_id}: {len(result.restored)} files restored"
          + (f", {len(result.unchanged)} already as they were" if result.unchanged else ""))
    for path, why in result.overridden:
        print(f"  {path}: {why}; restored anyway (--force)")
    return 0


def cmd_sync(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import resources

    _log(cfg)
    found, record = resources.sync(_root(args), cfg.paths)
    broken = found.broken()
    if args.json:
        _print_json({**record, "broken": [b.to_json() for b in broken],
                     "registry": str(cfg.paths.root / "resources.json")})
        return 0
    if found.python is not None:
        print(f"python: {found.python.location} ({len(found.python.versions)} distributions)")
    if found.node is not None:
        print(f"node:   {found.node.location} ({len(found.node.versions)} packages)")
    if found.models is not None and found.models.running:
        print(f"ollama: {found.models.describe()}")
    for note in found.notes:
        print(f"note:   {note}")
    for item in broken:
        print(f"BROKEN  {item.kind} {item.name}: {item.why} ({', '.join(item.where[:5])})")
    print(f"{len(record['resources'])} resources recorded in "
          f"{cfg.paths.root / 'resources.json'}")
    return 0


def cmd_mcp(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import mcp_server  # the MCP SDK is imported only for this command

    return mcp_server.serve(cfg)


def register(sub: Any) -> None:
    """Add the self-heal subcommands to `recoverd`'s subparsers."""

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        cmd: argparse.ArgumentParser = sub.add_parser(name, help=help_text,
                                                      description=help_text)
        cmd.set_defaults(handler=handler)
        return cmd

    def project_flags(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--project", default=os.curdir, metavar="DIR",
                         help="the project (default: the one around the current folder)")
        cmd.add_argument("--all-files", action="store_true",
                         help="scan every file, not only the ones git tracks")
        cmd.add_argument("--json", action="store_true", help="print JSON")

    analyze = add("analyze", cmd_analyze, "list every reference to a resource before removing "
                                          "it, with severity, strategy and confidence")
    analyze.add_argument("resource", help="a model, package or other name, e.g. "
                                          "deepseek-coder:6.7b")
    analyze.add_argument("replacement", nargs="?", help="what will replace it, if anything")
    project_flags(analyze)
    fix = add("fix", cmd_fix, "fix the references to a resource (a dry run showing the diff, "
                              "unless --apply)")
    fix.add_argument("resource")
    fix.add_argument("replacement", nargs="?",
                     help="the new name (without one, whole-line list entries are removed)")
    fix.add_argument("--apply", action="store_true",
                     help="write the changes, after backing up every file touched")
    fix.add_argument("--min-confidence", type=float, metavar="0..1",
                     help="apply only references at least this sure (default 0.5)")
    project_flags(fix)
    listing = add("backups", cmd_backups, "list the backups `recoverd fix --apply` took")
    listing.add_argument("--json", action="store_true", help="print JSON")
    rollback = add("rollback", cmd_rollback,
                   "restore the files of a backup (default: the latest) byte for byte")
    rollback.add_argument("backup_id", nargs="?", metavar="ID")
    rollback.add_argument("--force", action="store_true",
                          help="restore even files edited since the fix was applied")
    rollback.add_argument("--json", action="store_true", help="print JSON")
    sync = add("sync", cmd_sync, "record the resources the project uses and what its "
                                 "environment has (Python, node_modules, Ollama)")
    sync.add_argument("--project", default=os.curdir, metavar="DIR",
                      help="the project (default: the one around the current folder)")
    sync.add_argument("--json", action="store_true", help="print JSON")
    add("mcp", cmd_mcp, "serve recoverd's tools to Claude Code over MCP (stdio)")
