"""Change a settings file safely: plan the change, back it up, write it atomically, undo it.

Writes are atomic (temporary file + os.replace), keep the file's mode and owner, write through a
symlink (a dotfiles-managed settings.json stays a symlink), and are preceded by a backup under
`<state>/backups/`. A file whose meaning would not change is not written at all, so installing
twice gives a byte-identical file. Uninstall gives back the file as it was before the first
install, byte for byte, when nothing else in it changed meanwhile (the manifest in
`<state>/backups/` remembers that first state), and removes a file that install created.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recoverd import paths
from recoverd.settings_entries import wanted_entries
from recoverd.settings_merge import (
    SettingsError,
    has_session_start,
    load,
    merged,
    parse,
    removed,
    render,
)

MANIFEST = "manifest.json"


# -- planning ---------------------------------------------------------------------------------


@dataclass
class Change:
    """What one command would do to one settings file."""

    path: Path  # as named to the user
    real: Path  # the file written (symlinks followed)
    before: bytes | None
    after: bytes | None  # None: the file is removed
    notes: list[str] = field(default_factory=list)
    # Folders install created for the file, deepest first: removed with it when empty.
    remove_dirs: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        def lines(raw: bytes | None) -> list[str]:
            return [] if raw is None else raw.decode("utf-8", "replace").splitlines(keepends=True)

        before, after = lines(self.before), lines(self.after)
        out = difflib.unified_diff(
            before, after,
            fromfile=str(self.path) if self.before is not None else "/dev/null",
            tofile=str(self.path) if self.after is not None else "/dev/null")
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                       for line in out)
        return text


def plan_install(path: Path, python: str | Path, hook: str | Path, session_start: bool = False,
                 timeout: int | None = None) -> Change:
    """The change that wires recoverd in. A SessionStart entry from an earlier
    `--session-start` install is kept (and updated) by a plain reinstall."""
    loaded = load(path)
    wanted = wanted_entries(python, hook, session_start or has_session_start(loaded.data),
                            timeout)
    new = merged(loaded.data, wanted)
    if loaded.exists and new == loaded.data:
        return Change(path, loaded.path, loaded.raw, loaded.raw)
    like = loaded.raw.decode("utf-8-sig") if loaded.raw is not None else None
    return Change(path, loaded.path, loaded.raw, render(new, like).encode("utf-8"))


def plan_uninstall(path: Path, backups: Path | None = None) -> Change:
    loaded = load(path)
    if not loaded.exists:
        return Change(path, loaded.path, None, None)
    new = removed(loaded.data)
    if new == loaded.data:
        return Change(path, loaded.path, loaded.raw, loaded.raw)
    record = read_manifest(backups).get(str(loaded.path)) if backups is not None else None
    if record is not None:
        if record.get("created") and new == {}:
            dirs = [str(d) for d in record.get("created_dirs") or []]
            return Change(path, loaded.path, loaded.raw, None, ["install had created it"], dirs)
        original = record.get("original")
        if isinstance(original, str):
            try:
                raw = Path(original).read_bytes()
                if parse(raw, original) == new:
                    return Change(path, loaded.path, loaded.raw, raw,
                                  [f"restored byte for byte from {original}"])
            except (OSError, SettingsError):
                pass
    like = loaded.raw.decode("utf-8-sig")  # type: ignore[union-attr]
    return Change(path, loaded.path, loaded.raw, render(new, like).encode("utf-8"))


# -- writing ----------------------------------------------------------------------------------


def check_writable(change: Change) -> None:
    """Refuse, with one line, a file or folder that is not meant to be written.

    A file without its owner's write bit is treated as read-only even for root (who could
    write it anyway): someone made it read-only on purpose.
    """
    real = change.real
    shown = change.path
    try:
        st = real.stat()
    except FileNotFoundError:
        st = None
    if st is not None:
        if not st.st_mode & stat.S_IWUSR:
            raise SettingsError(
                f"{shown} is read-only (mode {stat.S_IMODE(st.st_mode):04o}); nothing was "
                f"changed: `chmod u+w {shlex.quote(str(shown))}` to let recoverd edit it, "
                "or choose another --scope")
        if not os.access(real, os.W_OK):
            raise SettingsError(f"{shown} is not writable by you (owner uid {st.st_uid}); "
                                "nothing was changed")
    parent = real.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SettingsError(f"cannot create files in {parent} (needed for an atomic replace of "
                            f"{real.name}); nothing was changed")


def atomic_write(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and os.replace it, keeping the
    existing file's mode and owner."""
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:
        st = None
    tmp = path.with_name(f".{path.name}.recoverd-{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if st else 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if st is not None:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(fd, st.st_uid, st.st_gid)
                    except PermissionError:
                        pass
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _slug(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(path).strip("/"))[-120:]


def read_manifest(backups: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((backups / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_manifest(backups: Path, manifest: dict[str, dict[str, Any]]) -> None:
    if manifest:
        backups.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(backups / MANIFEST, json.dumps(manifest, indent=2).encode())
    else:
        (backups / MANIFEST).unlink(missing_ok=True)


def backup(change: Change, backups: Path, clock: Callable[[], float] = time.time) -> Path | None:
    """Copy the file as it is now to `<state>/backups/<path-slug>.<timestamp>`, 0600."""
    if change.before is None:
        return None
    backups.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = clock()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now)) + f"{now % 1:.6f}"[1:]
    target = backups / f"{_slug(change.real)}.{stamp}"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, change.before)
    finally:
        os.close(fd)
    return target


def apply(change: Change, backups: Path, installing: bool) -> Path | None:
    """Back up, then write (or remove) the file; returns the backup. Nothing happens when
    nothing changes. Raises SettingsError with one line when the file cannot be written."""
    if not change.changed:
        return None
    check_writable(change)
    try:
        saved = backup(change, backups)
    except OSError as exc:
        raise SettingsError(f"cannot back up {change.path} into {backups} ({exc.strerror}); "
                            "nothing was changed") from None
    manifest = read_manifest(backups)
    key = str(change.real)
    created_dirs: list[str] = []
    try:
        if change.after is None:
            change.real.unlink()
            for folder in change.remove_dirs:
                try:
                    os.rmdir(folder)
                except OSError:
                    break
        else:
            if change.before is None:
                parent = change.real.parent
                while not parent.exists() and parent != parent.parent:
                    created_dirs.append(str(parent))
                    parent = parent.parent
                change.real.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(change.real, change.after)
    except OSError as exc:
        raise SettingsError(f"cannot write {change.path} ({exc.strerror}); it was left as it "
                            "was") from None
    try:
        if installing and key not in manifest:
            manifest[key] = {"created": change.before is None, "created_dirs": created_dirs,
                             "original": str(saved) if saved else None,
                             "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            _write_manifest(backups, manifest)
        elif not installing and key in manifest:
            del manifest[key]
            _write_manifest(backups, manifest)
    except OSError:
        pass  # the manifest only makes a later uninstall byte-exact; the write itself happened
    return saved


def state_backups(environ: dict[str, str] | None = None) -> Path:
    return paths.state_paths(environ).backups
