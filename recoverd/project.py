"""What a failed command ran in: the project root and what the project declares."""

from __future__ import annotations

import configparser
import json
import os
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from recoverd.dists import canonical

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "package.json")
_REQUIREMENTS_GLOB = "requirements*.txt"
NODE_LOCKFILES = (("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("bun.lockb", "bun"),
                  ("bun.lock", "bun"), ("package-lock.json", "npm"))


@dataclass(frozen=True)
class Declaration:
    """One declared dependency: its name and where it was declared."""

    name: str
    source: str  # "pyproject.toml", "requirements.txt", "package.json:devDependencies", …
    extra: str = ""  # the optional-dependency group that declares it, if any

    @property
    def key(self) -> str:
        return canonical(self.name)


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


def _requirement_name(text: str) -> tuple[str, tuple[str, ...]] | None:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    return req.name, tuple(sorted(req.extras))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def read_requirements(path: Path, seen: set[Path] | None = None,
                      root: Path | None = None) -> list[Declaration]:
    """Names in a requirements file, following `-r` includes; options lines are skipped.
    Each declaration's source is the file's path relative to `root` (for `pip install -r`)."""
    seen = set() if seen is None else seen
    root = path.parent if root is None else root
    try:
        source = str(path.relative_to(root))
    except ValueError:
        source = str(path)
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    found: list[Declaration] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ", "-c ", "--constraint ")):
            include = line.split(None, 1)[1].strip()
            if line.startswith(("-r", "--requirement")):
                found += read_requirements((path.parent / include).resolve(), seen, root)
            continue
        if line.startswith("-"):
            continue  # --find-links, --index-url, -e …: pip honours them when it reads the file
        parsed = _requirement_name(line)
        if parsed:
            found.append(Declaration(parsed[0], source))
    return found


def _pyproject(root: Path) -> tuple[list[Declaration], str]:
    data = _read_toml(root / "pyproject.toml")
    found: list[Declaration] = []
    project = data.get("project", {})
    for text in project.get("dependencies", []) or []:
        parsed = _requirement_name(str(text))
        if parsed:
            found.append(Declaration(parsed[0], "pyproject.toml"))
    for extra, items in (project.get("optional-dependencies", {}) or {}).items():
        for text in items or []:
            parsed = _requirement_name(str(text))
            if parsed:
                found.append(Declaration(parsed[0], "pyproject.toml", extra=str(extra)))
    for group, items in (data.get("dependency-groups", {}) or {}).items():
        for text in items or []:
            if isinstance(text, str) and (parsed := _requirement_name(text)):
                found.append(Declaration(parsed[0], f"pyproject.toml:{group}"))
    tool = data.get("tool", {})
    poetry = tool.get("poetry", {})
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in (poetry.get("group", {}) or {}).values()]
    for table in tables:
        for name in table or {}:
            if name.lower() != "python":
                found.append(Declaration(str(name), "pyproject.toml:poetry"))
    for text in tool.get("uv", {}).get("dev-dependencies", []) or []:
        if parsed := _requirement_name(str(text)):
            found.append(Declaration(parsed[0], "pyproject.toml:uv"))
    manager = ""
    if (root / "uv.lock").exists() or "uv" in tool:
        manager = "uv"
    elif (root / "poetry.lock").exists() or poetry:
        manager = "poetry"
    elif (root / "pdm.lock").exists() or "pdm" in tool:
        manager = "pdm"
    return found, manager


def _setup_cfg(root: Path) -> list[Declaration]:
    parser = configparser.ConfigParser()
    try:
        parser.read(root / "setup.cfg", encoding="utf-8")
        raw = parser.get("options", "install_requires", fallback="")
    except (configparser.Error, OSError):
        return []
    return [Declaration(p[0], "setup.cfg") for line in raw.splitlines()
            if line.strip() and (p := _requirement_name(line.strip()))]


def _pipfile(root: Path) -> list[Declaration]:
    data = _read_toml(root / "Pipfile")
    return [Declaration(str(name), "Pipfile") for table in ("packages", "dev-packages")
            for name in (data.get(table, {}) or {})]


def _lock_names(root: Path) -> list[Declaration]:
    found = []
    for lock in ("uv.lock", "poetry.lock", "pdm.lock"):
        for package in _read_toml(root / lock).get("package", []) or []:
            if isinstance(package, dict) and "name" in package:
                found.append(Declaration(str(package["name"]), lock))
    return found


def _package_json(root: Path) -> tuple[list[Declaration], str]:
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [], ""
    if not isinstance(data, dict):
        return [], ""
    found = [Declaration(str(name), f"package.json:{table}")
             for table in ("dependencies", "devDependencies", "optionalDependencies",
                           "peerDependencies")
             for name in (data.get(table) or {})]
    manager = ""
    field_value = data.get("packageManager")
    if isinstance(field_value, str) and field_value:
        manager = field_value.split("@", 1)[0]
    else:
        manager = next((m for lock, m in NODE_LOCKFILES if (root / lock).exists()), "npm")
    return found, manager


_CACHE: dict[Path, tuple[tuple[tuple[str, int], ...], Project]] = {}
_WATCHED = ("pyproject.toml", "setup.cfg", "Pipfile", "package.json", "uv.lock", "poetry.lock",
            "pdm.lock", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock",
            "bun.lockb", "requirements", "src", ".recoverd")


def _fingerprint(root: Path, names: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """The modification times of the root folder and of those of `names` that exist in it."""
    stamps = []
    for name in ("", *names):
        try:
            stamps.append((name, os.stat(os.path.join(root, name)).st_mtime_ns))
        except OSError:
            continue
    return tuple(stamps)


def _still_valid(root: Path, stamp: tuple[tuple[str, int], ...]) -> bool:
    """Whether what load() read is unchanged. A file added to or removed from the root changes
    the root's own time, so only the root and the files that existed need a look."""
    for name, mtime in stamp:
        try:
            if os.stat(os.path.join(root, name)).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def load(cwd: str | Path) -> Project:
    """The project around cwd; parsed once and reused until its files change."""
    root = find_root(cwd)
    cached = _CACHE.get(root)
    if cached is not None and _still_valid(root, cached[0]):
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
    python, manager = _pyproject(root)
    files = sorted(root.glob(_REQUIREMENTS_GLOB))
    for path in files:
        python += read_requirements(path, root=root)
    python += _setup_cfg(root) + _pipfile(root) + _lock_names(root)
    if not manager and (root / "Pipfile").exists():
        manager = "pipenv"
    node, node_manager = _package_json(root)
    name = _read_toml(root / "pyproject.toml").get("project", {}).get("name", "")
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
    return _read_toml(root / ".recoverd" / "config.toml").get(key)
