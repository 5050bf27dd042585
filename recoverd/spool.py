"""The spool: events the hook leaves for the daemon as files (every success, and anything that
comes while no daemon runs), taken oldest first. hooks/recoverd-hook writes them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def take(folder: Path, log: Any) -> Iterator[tuple[str, bytes]]:
    """Each complete event file's name and bytes, oldest first, removed as it is read. The hook
    writes `<microseconds>-<pid>.event` by renaming a finished temporary file, so a half-written
    event is never seen; one that cannot be read is logged and left."""
    for name in sorted(_events(folder)):
        path = folder / name
        try:
            payload = path.read_bytes()
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("spool.unreadable", file=name, error=str(exc))
            continue
        yield name, payload


def waiting(folder: Path) -> int:
    """How many events wait in the spool (a number that stays up means nobody drains it)."""
    return len(_events(folder))


def _events(folder: Path) -> list[str]:
    try:
        return [name for name in os.listdir(folder) if name.endswith(".event")]
    except OSError:
        return []
