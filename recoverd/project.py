"""What a failed command ran in: the project root and what the project declares."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from recoverd import declarations
from recoverd.declarations import Declaration
from recoverd.dists import canonical

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "package.json")
_REQUIREMENTS_GLOB = "requirements*.txt"


@dataclass
class Project:
    root: Path
    python: list[Declaration] = field(default_factory=list)
    node: list[Declaration] = field(default_factory=list)
    requirement_files: list[Path] = field(default_factory=list)
    python_manager: str = ""  # uv, poetry, pdm, pipenv, or "" (plain pip)
    node_manager: str = ""  # npm, pnpm, yarn, bun, or "" (no package.json)
    name: str = ""  # [project].name from pyproject.toml
    # What the root and src/ held when read: load() reads again when either folder changes.
    entries: frozenset[str] = frozenset()
    src_entries: frozenset[str] = frozenset()

    def has_local_package(self, top: str) -> bool:
        """`top` is this project's own code (a package or module at the root or under src/),
        or the project itself."""
        for base, names in (("", self.entries), ("src", self.src_entries)):
            if top + ".py" in names or (top in names and os.path.exists(
                    os.path.join(self.root, base, top, "__init__.py"))):
                return True
        return bool(self.name) and canonical(self.name) == canonical(top)

    def python_declaration(self, dist: str) -> Declaration | None:
        key = canonical(dist)
        return next((d for d in self.python if d.key == key), None)

    def node_declaration(self, package: str) -> Declaration | None:
        return next((d for d in self.node if d.name == package), None)


_ROOTS: dict[str, tuple[tuple[int, ...], Path]] = {}
# File times come from a coarse clock: a change in the same tick as a read leaves the time as
# it was. What was read while a time was this fresh is read again next time (as git does).
RACY_NS = 100_000_000
_RACY = -2  # a time no file has: a stamp holding it never matches


def _racy(mtimes: Iterable[int]) -> bool:
    return max(mtimes, default=0) >= time.time_ns() - RACY_NS


def find_root(cwd: str | Path) -> Path:
    """The nearest folder at or above cwd with a project marker (.git last of all).

    Cached per cwd and keyed by the modification times of cwd and its ancestors: a marker
    file appearing or disappearing in any of them changes that folder's time."""
    folder = os.path.abspath(cwd)
    stamps = []
    while True:
        try:
            stamps.append(os.stat(folder).st_mtime_ns)
        except OSError:
            stamps.append(-1)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    key = str(cwd)
    cached = _ROOTS.get(key)
    if cached is not None and cached[0] == tuple(stamps):
        return cached[1]
    root = _find_root(cwd)
    if len(_ROOTS) > 1024:
        _ROOTS.clear()
    _ROOTS[key] = ((_RACY,) if _racy(stamps) else tuple(stamps), root)
    return root


def _find_root(cwd: str | Path) -> Path:
    start = Path(cwd).resolve()
    for folder in (start, *start.parents):
        if any((folder / m).exists() for m in ROOT_MARKERS) or any(folder.glob(_REQUIREMENTS_GLOB)):
            return folder
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


_CACHE: dict[Path, tuple[tuple[tuple[str, int], ...], Project]] = {}
_WATCHED = ("pyproject.toml", "setup.cfg", "Pipfile", "package.json", "uv.lock", "poetry.lock",
            "pdm.lock", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock",
            "bun.lockb", "requirements", "src", ".recoverd")


def _fingerprint(root: Path, names: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """The modification times of the root folder and of those of `names` that exist in it.
    A file added to or removed from the root changes the root's own time, so checking a
    cached read needs only the root and the files that existed then."""
    stamps = []
    for name in ("", *names):
        try:
            stamps.append((name, os.stat(os.path.join(root, name)).st_mtime_ns))
        except OSError:
            continue
    return tuple(stamps)


def load(cwd: str | Path) -> Project:
    """The project around cwd; parsed once and reused until its files change."""
    root = find_root(cwd)
    cached = _CACHE.get(root)
    if cached is not None and _fingerprint(root, (n for n, _ in cached[0] if n)) == cached[0]:
        return cached[1]
    # Taken before reading: a file changed while it is read makes the next load read again.
    stamp = _fingerprint(root, (*_WATCHED, *(p.name for p in root.glob(_REQUIREMENTS_GLOB))))
    project = _read(root)
    if len(_CACHE) > 256:
        _CACHE.clear()
    if _racy(m for _, m in stamp):
        stamp = (("", _RACY),)
    _CACHE[root] = (stamp, project)
    return project


def _read(root: Path) -> Project:
    python, manager = declarations.pyproject(root)
    files = sorted(root.glob(_REQUIREMENTS_GLOB))
    for path in files:
        python += declarations.read_requirements(path, root=root)
    python += (declarations.setup_cfg(root) + declarations.pipfile(root)
               + declarations.lock_names(root))
    if not manager and (root / "Pipfile").exists():
        manager = "pipenv"
    node, node_manager = declarations.package_json(root)
    name = declarations.read_toml(root / "pyproject.toml").get("project", {}).get("name", "")
    entries = _listing(root)
    return Project(root=root, python=python, node=node, requirement_files=files,
                   python_manager=manager, node_manager=node_manager,
                   name=name if isinstance(name, str) else "", entries=entries,
                   src_entries=_listing(root / "src") if "src" in entries else frozenset())


def _listing(folder: Path) -> frozenset[str]:
    try:
        return frozenset(os.listdir(folder))
    except OSError:
        return frozenset()


def is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def which(name: str, path_value: str, cwd: str) -> str | None:
    """Like shutil.which with the command's own PATH; relative entries count from its cwd."""
    if "/" in name:
        candidate = Path(cwd, name) if not os.path.isabs(name) else Path(name)
        return str(candidate) if os.access(candidate, os.X_OK) else None
    for entry in path_value.split(os.pathsep):
        folder = Path(cwd, entry) if entry and not os.path.isabs(entry) else Path(entry or cwd)
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def project_setting(root: Path, key: str) -> object:
    """One setting from the project's own `.recoverd/config.toml`, or None."""
    return declarations.read_toml(root / ".recoverd" / "config.toml").get(key)
