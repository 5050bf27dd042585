"""What a project declares: its dependencies as read from each kind of manifest and lock file."""

from __future__ import annotations

import configparser
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from recoverd.dists import canonical

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


def _requirement_name(text: str) -> tuple[str, tuple[str, ...]] | None:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    return req.name, tuple(sorted(req.extras))


def read_toml(path: Path) -> dict[str, Any]:
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


def pyproject(root: Path) -> tuple[list[Declaration], str]:
    data = read_toml(root / "pyproject.toml")
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


def setup_cfg(root: Path) -> list[Declaration]:
    parser = configparser.ConfigParser()
    try:
        parser.read(root / "setup.cfg", encoding="utf-8")
        raw = parser.get("options", "install_requires", fallback="")
    except (configparser.Error, OSError):
        return []
    return [Declaration(p[0], "setup.cfg") for line in raw.splitlines()
            if line.strip() and (p := _requirement_name(line.strip()))]


def pipfile(root: Path) -> list[Declaration]:
    data = read_toml(root / "Pipfile")
    return [Declaration(str(name), "Pipfile") for table in ("packages", "dev-packages")
            for name in (data.get(table, {}) or {})]


def lock_names(root: Path) -> list[Declaration]:
    found = []
    for lock in ("uv.lock", "poetry.lock", "pdm.lock"):
        for package in read_toml(root / lock).get("package", []) or []:
            if isinstance(package, dict) and "name" in package:
                found.append(Declaration(str(package["name"]), lock))
    return found


def package_json(root: Path) -> tuple[list[Declaration], str]:
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
