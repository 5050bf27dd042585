"""Backups taken before `recoverd fix --apply`, and rolling them back byte for byte.

Layout: `<state>/backups/<id>/manifest.json` and `<id>/files/<path relative to the project>`
(the original bytes, 0600). The manifest (JSON, written atomically) holds:

    {"version": 1, "id", "time" (ISO 8601 UTC), "created" (epoch seconds), "root",
     "resource", "replacement", "state": prepared | applied | partial | failed | rolled_back,
     "rolled_back_at", "files": [{"path", "sha256", "mode", "size",
     "planned_sha256", "applied_sha256", "status": pending | applied | failed, "error"}]}

`sha256` is the file before the fix, `planned_sha256` what the fix is to write and
`applied_sha256` what it did write. A rollback restores a file whose current bytes are the
applied (or, after a crash mid-apply, the planned) ones; a file that is back to its original
bytes needs nothing; any other file was changed after the fix, and the rollback is refused,
naming it, unless forced.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from recoverd import textfiles
from recoverd.project import is_inside

MANIFEST = "manifest.json"
VERSION = 1


class BackupError(Exception):
    """A backup that cannot be found, read or restored; the message says which and why."""


class RollbackRefused(BackupError):
    def __init__(self, backup_id: str, conflicts: list[tuple[str, str]]) -> None:
        self.backup_id = backup_id
        self.conflicts = conflicts
        named = "; ".join(f"{path} ({why})" for path, why in conflicts)
        super().__init__(f"backup {backup_id}: changed since the fix was applied: {named}; "
                         f"rerun with --force to restore anyway")


@dataclass
class BackupFile:
    path: str
    sha256: str
    mode: int
    size: int
    planned_sha256: str
    applied_sha256: str | None = None
    status: str = "pending"
    error: str = ""


@dataclass
class Backup:
    folder: Path
    id: str
    time: str
    created: float
    root: str
    resource: str
    replacement: str | None
    state: str = "prepared"
    rolled_back_at: str | None = None
    files: list[BackupFile] = field(default_factory=list)

    def copy_of(self, path: str) -> Path:
        return self.folder / "files" / path

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["folder"]
        return {"version": VERSION, **data}

    def save(self) -> None:
        data = json.dumps(self.to_json(), indent=2, ensure_ascii=False).encode("utf-8")
        textfiles.write_atomic(self.folder / MANIFEST, data + b"\n", 0o600)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _safe_relative(path: str) -> bool:
    pure = PurePosixPath(path)
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts


def create(backups_dir: Path, root: Path, resource: str, replacement: str | None,
           files: list[tuple[str, bytes, int, bytes]], now: float) -> Backup:
    """Copy each (path, original bytes, mode, planned bytes) and write the manifest (state
    `prepared`) before anything in the project is touched."""
    backups_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    millis = int(now * 1000) % 1000
    backup_id = (time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{millis:03d}Z-"
                 + secrets.token_hex(3))
    folder = backups_dir / backup_id
    folder.mkdir(mode=0o700)
    backup = Backup(folder, backup_id, _iso(now), now, str(root), resource, replacement)
    folders = set()
    for path, data, mode, planned in files:
        if not _safe_relative(path):
            raise BackupError(f"refusing to back up {path!r}: not a path inside the project")
        copy = backup.copy_of(path)
        copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        textfiles.write_new(copy, data, 0o600)
        folders.add(copy.parent)
        backup.files.append(BackupFile(path, textfiles.sha256(data), mode, len(data),
                                       textfiles.sha256(planned)))
    for written in sorted(folders):
        textfiles.fsync_dir(written)
    backup.save()  # last: a manifest names only copies that are on disk
    return backup


def load(folder: Path) -> Backup:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = [BackupFile(**entry) for entry in data.pop("files")]
        data.pop("version", None)
        return Backup(folder=folder, files=files, **data)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise BackupError(f"{folder / MANIFEST}: cannot read the manifest: {exc}") from None


def list_backups(backups_dir: Path) -> list[Backup]:
    """Every readable backup, newest first."""
    try:
        folders = [p for p in backups_dir.iterdir() if (p / MANIFEST).is_file()]
    except OSError:
        return []
    found = []
    for folder in folders:
        try:
            found.append(load(folder))
        except BackupError:
            continue  # a damaged manifest is named by `recoverd rollback <id>`, not listed
    return sorted(found, key=lambda b: (b.created, b.id), reverse=True)


def find(backups_dir: Path, backup_id: str | None) -> Backup:
    """The named backup, or the newest one that has not been rolled back."""
    if backup_id is not None:
        if not _safe_relative(backup_id) or "/" in backup_id:
            raise BackupError(f"no backup {backup_id!r}")
        folder = backups_dir / backup_id
        if not (folder / MANIFEST).is_file():
            raise BackupError(f"no backup {backup_id!r} in {backups_dir}")
        return load(folder)
    for backup in list_backups(backups_dir):
        if backup.state != "rolled_back" and any(f.status != "failed" for f in backup.files):
            return backup
    raise BackupError(f"no backup to roll back in {backups_dir}")


def _current(path: Path) -> tuple[str | None, str]:
    """(sha256 of the file now, or None) and what is wrong with it if it cannot be compared."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, "deleted"
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if not stat.S_ISREG(info.st_mode):
        return None, "no longer a regular file"
    try:
        return textfiles.sha256(path.read_bytes()), ""
    except OSError as exc:
        return None, exc.strerror or str(exc)


