"""Where recoverd keeps its state, and where the bundled patterns and hook live."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import platformdirs

APP = "recoverd"
# AF_UNIX paths are limited to 108 bytes on Linux (104 on macOS), terminator included.
MAX_SOCKET_PATH = 103


def state_dir(environ: dict[str, str] | None = None) -> Path:
    """`$RECOVERD_HOME` when set, else the platform's per-user state directory.

    hooks/recoverd-hook computes the same path without importing anything; tests/test_paths.py
    keeps the two in step.
    """
    env = os.environ if environ is None else environ
    home = env.get("RECOVERD_HOME")
    if home:
        return Path(home).expanduser()
    if sys.platform.startswith("linux"):
        # platformdirs reads XDG_STATE_HOME from os.environ; honour an explicit mapping too.
        xdg = env.get("XDG_STATE_HOME", "").strip()
        base = Path(xdg) if xdg else Path(env.get("HOME", str(Path.home()))) / ".local" / "state"
        return base / APP
    return Path(platformdirs.user_state_dir(APP))


def user_patterns_dir(environ: dict[str, str] | None = None) -> Path:
    """The user's own pattern folder: `$RECOVERD_HOME/patterns` when that is set (so one
    variable isolates everything), else `~/.config/recoverd/patterns`."""
    env = os.environ if environ is None else environ
    home = env.get("RECOVERD_HOME")
    if home:
        return Path(home).expanduser() / "patterns"
    return Path(platformdirs.user_config_dir(APP)) / "patterns"


@dataclass(frozen=True)
class StatePaths:
    """Every file the daemon owns, all under one directory."""

    root: Path

    @property
    def socket(self) -> Path:
        return self.root / "recoverd.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "recoverd.pid"

    @property
    def lockfile(self) -> Path:
        return self.root / "recoverd.lock"

    @property
    def log(self) -> Path:
        return self.root / "recoverd.log"

    @property
    def store(self) -> Path:
        return self.root / "store.sqlite3"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def spool(self) -> Path:
        """Events the hook leaves for the daemon: successes, and anything while it is down."""
        return self.root / "spool"

    @property
    def late_results(self) -> Path:
        """Present while the daemon holds a result for a session's next event: the hook waits
        for the daemon's answer on a success only then (hooks/recoverd-hook reads it)."""
        return self.root / "late-results"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    def ensure(self) -> None:
        """Create the directory 0700, and tighten it if it already exists."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.root.stat().st_mode & 0o777 != 0o700:
            os.chmod(self.root, 0o700)


def state_paths(environ: dict[str, str] | None = None) -> StatePaths:
    return StatePaths(state_dir(environ))


def _shared_data_dir(name: str) -> Path | None:
    """A folder installed as data-files (`<prefix>/share/recoverd/<name>`), or the source tree's."""
    source = Path(__file__).resolve().parent.parent / name
    if source.is_dir() and (source.parent / "pyproject.toml").is_file():
        return source
    try:
        dist = metadata.distribution(APP)
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        parts = Path(str(file)).parts
        if "share" in parts and APP in parts and name in parts:
            located = Path(str(dist.locate_file(file))).resolve()
            return located.parent if located.is_file() else located
    return None


def bundled_patterns_dir() -> Path | None:
    return _shared_data_dir("patterns")


def hook_script() -> Path | None:
    folder = _shared_data_dir("hooks")
    if folder is None:
        return None
    hook = folder / "recoverd-hook"
    return hook if hook.is_file() else None
