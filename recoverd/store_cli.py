"""`recoverd stats`, `recoverd check` and `recoverd patterns suggest`: what the store learned."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from typing import Any

from recoverd import config, preflight, stats


class CommandError(Exception):
    """A failure the user can act on (printed as one line, exit 1)."""


def _since(text: str | None, now: float) -> float | None:
    """`7d`, `12h`, `30m`, or an ISO date."""
    if not text:
        return None
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return now - float(text[:-1]) * units[text[-1]]
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise CommandError(f"--since {text!r}: use 7d, 12h, 30m or an ISO date") from None


def _when(stamp: float | None, fmt: str = "%m-%d %H:%M") -> str:
    if not stamp:
        return "-"
    return dt.datetime.fromtimestamp(stamp).strftime(fmt)


def _open(cfg: config.Config) -> Any:
    try:
        return cfg.open_store()
    except Exception as exc:  # noqa: BLE001 - any backend failure is one clear line
        raise CommandError(f"cannot open the store: {exc}") from None


def cmd_stats(args: argparse.Namespace, cfg: config.Config) -> int:
    now = time.time()
    store = _open(cfg)
    try:
        project = os.path.abspath(args.project) if args.project else None
        figures = stats.compute(store, now, project=project, since=_since(args.since, now),
                                top=args.top)
    finally:
        store.close()
    if args.json:
        print(json.dumps(figures.to_json(), indent=2, ensure_ascii=False))
        return 0
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{figures.total}[/bold] outcomes kept (records expire after "
                  f"{cfg.store_ttl_days:g} days)")
    for title, rows, first in (("Classes", figures.classes, "class"),
                               ("Patterns", figures.patterns, "pattern")):
        # Light rules and short figures: the names keep the width of an 80-column terminal.
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                      collapse_padding=True, show_edge=False)
        table.add_column(first, overflow="fold", min_width=12)
        for column in ("count", "healed", "failed", "rate", "median", "last seen", "expires"):
            table.add_column(column, justify="left" if column in ("last seen", "expires")
                             else "right", no_wrap=True)
        for f in rows:
            rate = f"{f.heal_rate:.0%}" if f.heal_rate is not None else "-"
            median = f"{f.median_recovery_ms / 1000:.1f}s" if f.median_recovery_ms else "-"
            table.add_row(f.pattern or f.cls if first == "pattern" else f.cls, str(f.count),
                          str(f.healed), str(f.failed), rate, median, _when(f.last_seen),
                          _when(f.expires_at, "%m-%d"))
        console.print()
        console.print(table)
    if figures.unknown:
        table = Table(title="Recurring unknown failures (`recoverd patterns suggest SIGNATURE`)",
                      title_justify="left")
        for column in ("signature", "count", "template", "example"):
            table.add_column(column)
        for u in figures.unknown:
            table.add_row(u.signature, str(u.count), u.template[:80],
                          u.example.strip().splitlines()[-1][:80] if u.example.strip() else "")
        console.print(table)
    return 0


def cmd_suggest(args: argparse.Namespace, cfg: config.Config) -> int:
    now = time.time()
    store = _open(cfg)
    try:
        if not args.signature:
            figures = stats.compute(store, now, top=1)
            if not figures.unknown:
                raise CommandError("no recurring unknown failure to draft a pattern for")
            args.signature = figures.unknown[0].signature
        try:
            draft = stats.suggest_pattern(store, args.signature, now)
        except (KeyError, LookupError, ValueError) as exc:
            raise CommandError(f"signature {args.signature}: {exc}") from None
    finally:
        store.close()
    print(draft)
    return 0


def cmd_check(args: argparse.Namespace, cfg: config.Config) -> int:
    now = time.time()
    store = None
    try:
        store = cfg.open_store()
    except Exception:  # noqa: BLE001 - check still runs without history
        store = None
    try:
        root_dir = args.dir or os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()
        findings = preflight.check(root_dir, store, now, cfg.loop_breaker_window_seconds * 24)
    finally:
        if store is not None:
            store.close()
    from recoverd import project

    root = project.find_root(root_dir)
    if args.session_start:
        # A SessionStart hook: one JSON object Claude Code hands the model, or nothing.
        if findings:
            print(json.dumps({"hookSpecificOutput": {
                "hookEventName": "SessionStart",
                "additionalContext": preflight.summary(findings, root)}}))
        return 0
    if args.json:
        print(json.dumps({"root": str(root), "findings": [f.to_json() for f in findings]},
                         indent=2))
    elif not findings:
        print(f"{root}: nothing found that will break")
    else:
        print(preflight.summary(findings, root).replace("[recoverd] ", "", 1))
    return 1 if findings else 0


def register(sub: Any, patterns: Any) -> None:
    """Add `stats`, `check` and `patterns suggest` to the CLI."""
    st = sub.add_parser("stats", help="what recoverd learned: classes, heal rates, unknowns",
                        description="Classes and patterns with counts, heal rate, median "
                                    "recovery time, last seen and expiry; the top recurring "
                                    "unknown failures. Expired records are never counted.",
                        epilog="examples:\n  recoverd stats\n  recoverd stats --since 7d "
                               "--project .\n  recoverd stats --json | jq .classes",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    st.add_argument("--project", help="only this project (a folder)")
    st.add_argument("--since", help="only since: 7d, 12h, 30m or an ISO date")
    st.add_argument("--top", type=int, default=10, help="unknown signatures shown (10)")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(handler=cmd_stats)
    ck = sub.add_parser("check", help="what will break here before it does",
                        description="Declared but missing dependencies (Python and Node), "
                                    "interpreters that cannot install (PEP 668), failures that "
                                    "keep coming back here, broken references. Exit 1 when "
                                    "something is found.",
                        epilog="examples:\n  recoverd check\n  recoverd check ~/proj --json\n"
                               "  recoverd check --session-start   # as a SessionStart hook",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ck.add_argument("dir", nargs="?", help="the project folder (default: here)")
    ck.add_argument("--json", action="store_true", help="print JSON")
    ck.add_argument("--session-start", action="store_true",
                    help="answer as a Claude Code SessionStart hook (always exit 0)")
    ck.set_defaults(handler=cmd_check)
    sg = patterns.add_parser("suggest", help="draft a pattern for a recurring unknown failure",
                             description="Draft a TOML pattern entry, with examples, for a "
                                         "recurring unknown signature (default: the most "
                                         "frequent one). Review it, then save it to your "
                                         "patterns folder.")
    sg.add_argument("signature", nargs="?", help="a signature from `recoverd stats`")
    sg.set_defaults(handler=cmd_suggest)
