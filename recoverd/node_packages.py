"""npm package names from module specifiers, and what the project's package.json and
node_modules say about them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# `require('node:module').builtinModules` of Node 22, without the internal `_` ones.
BUILTINS = frozenset(
    """assert assert/strict async_hooks buffer child_process cluster console constants crypto
    dgram diagnostics_channel dns dns/promises domain events fs fs/promises http http2 https
    inspector inspector/promises module net os path path/posix path/win32 perf_hooks process
    punycode querystring readline readline/promises repl stream stream/consumers
    stream/promises stream/web string_decoder sys test timers timers/promises tls trace_events
    tty url util util/types v8 vm wasi worker_threads zlib""".split()
)
_DEPENDENCY_KEYS = ("dependencies", "devDependencies", "optionalDependencies",
                    "peerDependencies")


def is_relative(specifier: str) -> bool:
    """A path into the project: relative, absolute, or a bundler alias (`@/`, `~/`, `#imports`)."""
    return specifier.startswith(("./", "../", "/", "file://", "@/", "~/", "#")) or specifier in (
        ".", "..")


def is_builtin(specifier: str) -> bool:
    return specifier.startswith("node:") or specifier in BUILTINS


def split(specifier: str) -> tuple[str, str]:
    """`@scope/pkg/sub/path` → (`@scope/pkg`, `sub/path`); `lodash/merge` → (`lodash`, `merge`)."""
    parts = specifier.split("/")
    size = 2 if specifier.startswith("@") and len(parts) > 1 else 1
    return "/".join(parts[:size]), "/".join(parts[size:])


def _ancestors(cwd: str) -> list[Path]:
    if not cwd or not os.path.isdir(cwd):
        return []
    start = Path(cwd)
    return [start, *start.parents]


def installed_dir(cwd: str, package: str) -> Path | None:
    """node_modules/<package> as Node's resolver would find it from cwd."""
    for folder in _ancestors(cwd):
        candidate = folder / "node_modules" / package
        if candidate.is_dir():
            return candidate
    return None


def manifest(cwd: str) -> dict[str, Any]:
    """The nearest package.json at or above cwd, or {}."""
    for folder in _ancestors(cwd):
        path = folder / "package.json"
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def declared_in(cwd: str, package: str) -> str | None:
    """The package.json section that declares `package` (`devDependencies`…), or None."""
    data = manifest(cwd)
    for key in _DEPENDENCY_KEYS:
        section = data.get(key)
        if isinstance(section, dict) and package in section:
            return key
    return None


def scripts(cwd: str) -> dict[str, str]:
    section = manifest(cwd).get("scripts")
    if not isinstance(section, dict):
        return {}
    return {str(k): str(v) for k, v in section.items()}


def package_of_manifest_path(path: str) -> str:
    """`/p/node_modules/@scope/pkg/package.json` → `@scope/pkg`."""
    tail = path.rsplit("node_modules/", 1)[-1]
    parts = tail.split("/")
    size = 2 if tail.startswith("@") else 1
    return "/".join(parts[:size])