@dataclass(frozen=True)
class RollbackResult:
    backup_id: str
    restored: tuple[str, ...]
    unchanged: tuple[str, ...]  # already back to the original bytes
    overridden: tuple[tuple[str, str], ...]  # changed after the fix, restored under --force

    def to_json(self) -> dict[str, Any]:
        return {"backup": self.backup_id, "restored": list(self.restored),
                "unchanged": list(self.unchanged),
                "overridden": [{"path": p, "why": w} for p, w in self.overridden]}


def rollback(backups_dir: Path, backup_id: str | None = None, force: bool = False,
             now: float | None = None) -> RollbackResult:
    backup = find(backups_dir, backup_id)
    if backup.state == "rolled_back" and not force:
        raise BackupError(f"backup {backup.id} was already rolled back at "
                          f"{backup.rolled_back_at}; --force restores it again")
    root = Path(backup.root)
    to_restore: list[BackupFile] = []
    unchanged: list[str] = []
    conflicts: list[tuple[str, str]] = []
    for entry in backup.files:
        target = root / entry.path
        if not _safe_relative(entry.path) or not is_inside(target.parent, root):
            raise BackupError(f"backup {backup.id}: {entry.path!r} is not inside {root}")
        current, problem = _current(target)
        if current == entry.sha256:
            unchanged.append(entry.path)
        elif current is not None and current in (entry.applied_sha256, entry.planned_sha256):
            to_restore.append(entry)
        else:
            conflicts.append((entry.path, problem or "edited after the fix"))
            to_restore.append(entry)
    if conflicts and not force:
        raise RollbackRefused(backup.id, conflicts)
    restored = []
    for entry in to_restore:
        target = root / entry.path
        data = backup.copy_of(entry.path).read_bytes()
        if textfiles.sha256(data) != entry.sha256:
            raise BackupError(f"backup {backup.id}: the copy of {entry.path} is damaged")
        owner = _owner(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        textfiles.write_atomic(target, data, entry.mode, owner)
        restored.append(entry.path)
    backup.state = "rolled_back"
    backup.rolled_back_at = _iso(time.time() if now is None else now)
    backup.save()
    return RollbackResult(backup.id, tuple(restored), tuple(unchanged), tuple(conflicts))


def _owner(path: Path) -> tuple[int, int] | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info.st_uid, info.st_gid
