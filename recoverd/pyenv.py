"""The Python environment a failed command ran in, and whether recoverd may install into it."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from recoverd import commands
from recoverd.project import Project, which

# Run inside the target interpreter: what it is, and which imports its installed dists provide.
_PROBE = """
import importlib.util, json, os, sys, sysconfig
stdlib = sysconfig.get_path("stdlib") or ""
try:
    from importlib.metadata import packages_distributions
    provided = packages_distributions()
except Exception:
    provided = {}
print(json.dumps({
    "prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "version": "%d.%d.%d" % sys.version_info[:3],
    "externally_managed": os.path.exists(os.path.join(stdlib, "EXTERNALLY-MANAGED")),
    "has_pip": importlib.util.find_spec("pip") is not None,
    "conda": os.path.isdir(os.path.join(sys.prefix, "conda-meta")),
    "provided": provided,
}))
"""
_RUNNERS = {"uv": "uv", "poetry": "poetry", "pdm": "pdm", "pipenv": "pipenv"}


@dataclass(frozen=True)
class PythonEnv:
    interpreter: str
    prefix: str
    version: str
    is_virtual: bool
    externally_managed: bool
    has_pip: bool
    manager: str  # venv, uv, poetry, pdm, pipenv, conda, system
    provided: dict[str, list[str]]  # top-level import → distributions installed here

    @property
    def may_install(self) -> bool:
        """Only into a virtual environment or a conda env, never a system interpreter."""
        return (self.is_virtual or self.manager == "conda") and not self.externally_managed


def _venv_python(folder: Path) -> str | None:
    candidate = folder / "bin" / "python"
    return str(candidate) if candidate.exists() else None


def interpreter_for(command: str, cwd: str, env: dict[str, str], project: Project) -> str | None:
    """The interpreter the command ran: `.venv/bin/python x`, `python3` through its PATH,
    `uv run …` / `poetry run …` (the project's environment), or a console script's shebang."""
    path_value = env.get("PATH", os.environ.get("PATH", ""))
    words = commands.program_words(command)
    if words and words[0] in _RUNNERS.values() and len(words) > 1 and words[1] == "run":
        local = env.get("UV_PROJECT_ENVIRONMENT") if words[0] == "uv" else None
        found = _venv_python(Path(local) if local else project.root / ".venv")
        if found:
            return found
        words = words[2:]
    if words:
        head = words[0]
        if head.startswith("python") or head.endswith(("/python", "/python3")) or \
                os.path.basename(head).startswith("python"):
            resolved = which(head, path_value, cwd)
            if resolved:
                return resolved
        else:
            resolved = which(head, path_value, cwd)
            shebang = _shebang_python(resolved) if resolved else None
            if shebang:
                return shebang
    virtual = env.get("VIRTUAL_ENV")
    if virtual and _venv_python(Path(virtual)):
        return _venv_python(Path(virtual))
    return _venv_python(project.root / ".venv") or which("python3", path_value, cwd)


def _shebang_python(script: str) -> str | None:
    try:
        with open(script, "rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    parts = first[2:].decode("utf-8", "replace").split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        return None  # `#!/usr/bin/env python3`: resolved through PATH like a bare python3
    return parts[0] if "python" in os.path.basename(parts[0]) else None


_CACHE: dict[tuple[str, int], PythonEnv] = {}


def inspect(interpreter: str, project: Project, timeout: float = 15.0) -> PythonEnv | None:
    """Ask the interpreter itself (argv list, no shell); None when it cannot run."""
    try:
        key = (interpreter, os.stat(interpreter).st_mtime_ns)
    except OSError:
        return None
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    try:
        done = subprocess.run([interpreter, "-I", "-c", _PROBE], capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        info = json.loads(done.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    prefix = Path(info["prefix"])
    is_virtual = info["prefix"] != info["base_prefix"] or (prefix / "pyvenv.cfg").exists()
    if info["conda"]:
        manager = "conda"
    elif not is_virtual:
        manager = "system"
    elif project.python_manager and prefix.resolve().parent == project.root.resolve():
        manager = project.python_manager
    else:
        manager = "venv"
    result = PythonEnv(interpreter, str(prefix), info["version"], is_virtual,
                       bool(info["externally_managed"]) and not is_virtual,
                       bool(info["has_pip"]), manager, dict(info.get("provided") or {}))
    _CACHE[key] = result
    return result


def forget(interpreter: str) -> None:
    """Drop what is cached for an interpreter (after an install changed what it provides)."""
    for key in [k for k in _CACHE if k[0] == interpreter]:
        del _CACHE[key]
