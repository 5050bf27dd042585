"""npm package names from module specifiers, and what the project's package.json and
node_modules say about them: whether a missing module is a package to install at all."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoverd import project

if TYPE_CHECKING:
    from recoverd.classifier import Classification
    from recoverd.events import Event

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
    if not cwd or not os.path.isdir(cwd):
        return None
    found = project.load(cwd).node_declaration(package)
    return found.source.split(":", 1)[1] if found is not None else None


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


def refine(result: Classification, groups: dict[str, str], event: Event) -> None:
    """Reduce a specifier to its npm package and see what the project already has."""
    spec, cwd = result.subject, event.cwd
    if "manifest" in groups:  # ERR_PACKAGE_PATH_NOT_EXPORTED names the package.json
        package = package_of_manifest_path(groups["manifest"])
        subpath = spec[2:] if spec.startswith("./") else spec.lstrip(".")
        result.subject = f"{package}/{subpath}" if subpath else package
        return
    if is_relative(spec):
        result.cls = "missing_local_module"
        if spec.startswith(("/", "file://")):
            result.subject = _specifier_from_path(spec, groups.get("importer", ""), cwd)
        return
    if result.cls == "missing_local_module":
        return
    if is_builtin(spec):
        result.variant = "unknown_builtin"
        return
    package, subpath = split(spec)
    installed = installed_dir(cwd, package)
    if installed is not None and subpath:
        result.variant = "subpath_of_installed_package"
        return
    result.subject = package
    declared = declared_in(cwd, package)
    if declared and installed is None:
        result.variant = "declared_not_installed"
        result.declared_in = declared
    result.dev = declared == "devDependencies" or _is_test_context(groups, event.command)


def _specifier_from_path(path: str, importer: str, cwd: str) -> str:
    """ESM prints the resolved absolute path; rebuild the relative specifier from it."""
    path = path.removeprefix("file://")
    base = os.path.dirname(importer) if importer else cwd
    if not base:
        return path
    rel = os.path.relpath(path, base)
    return rel if rel.startswith("..") else "./" + rel


def _is_test_context(groups: dict[str, str], command: str) -> bool:
    importer = groups.get("importer", "") + " " + command
    return any(word in importer for word in ("test", "spec", "jest", "vitest", "mocha"))
