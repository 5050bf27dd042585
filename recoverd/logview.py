"""`recoverd log`: the recovery log for people (coloured on a terminal), or raw for `jq`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

_LEVEL_STYLE = {"warning": "yellow", "error": "bold red", "critical": "bold red", "info": "cyan"}
_SKIP = ("event", "timestamp", "level")


def _files(log: Path) -> list[Path]:
    """Rotated files oldest first, then the live one."""
    rotated = sorted(log.parent.glob(log.name + ".*"),
                     key=lambda p: -int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
    return [p for p in rotated if p.suffix[1:].isdigit()] + ([log] if log.exists() else [])


def format_line(line: str, color: bool) -> str:
    try:
        record: dict[str, Any] = json.loads(line)
    except ValueError:
        return line.rstrip("\n")
    if not isinstance(record, dict):
        return line.rstrip("\n")
    stamp = str(record.get("timestamp", ""))[:19].replace("T", " ")
    level = str(record.get("level", ""))
    name = str(record.get("event", ""))
    fields = " ".join(f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
                      for k, v in record.items() if k not in _SKIP and v not in (None, "", [], {}))
    if not color:
        return f"{stamp} {level:<7} {name} {fields}".rstrip()
    from rich.markup import escape

    style = _LEVEL_STYLE.get(level, "white")
    return (f"[dim]{stamp}[/dim] [{style}]{level:<7}[/{style}] [bold]{escape(name)}[/bold] "
            f"{escape(fields)}").rstrip()


def _follow(log: Path) -> Iterator[str]:
    """New lines as they come, across rotations (the live file is replaced when it rolls over)."""
    handle: TextIO | None = None
    inode = None
    while True:
        if handle is None and log.exists():
            handle = open(log, encoding="utf-8", errors="replace")  # noqa: SIM115
            handle.seek(0, 2)
            inode = log.stat().st_ino
        line = handle.readline() if handle is not None else ""
        if line:
            yield line
            continue
        try:
            rotated = log.stat().st_ino != inode
        except FileNotFoundError:
            rotated = True
        if rotated and handle is not None:
            rest = handle.read()
            handle.close()
            handle = None
            yield from rest.splitlines(keepends=True)
            if log.exists():
                handle = open(log, encoding="utf-8", errors="replace")  # noqa: SIM115
                inode = log.stat().st_ino
        time.sleep(0.2)


@dataclass(frozen=True)
class Filter:
    """Which log lines to show: by class, by project folder, since a time, by event name."""

    cls: str = ""
    project: str = ""
    since: str = ""  # ISO time; log timestamps are ISO, so strings compare in order
    event: str = ""  # a name or a dotted prefix (`recovery.`)

    def keeps(self, line: str) -> bool:
        if not (self.cls or self.project or self.since or self.event):
            return True
        try:
            record = json.loads(line)
        except ValueError:
            return False
        if not isinstance(record, dict):
            return False
        if self.cls and record.get("class") != self.cls:
            return False
        if self.event and not str(record.get("event", "")).startswith(self.event):
            return False
        if self.since and str(record.get("timestamp", "")) < self.since:
            return False
        if self.project:
            where = str(record.get("cwd") or record.get("root") or "")
            if where != self.project and not where.startswith(self.project.rstrip("/") + "/"):
                return False
        return True


def show(log: Path, follow: bool = False, raw: bool = False,
         keep: Filter | None = None) -> int:
    keep = keep or Filter()
    color = sys.stdout.isatty() and not raw
    console = None
    if color:
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=True)

    def out(line: str) -> None:
        if not keep.keeps(line):
            return
        if raw:
            sys.stdout.write(line if line.endswith("\n") else line + "\n")
        elif console is not None:
            console.print(format_line(line, True))
        else:
            print(format_line(line, False))
        sys.stdout.flush()

    for path in _files(log):
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                out(line)
    if follow:
        for line in _follow(log):
            out(line)
    return 0
