"""The live pattern catalogue: bundled and user layers, plus each project's own, kept current."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recoverd import journal, paths
from recoverd.pattern_files import load_layers
from recoverd.patterns import PatternSet

PROJECT_PATTERNS = Path(".recoverd") / "patterns"
_CHANGES = frozenset({"created", "modified", "deleted", "moved"})


def project_patterns_dir(cwd: str) -> Path | None:
    """The nearest `.recoverd/patterns` at or above cwd."""
    if not cwd:
        return None
    start = Path(cwd)
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_PATTERNS
        if candidate.is_dir():
            return candidate
    return None


class Catalogue:
    """Builds pattern sets off to the side and swaps one in only when it loaded cleanly."""

    def __init__(self, user_dir: Path | None = None, bundled_dir: Path | None = None) -> None:
        self.bundled_dir = bundled_dir or paths.bundled_patterns_dir()
        self.user_dir = user_dir or paths.user_patterns_dir()
        self._lock = threading.Lock()
        self._projects: dict[Path, PatternSet] = {}
        self.base = load_layers([self.bundled_dir, self.user_dir])
        self.generation = 1
        for error in self.base.report.errors:
            journal.get().warning("pattern.load_failed", error=error)

    def folders(self) -> list[Path]:
        return [f for f in (self.bundled_dir, self.user_dir, *self._projects) if f is not None]

    def reload(self) -> bool:
        """Rebuild every layer; keep the last good set when anything fails to load."""
        log = journal.get()
        candidate = load_layers([self.bundled_dir, self.user_dir])
        if candidate.report.errors:
            for error in candidate.report.errors:
                log.warning("pattern.reload_failed", error=error)
            log.warning("pattern.kept_last_good", patterns=len(self.base.patterns))
            return False
        with self._lock:
            self.base = candidate
            self._projects.clear()
            self.generation += 1
        log.info("pattern.reloaded", patterns=len(candidate.patterns),
                 files=len(candidate.report.files))
        return True

    def for_cwd(self, cwd: str) -> PatternSet:
        folder = project_patterns_dir(cwd)
        if folder is None:
            return self.base
        with self._lock:
            cached = self._projects.get(folder)
        if cached is not None:
            return cached
        loaded = load_layers([self.bundled_dir, self.user_dir, folder])
        for error in loaded.report.errors:
            journal.get().warning("pattern.load_failed", error=error)
        with self._lock:
            self._projects[folder] = loaded
        return loaded


class Watcher:
    """Watch the pattern folders with watchdog; call `on_change` from the observer thread."""

    def __init__(self, folders: list[Path], on_change: Callable[[], None]) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                # Only changes: watchdog also reports files being opened and closed, and a
                # reload reads every file, which would trigger the next reload, forever.
                if event.event_type not in _CHANGES:
                    return
                path = str(getattr(event, "dest_path", "") or event.src_path)
                if path.endswith(".toml") or event.is_directory:
                    on_change()

        self._observer = Observer()
        handler = _Handler()
        for folder in folders:
            if folder.is_dir():
                self._observer.schedule(handler, str(folder), recursive=False)
        self._observer.daemon = True

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=2)
