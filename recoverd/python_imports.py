"""What a missing Python module means for the project: which distribution provides it, and
whether installing that distribution is the fix at all (a local package, a submodule of a
package that is installed, a dependency the project already declares)."""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from importlib import resources

import re2

from recoverd import project
from recoverd.dists import canonical, dist_for
from recoverd.locations import is_project_file

_IMPORT_LINE = re2.compile(r"(?m)^\s*(?:E\s+)?(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+))")
_PY_FRAME = re2.compile(r'(?m)^\s*(?:E\s+)?File "([^"\n]+)", line \d+|^([^\s:]+\.py):\d+: in ')
# Libraries that name a feature instead of the module it needs (requests: "SOCKS support").
_FEATURE_MODULES = {"SOCKS": "socks"}


@dataclass(frozen=True)
class ModuleFacts:
    subject: str  # the module as printed, or the module a feature name stands for
    module: str  # the dotted name the code imported, when the import line shows it
    dist: str
    variant: str = ""  # local_package, submodule_of_installed_package, optional_dependency
    declared_in: str = ""  # pyproject.toml / requirements.txt when the project lists the dist


def dotted_name(subject: str, before: str) -> str:
    """Python names only the missing top-level package; the import line above it is dotted."""
    module = subject
    tail = before[-2000:]
    if module + "." not in tail:
        return module
    for found in _IMPORT_LINE.finditer(tail):
        dotted = found.group(1) or found.group(2) or ""
        if dotted.startswith(module + "."):
            module = dotted
    return module


def _project(cwd: str) -> project.Project | None:
    return project.load(cwd) if cwd and os.path.isdir(cwd) else None


def declared(dist: str, proj: project.Project | None) -> str:
    """`pyproject.toml` or the requirements file (relative to the project root) that lists
    `dist`; "" when the project does not declare it."""
    found = proj.python_declaration(dist) if proj is not None else None
    if found is None or found.source.endswith(".lock"):
        return ""
    return found.source.split(":", 1)[0]


def _imported_by_library(before: str, cwd: str) -> bool:
    """The failing import sits in installed code: the module is some library's dependency."""
    tail = before[-4000:]
    if "site-packages" not in tail and "dist-packages" not in tail:
        return False
    frames = [m.group(1) or m.group(2) for m in _PY_FRAME.finditer(tail)]
    return bool(frames) and not is_project_file(frames[-1], cwd) and (
        "site-packages" in frames[-1] or "dist-packages" in frames[-1])


def facts(subject: str, before: str, cwd: str) -> ModuleFacts:
    """Everything recoverd can tell about a module Python could not import."""
    subject = _FEATURE_MODULES.get(subject, subject)
    module = dotted_name(subject, before)
    top = subject.split(".")[0]
    guess = dist_for(module)
    dist = guess.dist if guess is not None else top
    proj = _project(cwd)
    if proj is not None and proj.has_local_package(top):
        return ModuleFacts(subject, module, dist, "local_package")
    if "." in subject:
        # Python printed a dotted name, so the parent package imported fine. Installing is
        # right only for a namespace package whose part is its own distribution.
        whole, parent = dist_for(subject), dist_for(top)
        own = whole is not None and whole.curated and (
            parent is None or not parent.curated or canonical(parent.dist) != canonical(whole.dist))
        if not own:
            return ModuleFacts(subject, module, dist, "submodule_of_installed_package")
    variant = "optional_dependency" if _imported_by_library(before, cwd) else ""
    return ModuleFacts(subject, module, dist, variant, declared(dist, proj))


@functools.cache
def _fixtures() -> dict[str, str]:
    try:
        text = resources.files("recoverd").joinpath("data/pytest_fixtures.toml").read_text(
            "utf-8")
    except (FileNotFoundError, OSError):
        return {}
    table = tomllib.loads(text).get("fixture", {})
    return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}


def fixture_plugin(name: str) -> str | None:
    """The pytest plugin distribution that provides fixture `name` (mocker → pytest-mock)."""
    return _fixtures().get(name)
