"""Fixing a project's references to a removed resource: a plan shown as a diff, then an apply
that backs every file up first.

Which references are edited: with a replacement, every reference at or above the minimum
confidence (0.5 by default) has its name replaced; without one, only whole-line list entries
are removed. Everything else is listed as skipped, with why. A file's edits are dropped whole
when the replacement cannot be written in the file's encoding (an 8-bit file takes ASCII only),
when the file has several hard links, or when the edited file would no longer parse (JSON, TOML,
Python) although the original did.

Applying: one backup holds every file to be touched (backups.py) before the first is written;
then each file is replaced atomically (temp file in the same folder, fsync, os.replace), keeping
its bytes outside the edits, its encoding, line endings, mode and owner. A file that cannot be
written (read-only, changed since it was read, gone) is reported and left as it was; the others
are still applied, and `recoverd rollback` restores exactly the ones that were.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import stat
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoverd import backups, journal, textfiles
from recoverd.references import Reference, ScannedFile, scan

DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Skipped:
    reference: Reference
    why: str

    def to_json(self) -> dict[str, Any]:
        return {**self.reference.to_json(), "why": self.why}


@dataclass(frozen=True)
class FileFix:
    scanned: ScannedFile
    applied: tuple[Reference, ...]
    skipped: tuple[Skipped, ...]
    new_text: str

    @property
    def path(self) -> str:
        return str(self.scanned.relative)

    @property
    def changed(self) -> bool:
        return self.new_text != self.scanned.file.text

    @property
    def new_bytes(self) -> bytes:
        return self.scanned.file.encode(self.new_text)

    def diff(self) -> str:
        before = [line.rstrip("\r\n") for line in textfiles.lines(self.scanned.file.text)]
        after = [line.rstrip("\r\n") for line in textfiles.lines(self.new_text)]
        return "\n".join(difflib.unified_diff(before, after, f"a/{self.path}", f"b/{self.path}",
                                              lineterm=""))


@dataclass(frozen=True)
class Plan:
    root: Path
    resource: str
    replacement: str | None
    min_confidence: float
    files_scanned: int
    files: tuple[FileFix, ...]

    @property
    def changes(self) -> list[FileFix]:
        return [fix for fix in self.files if fix.changed]

    @property
    def skipped(self) -> list[Skipped]:
        return [item for fix in self.files for item in fix.skipped]

    def to_json(self) -> dict[str, Any]:
        return {"root": str(self.root), "resource": self.resource,
                "replacement": self.replacement, "min_confidence": self.min_confidence,
                "files_scanned": self.files_scanned,
                "files": [{"path": fix.path, "encoding": fix.scanned.file.encoding,
                           "edits": [r.to_json() for r in fix.applied], "diff": fix.diff()}
                          for fix in self.changes],
                "skipped": [item.to_json() for item in self.skipped]}


def _syntax_ok(suffix: str, text: str) -> bool | None:
    """Whether the text parses as its file type; None for types recoverd cannot check."""
    try:
        if suffix == ".json":
            json.loads(text)
        elif suffix == ".toml":
            tomllib.loads(text)
        elif suffix in (".py", ".pyi"):
            ast.parse(text)
        else:
            return None
    except (ValueError, SyntaxError):
        return False
    return True


def _edited(text: str, refs: list[Reference], replacement: str | None) -> str:
    """`text` with each reference replaced (or, without a replacement, its line removed)."""
    edits: list[tuple[int, int, str]] = []
    for ref in refs:
        if replacement is not None:
            edits.append((ref.start, ref.end, replacement))
        else:
            line_start = text.rfind("\n", 0, ref.start) + 1
            line_end = text.find("\n", ref.end)
            edits.append((line_start, len(text) if line_end < 0 else line_end + 1, ""))
    kept: list[tuple[int, int, str]] = []
    for edit in sorted(set(edits)):
        if not kept or edit[0] >= kept[-1][1]:
            kept.append(edit)  # two references on one removed line: one removal
    for start, end, new in reversed(kept):
        text = text[:start] + new + text[end:]
    return text


def _file_fix(root: Path, item: ScannedFile, replacement: str | None,
              min_confidence: float) -> FileFix:
    chosen: list[Reference] = []
    skipped: list[Skipped] = []
    for ref in item.references:
        if replacement is None and ref.strategy != "remove":
            skipped.append(Skipped(ref, "review by hand: without a replacement only whole-line "
                                        "list entries are removed"))
        elif ref.confidence < min_confidence:
            skipped.append(Skipped(ref, f"confidence {ref.confidence:g} is below "
                                        f"{min_confidence:g} ({ref.reason})"))
        else:
            chosen.append(ref)
    why_not = ""
    if chosen and replacement is not None and not item.file.can_encode(replacement):
        why_not = f"{replacement!r} cannot be written in this {item.file.encoding} file"
    elif chosen and os.stat(root / item.relative).st_nlink > 1:
        why_not = "the file has several hard links; a fix would split them"
    new_text = _edited(item.file.text, chosen, replacement) if chosen and not why_not else ""
    if new_text and _syntax_ok(item.relative.suffix.lower(), item.file.text) and \
            _syntax_ok(item.relative.suffix.lower(), new_text) is False:
        why_not = f"the edited file would no longer parse as {item.relative.suffix[1:]}"
    if why_not:
        skipped += [Skipped(ref, why_not) for ref in chosen]
        chosen, new_text = [], ""
    return FileFix(item, tuple(chosen), tuple(skipped), new_text or item.file.text)


def plan(root: Path, resource: str, replacement: str | None,
         min_confidence: float = DEFAULT_MIN_CONFIDENCE, tracked_only: bool = True) -> Plan:
    """What `fix` would change, without touching anything."""
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"the minimum confidence must be within 0..1, not {min_confidence:g}")
    if replacement is not None and not replacement.strip():
        raise ValueError("the replacement is empty; leave it out to remove list entries")
    count, scanned = scan(root, resource, replacement, tracked_only)
    fixes = tuple(_file_fix(root, item, replacement, min_confidence) for item in scanned)
    return Plan(root, resource, replacement, min_confidence, count, fixes)


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    backup_id: str | None
    applied: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {"backup": self.backup_id, "applied": list(self.applied),
                "failed": [{"path": p, "error": e} for p, e in self.failed],
                "skipped": [item.to_json() for item in self.plan.skipped]}


def _write(target: Path, fix: FileFix) -> None:
    """Replace one file, or raise OSError saying why it was left alone."""
    info = os.lstat(target)
    if not stat.S_ISREG(info.st_mode) or target.read_bytes() != fix.scanned.file.data:
        raise OSError(f"{fix.path} changed since it was read; run the fix again")
    if not os.access(target, os.W_OK):
        raise PermissionError(f"{fix.path} is read-only")
    textfiles.write_atomic(target, fix.new_bytes, fix.scanned.file.mode,
                           (info.st_uid, info.st_gid))


def apply(fix_plan: Plan, backups_dir: Path, now: float | None = None) -> ApplyResult:
    """Back up every file the plan changes, then write each one atomically (see the module
    docstring for what happens to a file that cannot be written)."""
    changes = fix_plan.changes
    if not changes:
        return ApplyResult(fix_plan, None, (), ())
    stamp = time.time() if now is None else now
    backup = backups.create(
        backups_dir, fix_plan.root, fix_plan.resource, fix_plan.replacement,
        [(fix.path, fix.scanned.file.data, fix.scanned.file.mode, fix.new_bytes)
         for fix in changes], stamp)
    applied: list[str] = []
    failed: list[tuple[str, str]] = []
    for fix, entry in zip(changes, backup.files, strict=True):
        try:
            _write(fix_plan.root / fix.scanned.relative, fix)
        except OSError as exc:
            error = f"{fix.path}: {exc.strerror}" if exc.errno else str(exc)
            entry.status, entry.error = "failed", error
            failed.append((fix.path, error))
            continue
        entry.status, entry.applied_sha256 = "applied", textfiles.sha256(fix.new_bytes)
        applied.append(fix.path)
    backup.state = "applied" if not failed else "partial" if applied else "failed"
    backup.save()
    journal.get().info("selfheal.fix_applied", backup=backup.id, resource=fix_plan.resource,
                       replacement=fix_plan.replacement, root=str(fix_plan.root),
                       applied=len(applied), failed=len(failed),
                       skipped=len(fix_plan.skipped))
    return ApplyResult(fix_plan, backup.id, tuple(applied), tuple(failed))
