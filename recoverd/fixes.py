"""The fix recoverd proposes for a classification: a kind, and an argv list when one applies.

An entry's `action` is where a fix starts; what the project holds can change it: a Python
module the project already declares is fixed by installing the project, a package.json
dependency without node_modules by `npm install`, a module of the project itself by nothing.

`auto` says whether recoverd would run the fix by itself under the current policy. Nothing is
run automatically yet, so every fix is `auto: false` until the recovery runner decides otherwise.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from recoverd import commands, node_packages, python_imports

if TYPE_CHECKING:
    from recoverd.classifier import Classification
    from recoverd.events import Event

_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@dataclass
class Fix:
    kind: str
    argv: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    auto: bool = False
    description: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    dev: bool | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.argv:
            out["argv"] = self.argv
        if self.packages:
            out["packages"] = self.packages
        if self.candidates:
            out["candidates"] = self.candidates
        if self.dev is not None:
            out["dev"] = self.dev
        if self.description:
            out["description"] = self.description
        out["auto"] = self.auto
        return out


def _has_project(cwd: str) -> bool:
    return bool(cwd) and any(os.path.isfile(os.path.join(cwd, f)) for f in _PROJECT_FILES)


def _pip(result: Classification, event: Event) -> Fix:
    python = commands.python_of(event.command)
    subject, dist = result.subject, result.dist or result.subject
    if subject in ("pip", "ensurepip"):
        return Fix("report", description=f"This Python has no pip: `{python} -m ensurepip "
                                         "--upgrade`, or use a virtual environment.")
    if result.variant == "pytest_fixture_error":
        plugin = python_imports.fixture_plugin(subject)
        if plugin is None:
            return Fix("report", description=f"No installed plugin provides the fixture "
                                             f"'{subject}'; define it in conftest.py.")
        dist = plugin
    if result.variant == "local_package":
        if _has_project(event.cwd):
            return Fix("pip_install_project", argv=[python, "-m", "pip", "install", "-e", "."],
                       description=f"'{subject}' is this project's own package: install the "
                                   "project in editable mode.")
        return Fix("report", description=f"'{subject}' is a module of this project, not a PyPI "
                                         "package: run from the project root or set PYTHONPATH.")
    if result.variant == "submodule_of_installed_package":
        parent = subject.rsplit(".", 1)[0]
        return Fix("report", description=f"'{parent}' is installed but has no '{subject}': the "
                                         "import or the installed version is wrong.")
    if result.declared_in == "pyproject.toml" and _has_project(event.cwd):
        return Fix("pip_install_project", argv=[python, "-m", "pip", "install", "-e", "."],
                   packages=[dist], description=f"'{dist}' is declared in pyproject.toml: "
                                                "install the project and its dependencies.")
    if result.declared_in:
        return Fix("pip_install_requirements",
                   argv=[python, "-m", "pip", "install", "-r", result.declared_in],
                   packages=[dist], description=f"'{dist}' is listed in {result.declared_in}.")
    if result.variant == "uv":
        return Fix("uv_add", argv=["uv", "add", dist], packages=[dist])
    return Fix("pip_install", argv=[python, "-m", "pip", "install", dist], packages=[dist])


def _package_manager(command: str, cwd: str) -> str:
    head = os.path.basename((commands.program_words(command) or ["npm"])[0])
    if head in ("pnpm", "yarn", "bun"):
        return head
    for lockfile, manager in (("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn")):
        if cwd and os.path.isfile(os.path.join(cwd, lockfile)):
            return manager
    return "npm"


def _npm(result: Classification, event: Event) -> Fix:
    subject = result.subject
    if result.cls == "missing_local_module":
        return Fix("report", description=f"'{subject}' is a file of this project that does not "
                                         "exist: fix the path or create it. Nothing to install.")
    if result.variant in ("subpath_of_installed_package", "unknown_builtin",
                          "subpath_not_exported"):
        return Fix("report", description=_NPM_REPORTS[result.variant].format(subject=subject))
    package = result.dist or subject  # tsc names the @types package to install
    # Tools run through npx, and type packages, belong in devDependencies.
    dev = result.dev or result.variant in ("npx", "npx_wrong_package") or package.startswith(
        "@types/")
    if result.cls == "missing_command":  # a bin an npm script runs: its package, for dev
        package, dev = commands.npm_package_for_bin(subject), True
        declared = node_packages.declared_in(event.cwd, package)
        if declared and node_packages.installed_dir(event.cwd, package) is None:
            result.variant, result.declared_in = "declared_not_installed", declared
    manager = _package_manager(event.command, event.cwd)
    if result.variant == "declared_not_installed":
        return Fix("npm_install_all", argv=[manager, "install"],
                   description=f"'{package}' is declared in package.json but not installed.")
    flag = (["--save-dev"] if manager == "npm" else ["-D"]) if dev else []
    verb = "install" if manager == "npm" else "add"
    return Fix("npm_install", argv=[manager, verb, *flag, package], packages=[package], dev=dev)


_NPM_REPORTS = {
    "subpath_of_installed_package": "The package is installed but has no file '{subject}': "
                                    "check the path against the installed version.",
    "unknown_builtin": "'{subject}' is not a Node.js built-in module: check the name.",
    "subpath_not_exported": "'{subject}' is not exported by the package: import what its "
                            "\"exports\" offers.",
}


def _npm_run(result: Classification, event: Event) -> Fix:
    scripts = node_packages.scripts(event.cwd)
    close = difflib.get_close_matches(result.subject, list(scripts), n=1, cutoff=0.5)
    if close:
        runner = commands.program_words(event.command)[:1] or ["npm"]
        return Fix("npm_run", argv=[runner[0], "run", close[0]],
                   description=f"The closest existing script is '{close[0]}'.")
    listed = ", ".join(sorted(scripts)) or "none"
    return Fix("report", description=f"No script '{result.subject}'. Scripts in package.json: "
                                     f"{listed}.")


# Names become one regex alternation for the runner's filter: regex characters are escaped.
_REGEX_SPECIALS = str.maketrans({c: "\\" + c for c in "\\^$.|?*+()[]{}"})
# cargo test flags that take a value, kept with it when the filter is replaced.
_CARGO_VALUE_FLAGS = frozenset({"-p", "--package", "--features", "-F", "--target", "--bin",
                                "--test", "--manifest-path", "-j", "--jobs", "--profile"})


def _alternation(names: list[str]) -> str:
    return "|".join(name.translate(_REGEX_SPECIALS) for name in names)


def _rerun(result: Classification, event: Event) -> Fix:
    tests = result.failing_tests
    if not tests:
        return Fix("rerun_failed_tests")
    ids = [t.id for t in tests]
    names = [t.name for t in tests]
    files = sorted({t.file for t in tests if t.file})
    python = commands.python_of(event.command)
    # go test -run splits its regex at `/` into subtest levels: rerun the top-level tests.
    go_tops = sorted({i.split("/", 1)[0] for i in ids})
    by_runner: dict[str, Callable[[], list[str]]] = {
        "pytest": lambda: [python, "-m", "pytest", *ids],
        "pytest_fixture_error": lambda: [python, "-m", "pytest", *ids],
        "unittest": lambda: [python, "-m", "unittest", *ids],
        "jest": lambda: ["npx", "jest", *files, "-t", _alternation(names)],
        "vitest": lambda: ["npx", "vitest", "run", *files, "-t", _alternation(names)],
        "mocha": lambda: ["npx", "mocha", "--grep", _alternation(ids)],
        "node_test": lambda: ["node", "--test", "--test-name-pattern", _alternation(names),
                              *files],
        "go_test": lambda: ["go", "test", "-run", f"^({_alternation(go_tops)})$", "./..."],
        "cargo_test": lambda: _cargo_test(event.command, ids),
    }
    build = by_runner.get(result.variant)
    return Fix("rerun_failed_tests", argv=build() if build else [])


def _cargo_test(command: str, ids: list[str]) -> list[str]:
    """The same `cargo test` with its flags, filtered to the failing tests."""
    words = commands.program_words(command)
    base = ["cargo", "test"]
    if words[:2] == ["cargo", "test"]:
        rest = words[2: words.index("--")] if "--" in words else words[2:]
        keep_next = False
        for word in rest:
            if keep_next or word.startswith("-"):
                base.append(word)
                keep_next = word in _CARGO_VALUE_FLAGS
    return [*base, *ids] if len(ids) == 1 else [*base, "--", *ids]


def _install_command(result: Classification, event: Event) -> Fix:
    candidates = [{"manager": c["manager"], "argv": c["argv"]}
                  for c in commands.install_candidates(result.subject, event.command)]
    if commands.runs_package_script(event.command) and result.cls == "missing_command":
        return _npm(result, event)
    description = "" if candidates else f"Install the program that provides `{result.subject}`."
    return Fix("install_command", candidates=candidates, description=description)


def _with_subject(kind: str, argv: Callable[[str], list[str]]) -> Callable[..., Fix]:
    def build(result: Classification, event: Event) -> Fix:
        return Fix(kind, argv=argv(result.subject) if result.subject else [])
    return build


def _use_venv(result: Classification, event: Event) -> Fix:
    return Fix("use_venv", argv=["python3", "-m", "venv", ".venv"],
               description="Create a virtual environment and install into it "
                           "(.venv/bin/python -m pip install …).")


_BUILDERS: dict[str, Callable[[Classification, Event], Fix]] = {
    "pip_install": _pip,
    "npm_install": _npm,
    "npm_run": _npm_run,
    "rerun_failed_tests": _rerun,
    "install_command": _install_command,
    "chmod_x": _with_subject("chmod_x", lambda s: ["chmod", "+x", s]),
    "convert_line_endings": _with_subject("convert_line_endings",
                                          lambda s: ["sed", "-i", "s/\\r$//", s]),
    "cargo_add": _with_subject("cargo_add", lambda s: ["cargo", "add", s]),
    "go_get": _with_subject("go_get", lambda s: ["go", "get", s]),
    "use_venv": _use_venv,
}


def build(kind: str, result: Classification, event: Event) -> Fix:
    """Turn an entry's action into a concrete proposal."""
    builder = _BUILDERS.get(kind)
    if builder is not None:
        fix = builder(result, event)
    else:
        fix = Fix(kind)
    if not fix.description and result.message and fix.kind != "none":
        fix.description = result.message
    return fix
