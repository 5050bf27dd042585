"""Import name → PyPI distribution, from the curated table in data/import_names.toml."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

import re2

_PEP503 = re2.compile(r"[-_.]+")
_DIST_NAME = re2.compile(r"\A(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])\z")


@dataclass(frozen=True)
class DistGuess:
    dist: str  # "" for a namespace package: no single distribution provides it
    alternatives: tuple[str, ...] = ()
    note: str = ""
    curated: bool = False
    namespace: bool = False


@functools.lru_cache(maxsize=4096)
def canonical(name: str) -> str:
    """PEP 503 normalisation: case and runs of `-_.` do not matter."""
    return str(_PEP503.sub("-", name)).lower()


def is_valid_dist_name(name: str) -> bool:
    return bool(_DIST_NAME.search(name))


@functools.cache
def _table() -> dict[str, dict[str, object]]:
    try:
        text = resources.files("recoverd").joinpath("data/import_names.toml").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return {}
    data = tomllib.loads(text)
    return {k: v for k, v in data.items() if isinstance(v, dict) and ("dist" in v or
                                                                         v.get("namespace"))}


def dist_for(module: str) -> DistGuess | None:
    """The distribution that provides `module` (dotted names tried longest prefix first)."""
    table = _table()
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        entry = table.get(".".join(parts[:end]))
        if entry is not None and entry.get("namespace"):
            # `google`, `azure`, `zope`…: many distributions share the name and the same-name
            # one is unrelated (`pip install google` is a search library). Never guess.
            candidates = entry.get("candidates", [])
            return DistGuess(dist="", alternatives=tuple(str(c) for c in candidates)
                             if isinstance(candidates, list) else (), note=str(
                                 entry.get("note", "")), curated=True, namespace=True)
        if entry is not None:
            alternatives = entry.get("alternatives", [])
            return DistGuess(
                dist=str(entry["dist"]),
                alternatives=tuple(str(a) for a in alternatives) if isinstance(alternatives, list)
                else (),
                note=str(entry.get("note", "")),
                curated=True,
            )
    top = parts[0]
    if is_valid_dist_name(top):
        return DistGuess(dist=top)
    return None
