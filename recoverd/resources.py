"""What a project's environment has, what the project uses, and the references that no longer
resolve; `recoverd sync` keeps a registry of it under the state directory.

What exists: the Python distributions of the project's virtualenv (`.venv`, `venv`, `env`, or
`$VIRTUAL_ENV`), asked of its own interpreter through importlib.metadata (an argv list, no
shell); the packages in the project's node_modules (their package.json files); the models of a
local Ollama server (ollama.py). What the project uses: resource_uses.py.

A reference is broken when the project uses a resource that its environment lacks: a declared
distribution not installed, an import no installed distribution provides, an npm package
absent from node_modules, a model the running Ollama server does not list. What cannot be
checked (no virtualenv, no Ollama server) is said in the notes, never guessed.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recoverd import journal, ollama, resource_uses, textfiles
from recoverd.dists import canonical
from recoverd.paths import StatePaths

REGISTRY_VERSION = 1
_PROBE = """
import json, sys
from importlib import metadata
dists = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name:
        dists[name] = dist.version
try:
    provided = metadata.packages_distributions()
except Exception:
    provided = {}
print(json.dumps({"prefix": sys.prefix, "distributions": dists, "provided": provided}))
"""


@dataclass(frozen=True)
class Installed:
    kind: str  # python, node
    location: str  # the environment's prefix, or node_modules
    versions: dict[str, str]  # name → version
    provided: dict[str, list[str]] = field(default_factory=dict)  # import → distributions


@dataclass(frozen=True)
class BrokenReference:
    kind: str  # python, python-module, node, ollama
    name: str
    where: tuple[str, ...]  # "path:line" of every use
    why: str

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "where": list(self.where)}


def project_python(root: Path, environ: Mapping[str, str]) -> Path | None:
    """The interpreter of the project's own virtualenv, if it has one."""
    folders = [root / name for name in (".venv", "venv", "env")]
    if environ.get("VIRTUAL_ENV"):
        folders.append(Path(environ["VIRTUAL_ENV"]))
    for folder in folders:
        python = folder / "bin" / "python"
        if (folder / "pyvenv.cfg").is_file() and python.exists():
            return python
    return None


def python_installed(python: Path, timeout: float = 30.0) -> Installed | str:
    """The environment's distributions, or why they could not be read."""
    try:
        done = subprocess.run([str(python), "-I", "-c", _PROBE], capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} did not run: {exc}"
    try:
        data = json.loads(done.stdout)
    except ValueError:
        return f"{python} exited {done.returncode} without an answer"
    return Installed("python", str(data["prefix"]), dict(data["distributions"]),
                     {k: list(v) for k, v in dict(data["provided"]).items()})


def node_installed(root: Path) -> Installed | None:
    """Packages in <root>/node_modules (top level and @scope/), or None when there is none."""
    modules = root / "node_modules"
    if not modules.is_dir():
        return None
    versions: dict[str, str] = {}
    for manifest in [*modules.glob("*/package.json"), *modules.glob("@*/*/package.json")]:
        fallback = manifest.parent.relative_to(modules).as_posix()
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data = data if isinstance(data, dict) else {}
        versions[str(data.get("name") or fallback)] = str(data.get("version", ""))
    return Installed("node", str(modules), versions)


