"""Which files of a project are scanned for references, and the role each file plays.

Files: `git ls-files` (tracked files) when the project is a git work tree with tracked files
under the root, else a walk. Either
way vendored trees, virtualenvs, node_modules, caches, lockfiles and symlinks are left out
(binary files are left out when they are read: see textfiles).

Roles, decided from the path first, then the name, then the contents (first rule that fits):

| role       | severity | files |
| ---------- | -------- | ----- |
| deprecated | low      | under deprecated/, legacy/, attic/, archive/, old/;                    |
|            |          | or marked deprecated near the top                                      |
| docs       | low      | *.md, *.rst, *.adoc, *.txt, README/CHANGELOG/…;                        |
|            |          | under docs/, doc/, examples/                                           |
| test       | medium   | under tests/, test/, __tests__/, spec/;                                |
|            |          | test_*.py, *_test.py, *.test.js, *.spec.ts                             |
| script     | medium   | under scripts/, tools/, bin/; *.sh, Makefile, justfile |
| ci         | medium   | .github/, .gitlab-ci.yml, .circleci/ |
| entrypoint | critical | main.py, app.py, server.py, __main__.py, manage.py, wsgi.py, asgi.py,  |
|            |          | index.js, …;                                                           |
|            |          | package.json "main"/"bin" targets, pyproject [project.scripts] modules; |
|            |          | a Python file with `if __name__ == "__main__":` |
| config     | critical | *.toml, *.yaml, *.json, *.ini, *.cfg, *.conf, .env*, Dockerfile*,      |
|            |          | docker-compose*,                                                       |
|            |          | requirements*.txt, constraints*.txt, Pipfile, setup.py |
| source     | high     | *.py, *.js, *.ts, *.go, *.rs, … (modules in use, API handlers) |
| other      | medium   | any other text file (its references get 0.1 less confidence) |
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

SEVERITIES = ("critical", "high", "medium", "low", "info")
ROLE_SEVERITY = {"config": "critical", "entrypoint": "critical", "source": "high",
                 "script": "medium", "test": "medium", "ci": "medium", "other": "medium",
                 "docs": "low", "deprecated": "low"}

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "site-packages", "__pycache__",
    "vendor", "vendored", "third_party", "third-party", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".eggs", "dist", "build", ".cache", ".hypothesis", ".idea",
    ".vscode", "bower_components", ".next", ".yarn", ".pnpm-store",
})
LOCKFILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock",
    "bun.lockb", "poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock", "Cargo.lock",
    "Gemfile.lock", "composer.lock", "go.sum", "flake.lock",
})
_DEPRECATED_DIRS = frozenset({"deprecated", "legacy", "attic", "archive", "old"})
_DOCS_DIRS = frozenset({"docs", "doc", "documentation", "examples", "example"})
_TEST_DIRS = frozenset({"tests", "test", "__tests__", "spec", "testing"})
_SCRIPT_DIRS = frozenset({"scripts", "script", "tools", "bin"})
_DOC_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".adoc", ".txt"})
_DOC_STEMS = ("readme", "changelog", "changes", "history", "contributing", "license", "notice",
              "authors")
_CONFIG_SUFFIXES = frozenset({".toml", ".yaml", ".yml", ".json", ".jsonc", ".json5", ".ini",
                              ".cfg", ".conf", ".env", ".properties"})
_CONFIG_NAMES = frozenset({"Pipfile", "setup.py", "Procfile", "Containerfile", "Dockerfile"})
_ENTRYPOINT_NAMES = frozenset({
    "main.py", "app.py", "server.py", "__main__.py", "manage.py", "wsgi.py", "asgi.py",
    "index.js", "index.ts", "index.mjs", "main.js", "main.ts", "server.js", "server.ts",
    "app.js", "app.ts", "main.go", "main.rs",
})
SOURCE_SUFFIXES = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".go", ".rs", ".rb", ".java",
    ".kt", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".php", ".swift", ".scala", ".lua", ".vue",
    ".svelte",
})
SHELL_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".fish", ".ps1"})
_SHELL_NAMES = frozenset({"Makefile", "makefile", "GNUmakefile", "justfile", "Justfile"})


def is_skipped(relative: PurePosixPath) -> bool:
    """Left out of every scan: vendored trees, environments, caches, lockfiles."""
    if relative.name in LOCKFILES or relative.suffix == ".lock":
        return True
    return any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts[:-1])


def _git_files(root: Path) -> list[str] | None:
    try:
        done = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached"],
                              capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None  # not a git work tree (or git is not installed): walk instead
    return [name for name in done.stdout.decode("utf-8", "surrogateescape").split("\0") if name]


def _walk(root: Path) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        # A folder with pyvenv.cfg is a virtualenv whatever its name.
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                         and not (base / d / "pyvenv.cfg").exists())
        for name in sorted(files):
            yield (base / name).relative_to(root).as_posix()


def project_files(root: Path, tracked_only: bool = True) -> list[PurePosixPath]:
    """Files to scan, relative to root: git-tracked ones (a walk when not a git work tree or
    `tracked_only` is False), without symlinks and the trees and files `is_skipped` names."""
    # No tracked file at all (a fresh repository, an untracked folder inside one): walk.
    names = _git_files(root) if tracked_only else None
    found = []
    for name in names or _walk(root):
        relative = PurePosixPath(name)
        if is_skipped(relative) or os.path.islink(root / name) or not (root / name).is_file():
            continue
        found.append(relative)
    return sorted(found)


def declared_entrypoints(root: Path) -> frozenset[str]:
    """Files named as entrypoints by package.json ("main", "bin") and pyproject
    ([project.scripts], [project.gui-scripts]), relative to root."""
    found: set[str] = set()
    try:
        manifest = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    if isinstance(manifest, dict):
        targets: list[object] = [manifest.get("main")]
        bins = manifest.get("bin")
        targets += list(bins.values()) if isinstance(bins, dict) else [bins]
        found.update(str(PurePosixPath(t)) for t in targets if isinstance(t, str) and t)
    try:
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pyproject = {}
    project = pyproject.get("project", {})
    for table in (project.get("scripts", {}), project.get("gui-scripts", {})):
        for target in (table or {}).values():
            module = str(target).split(":", 1)[0].strip().replace(".", "/")
            for base in ("", "src/"):
                found.update({f"{base}{module}.py", f"{base}{module}/__main__.py"})
    return frozenset(found)


def role_of(relative: PurePosixPath, text: str, entrypoints: frozenset[str] = frozenset()) -> str:
    """The file's role (see the module docstring); `text` is its contents."""
    folders = {part.lower() for part in relative.parts[:-1]}
    name, suffix = relative.name, relative.suffix.lower()
    lowered = name.lower()
    if folders & _DEPRECATED_DIRS:
        return "deprecated"
    if folders & _DOCS_DIRS or lowered.startswith(_DOC_STEMS) or (
            suffix in _DOC_SUFFIXES and not _is_requirements(lowered)):
        return "docs"
    if folders & _TEST_DIRS or lowered.startswith("test_") or lowered.endswith(
            ("_test.py", ".test.js", ".test.ts", ".spec.js", ".spec.ts", "_test.go")):
        return "test"
    if folders & _SCRIPT_DIRS:
        return "script"
    if relative.parts[0] in (".github", ".circleci") or name == ".gitlab-ci.yml":
        return "ci"
    if suffix in SOURCE_SUFFIXES and _marked_deprecated(text):
        return "deprecated"
    if name in _ENTRYPOINT_NAMES or str(relative) in entrypoints:
        return "entrypoint"
    if is_config(relative):
        return "config"
    if suffix in (".py", ".pyi") and ('if __name__ == "__main__"' in text
                                      or "if __name__ == '__main__'" in text):
        return "entrypoint"
    if suffix in SOURCE_SUFFIXES:
        return "source"
    if suffix in SHELL_SUFFIXES or name in _SHELL_NAMES or text.startswith("#!"):
        return "script"
    return "other"


def is_config(relative: PurePosixPath) -> bool:
    name, suffix = relative.name, relative.suffix.lower()
    return (suffix in _CONFIG_SUFFIXES or name in _CONFIG_NAMES
            or name.startswith((".env", "Dockerfile", "docker-compose", "compose."))
            or _is_requirements(name.lower()))


def _is_requirements(lowered_name: str) -> bool:
    return lowered_name.startswith(("requirements", "constraints")) and lowered_name.endswith(
        (".txt", ".in"))


def _marked_deprecated(text: str) -> bool:
    """A module that says in a comment or docstring near its top (first 15 lines) that it is
    deprecated."""
    for line in text.splitlines()[:15]:
        stripped = line.strip().lower()
        if "deprecated" in stripped and stripped.startswith(
                ("#", "//", "/*", "*", '"""', "'''", "@deprecated")):
            return True
    return False
