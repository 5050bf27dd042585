"""What a project uses, and where: Python distributions it declares and modules it imports,
npm packages it declares and requires, Ollama models it names.

- Python: the main dependencies of pyproject.toml / requirements*.txt / setup.cfg / Pipfile
  (not optional extras or lockfiles); imports in its .py files, except the standard library,
  `from .` imports, the project's own modules (any module or package folder in the project) and
  imports inside `try:` (optional by construction).
- npm: `dependencies` and `devDependencies` of package.json; `require('x')`, `import … from 'x'`,
  `import('x')` in .js/.ts files, except relative paths and Node builtins.
- Ollama: a value of a key whose name contains `model` (`model: x`, `OLLAMA_MODEL=x`,
  `"model": "x"`) that looks like an Ollama model (a `name:tag`, or in a key or file that
  mentions ollama), and `ollama pull|run x` in scripts and Dockerfiles. Docs are not read.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from recoverd import node_packages, project, project_files, textfiles

_MODEL_KEY = re.compile(
    r"""(?im)^[ \t]*(?:export[ \t]+)?["']?([\w.\-]*model[\w.\-]*)["']?[ \t]*[:=][ \t]*"""
    r"""["']?([A-Za-z0-9][\w.\-/]*(?::[\w.\-]+)?)["']?[ \t]*,?[ \t]*(?:#.*)?$""")
_OLLAMA_COMMAND = re.compile(r"\bollama\s+(?:pull|run|show)\s+([A-Za-z0-9][\w.\-/]*(?::[\w.\-]+)?)")
_MODEL_NAME = re.compile(r"[A-Za-z0-9][\w.\-/]*(?::[\w.\-]+)?")
_JS_SPECIFIER = re.compile(
    r"""\brequire\s*\(\s*['"]([^'"\s]+)['"]\s*\)|\bimport\s*\(\s*['"]([^'"\s]+)['"]\s*\)|"""
    r"""\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"\s]+)['"]|\bimport\s+['"]([^'"\s]+)['"]""")
_JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"})


@dataclass(frozen=True)
class Use:
    kind: str  # python (a distribution), python-module (an import), node, ollama
    name: str
    where: str  # "path:line"


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def python_declarations(root: Path) -> list[Use]:
    found = []
    for declaration in project.load(root).python:
        source = declaration.source
        if declaration.extra or source.endswith(".lock") or (
                ":" in source and source != "pyproject.toml:poetry"):
            continue  # optional extras, dependency groups, lockfiles: not required to run
        path = source.split(":", 1)[0]
        text_file = textfiles.read(root / path)
        line = _line_of(text_file.text, declaration.name) if text_file else 1
        found.append(Use("python", declaration.name, f"{path}:{line}"))
    return found


def node_declarations(root: Path) -> list[Use]:
    text_file = textfiles.read(root / "package.json")
    found = []
    for declaration in project.load(root).node:
        if declaration.source.endswith(("dependencies", "devDependencies")) and \
                not declaration.source.endswith(("optionalDependencies", "peerDependencies")):
            line = _line_of(text_file.text, f'"{declaration.name}"') if text_file else 1
            found.append(Use("node", declaration.name, f"package.json:{line}"))
    return found


def _optional_lines(tree: ast.AST) -> set[int]:
    """Lines of imports inside `try:` bodies."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            for statement in node.body:
                for inner in ast.walk(statement):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        lines.add(inner.lineno)
    return lines


def python_imports(relative: PurePosixPath, text: str, local: set[str]) -> Iterator[Use]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    optional = _optional_lines(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".", 1)[0]
            if node.lineno in optional or top in local or top == "__future__" or \
                    top in sys.stdlib_module_names:
                continue
            yield Use("python-module", top, f"{relative}:{node.lineno}")


def node_requires(relative: PurePosixPath, text: str) -> Iterator[Use]:
    for match in _JS_SPECIFIER.finditer(text):
        specifier = next(group for group in match.groups() if group)
        if node_packages.is_relative(specifier) or node_packages.is_builtin(specifier):
            continue
        package = node_packages.split(specifier)[0]
        if node_packages.is_builtin(package):
            continue
        yield Use("node", package, f"{relative}:{text.count(chr(10), 0, match.start()) + 1}")


def _json_models(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _json_models(child, str(child_key))
    elif isinstance(value, list):
        for child in value:
            yield from _json_models(child, key)
    elif isinstance(value, str) and "model" in key.lower():
        yield key, value


def ollama_models(relative: PurePosixPath, text: str) -> Iterator[Use]:
    mentions_ollama = "ollama" in text.lower()
    pairs: list[tuple[str, str, int]] = []
    if relative.suffix.lower() == ".json":
        try:
            pairs = [(k, v, _line_of(text, v)) for k, v in _json_models(json.loads(text))]
        except ValueError:
            pairs = []
    else:
        pairs = [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
                 for m in _MODEL_KEY.finditer(text)]
    for key, value, line in pairs:
        ollama_like = ":" in value or "ollama" in key.lower() or mentions_ollama
        if ollama_like and _MODEL_NAME.fullmatch(value):
            yield Use("ollama", value, f"{relative}:{line}")
    for match in _OLLAMA_COMMAND.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        yield Use("ollama", match.group(1), f"{relative}:{line}")


def local_modules(files: list[PurePosixPath]) -> set[str]:
    """Names the project's own code can be imported as: every .py file's stem and every folder
    holding .py files (broad on purpose: a local module is never reported as missing)."""
    names: set[str] = set()
    for relative in files:
        if relative.suffix == ".py":
            names.add(relative.stem)
            names.update(relative.parts[:-1])
    return names


def collect(root: Path, tracked_only: bool = True) -> list[Use]:
    """Every use found in the project, declarations first."""
    files = project_files.project_files(root, tracked_only)
    local = local_modules(files) | ({project.load(root).name.replace("-", "_")} - {""})
    uses = python_declarations(root) + node_declarations(root)
    entrypoints = project_files.declared_entrypoints(root)
    for relative in files:
        text_file = textfiles.read(root / relative)
        if text_file is None:
            continue
        text, suffix = text_file.text, relative.suffix.lower()
        if suffix == ".py":
            uses += python_imports(relative, text, local)
        elif suffix in _JS_SUFFIXES:
            uses += node_requires(relative, text)
        if project_files.role_of(relative, text, entrypoints) not in ("docs", "deprecated"):
            uses += ollama_models(relative, text)
    return uses