@dataclass(frozen=True)
class Survey:
    root: Path
    uses: tuple[resource_uses.Use, ...]
    python: Installed | None
    node: Installed | None
    models: ollama.ModelList | None
    notes: tuple[str, ...]

    def where(self, kind: str, name: str) -> tuple[str, ...]:
        key = _key(kind, name)
        return tuple(dict.fromkeys(u.where for u in self.uses if _key(u.kind, u.name) == key))

    def broken(self) -> list[BrokenReference]:
        found: dict[tuple[str, str], BrokenReference] = {}
        for use in self.uses:
            key = _key(use.kind, use.name)
            if key not in found and (why := self._missing(use)):
                found[key] = BrokenReference(use.kind, use.name, self.where(use.kind, use.name),
                                             why)
        return list(found.values())

    def _missing(self, use: resource_uses.Use) -> str:
        if use.kind == "python" and self.python is not None:
            names = {canonical(n) for n in self.python.versions}
            if canonical(use.name) not in names:
                return f"declared, but not installed in {self.python.location}"
        elif use.kind == "python-module" and self.python is not None:
            if use.name not in self.python.provided:
                return f"imported, but no distribution in {self.python.location} provides it"
        elif use.kind == "node":
            if self.node is None:
                return "required, but the project has no node_modules (npm install?)"
            if use.name not in self.node.versions:
                return f"required, but absent from {self.node.location}"
        elif use.kind == "ollama" and self.models is not None and self.models.running and \
                not self.models.has(use.name):
            return f"named, but the Ollama server at {self.models.url} does not list it"
        return ""

    def to_json(self, now: float) -> dict[str, Any]:
        inventory: dict[tuple[str, str], dict[str, Any]] = {}
        for installed in (self.python, self.node):
            if installed is None:
                continue
            for name, version in installed.versions.items():
                inventory[_key(installed.kind, name)] = {
                    "kind": installed.kind, "name": name, "version": version,
                    "installed": True, "location": installed.location}
        for model in self.models.models if self.models else ():
            inventory[_key("ollama", model["name"])] = {
                "kind": "ollama", "name": model["name"], "version": str(model.get("digest", "")),
                "installed": True, "location": self.models.url if self.models else ""}
        broken = {_key(b.kind, b.name) for b in self.broken()}
        for use in self.uses:
            dists = self.python.provided.get(use.name, []) if (
                self.python and use.kind == "python-module") else []
            for dist in dists:  # an import is a use of the distribution that provides it
                if _key("python", dist) in inventory:
                    inventory[_key("python", dist)].setdefault("used_in", []).append(use.where)
            if dists:
                continue
            entry = inventory.setdefault(_key(use.kind, use.name), {
                "kind": use.kind, "name": use.name, "version": "",
                "installed": False if _key(use.kind, use.name) in broken else None,
                "location": ""})
            entry.setdefault("used_in", []).append(use.where)
        return {"root": str(self.root), "synced_at": now, "notes": list(self.notes),
                "python": self.python.location if self.python else None,
                "node_modules": self.node.location if self.node else None,
                "ollama": {"url": self.models.url, "running": self.models.running,
                           "error": self.models.error} if self.models else None,
                "resources": sorted(inventory.values(), key=lambda e: (e["kind"], e["name"]))}


def _key(kind: str, name: str) -> tuple[str, str]:
    if kind == "python":
        return kind, canonical(name)
    if kind == "ollama":
        return kind, ollama.canonical_model(name)
    return kind, name


def survey(root: Path, environ: Mapping[str, str] | None = None,
           tracked_only: bool = True) -> Survey:
    """What the project uses and what its environment has, checked now."""
    env = os.environ if environ is None else environ
    notes: list[str] = []
    python = project_python(root, env)
    installed_python: Installed | None = None
    if python is None:
        notes.append(f"no virtualenv for {root} (.venv, venv, env or $VIRTUAL_ENV): Python "
                     f"distributions were not checked")
    else:
        answer = python_installed(python)
        if isinstance(answer, str):
            notes.append(answer)
        else:
            installed_python = answer
    node = node_installed(root)
    uses = tuple(resource_uses.collect(root, tracked_only))
    models: ollama.ModelList | None = None
    if any(use.kind == "ollama" for use in uses) or ollama.URL_VARIABLE in env:
        try:
            models = ollama.list_models(ollama.server_url(env))
        except ollama.OllamaURLError as exc:
            notes.append(f"{exc}; models were not checked")
        else:
            if not models.running:
                notes.append(models.describe())
    return Survey(root, uses, installed_python, node, models, tuple(notes))


def broken_references(root: Path, environ: Mapping[str, str] | None = None
                      ) -> list[BrokenReference]:
    """Resources the project references that no longer exist (see the module docstring)."""
    return survey(Path(root), environ).broken()


def load_registry(paths: StatePaths) -> dict[str, Any]:
    """The registry of every synced project (`<state>/resources.json`); empty when absent."""
    try:
        data = json.loads((paths.root / "resources.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": REGISTRY_VERSION, "projects": {}}
    if not isinstance(data, dict) or not isinstance(data.get("projects"), dict):
        return {"version": REGISTRY_VERSION, "projects": {}}
    return data


def save_registry(paths: StatePaths, registry: dict[str, Any]) -> None:
    paths.ensure()
    data = json.dumps(registry, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
    textfiles.write_atomic(paths.root / "resources.json", data + b"\n", 0o600)


def sync(root: Path, paths: StatePaths, environ: Mapping[str, str] | None = None,
         now: float | None = None) -> tuple[Survey, dict[str, Any]]:
    """Survey the project and store what was found in the registry; returns both."""
    found = survey(root, environ)
    record = found.to_json(time.time() if now is None else now)
    registry = load_registry(paths)
    registry["version"] = REGISTRY_VERSION
    registry["projects"][str(root)] = record
    save_registry(paths, registry)
    journal.get().info("resources.synced", root=str(root), resources=len(record["resources"]),
                       broken=len(found.broken()), notes=list(found.notes))
    return found, record
