"""Decide whether and how to recover: install what the project declares, into its own
environment, under the user's install policy; otherwise say exactly what to run and why not.

plan() only reads (files, and the target interpreter asked about itself); execute() runs the
plan's argv with runner.run and, when safe, the failed command again.
"""

from __future__ import annotations

import difflib
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import re2

from recoverd import checks, commands, project, pyenv, runner, safety
from recoverd.classifier import Classification
from recoverd.config import Config
from recoverd.declarations import Declaration
from recoverd.dists import canonical, dist_for
from recoverd.events import Event
from recoverd.fixes import Fix

POLICY_ORDER = ("declared", "allowlist", "any")
_FRAME = re2.compile(r'(?m)^\s*File "[^"\n]*", line \d+, in (\S+)')
# A bin an npm script runs: the catalogue's variant, or the one fixes.py gives it when
# package.json declares the bin's package but node_modules lacks it.
NPM_BIN_VARIANTS = ("npm_script_bin", "declared_not_installed")


@dataclass
class Plan:
    run: bool  # recoverd runs `fix.argv` by itself
    fix: Fix
    reason: str  # why it runs, or why not; said to Claude
    cwd: str = ""
    env_key: str = ""  # one lock per environment
    retry: bool = False
    retry_reason: str = ""
    env: dict[str, str] = field(default_factory=dict)
    interpreter: str = ""
    purpose: str = "install"  # "install", or "rerun": the failing tests once more, alone

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.env_key, tuple(self.fix.argv))


@dataclass
class Report:
    plan: Plan
    install: runner.Outcome | None = None
    retried: runner.Outcome | None = None
    note: str = ""
    # For a test re-run: the test names that failed again (the others passed alone: flaky).
    still_failing: list[str] | None = None

    @property
    def healed(self) -> bool:
        return self.install is not None and self.install.ok

    @property
    def outcome(self) -> str:
        if self.install is None:
            return "suggested"
        if self.plan.purpose == "rerun":
            return "flaky" if self.healed else "failed_again"
        return "healed" if self.healed else "failed"


def effective_policy(config: Config, root: Path) -> str:
    """The user's policy, made stricter (never looser) by the project's own setting: a cloned
    repository must not be able to widen what recoverd installs."""
    user = config.install_policy
    local = project.project_setting(root, "install_policy")
    if local in POLICY_ORDER and POLICY_ORDER.index(local) < POLICY_ORDER.index(user):
        return local
    return user


def failed_while_importing(result: Classification, output: str) -> bool:
    if result.variant == "dash_m":
        return True
    frames = _FRAME.findall(output)
    return all(f == "<module>" for f in frames)


def _command_env(event: Event) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL")}
    return {**base, **event.env}


def _python_sync(proj: project.Project, decl: Declaration, python: str,
                 manager: str, env: dict[str, str]) -> list[str] | None:
    """The project manager's own command that installs everything it declares."""
    if manager in ("uv", "poetry", "pdm", "pipenv"):
        if not runner.program_exists(manager, env):
            return None
        extra = ["--all-extras"] if decl.extra and manager in ("uv", "poetry") else []
        return {"uv": ["uv", "sync", *extra], "poetry": ["poetry", "install", *extra],
                "pdm": ["pdm", "install"], "pipenv": ["pipenv", "install", "--dev"]}[manager]
    if decl.source.startswith("requirements") or decl.source.endswith(".txt"):
        return [python, "-m", "pip", "install", "-r", decl.source]
    if decl.source.startswith(("pyproject.toml", "setup.cfg")):
        target = f".[{decl.extra}]" if decl.extra else "."
        return [python, "-m", "pip", "install", "-e", target]
    if proj.requirement_files:
        return [python, "-m", "pip", "install", "-r", proj.requirement_files[0].name]
    return None


def _declared_but_absent(proj: project.Project,
                         target: pyenv.PythonEnv) -> list[Declaration]:
    """Declared distributions (not optional extras, not lockfile-only) missing from the env."""
    installed = {canonical(d) for dists in target.provided.values() for d in dists}
    seen: set[str] = set()
    absent = []
    for decl in proj.python:
        if decl.extra or decl.source.endswith(".lock") or decl.key in seen:
            continue
        seen.add(decl.key)
        if decl.key not in installed:
            absent.append(decl)
    return absent


def _add_command(python: str, manager: str, dist: str) -> list[str]:
    return {"uv": ["uv", "add", dist], "poetry": ["poetry", "add", dist],
            "pdm": ["pdm", "add", dist], "pipenv": ["pipenv", "install", dist]}.get(
        manager, [python, "-m", "pip", "install", dist])


def _typo(name: str, declared: list[Declaration]) -> str:
    names = sorted({d.name for d in declared})
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return close[0] if close and canonical(close[0]) != canonical(name) else ""


def plan_python(event: Event, result: Classification, config: Config) -> Plan | None:
    module = result.subject
    proj = project.load(event.cwd or ".")
    env = _command_env(event)
    interpreter = pyenv.interpreter_for(event.command, event.cwd, env, proj)
    target = pyenv.inspect(interpreter, proj) if interpreter else None
    guess = dist_for(module)
    top = module.split(".")[0]
    if result.dist:
        dist = result.dist
    elif guess is None:
        dist = top
    else:
        dist = guess.dist  # "" for a namespace (`google`, `azure`): never guessed
    python = commands.python_of(event.command)
    candidates = [c for c in (dist, *(guess.alternatives if guess else ()),
                              "" if guess and guess.namespace else top) if c]
    decl = next((d for c in candidates if (d := proj.python_declaration(c))), None)
    if not dist and decl is None:
        names = ", ".join(f"`{c}`" for c in candidates[:6])
        return Plan(False, Fix("report", description=f"Install the distribution of the "
                                                     f"submodule you import (one of {names}…)."),
                    f"`{top}` is a namespace shared by many distributions; recoverd will not "
                    "guess which one")
    dist = dist or (decl.name if decl else top)
    if not safety.valid_dist(dist):
        return Plan(False, Fix("report"), f"`{dist}` is not a valid distribution name; "
                    "recoverd passes nothing like it to an installer")
    if target is not None and top in target.provided:
        owner = ", ".join(target.provided[top])
        if module != top:
            return Plan(False, Fix("report"), f"`{top}` is installed (from {owner}) but has no "
                        f"`{module}`: a version or a typo, not a missing package")
        return Plan(False, Fix("report"), f"`{target.interpreter}` already has `{top}` (from "
                    f"{owner}), so the command ran another interpreter or changed its import "
                    "path; nothing to install")
    if target is not None and guess is not None and not guess.curated and decl is None:
        installed = difflib.get_close_matches(top, list(target.provided), n=1, cutoff=0.8)
        if installed:
            # `reqeusts` next to an installed `requests`: a typo, and installing the misspelt
            # name is how typosquatted packages get in.
            return Plan(False, Fix("report", description=f"Fix the import: `{installed[0]}`."),
                        f"`{top}` looks like a typo of `{installed[0]}`, which is installed; "
                        "recoverd suggests no install for a misspelt name",
                        interpreter=target.interpreter)
    manager = target.manager if target else (proj.python_manager or "venv")
    if target is None or not target.may_install:
        where = interpreter or "no interpreter"
        why = ("externally managed (PEP 668)" if target and target.externally_managed
               else "not a virtual environment")
        fix = Fix("use_venv", argv=["python3", "-m", "venv", ".venv"], packages=[dist],
                  description=f"Then install into it: `.venv/bin/python -m pip install "
                              f"{shlex.quote(dist)}` and run with `.venv/bin/python`.")
        return Plan(False, fix, f"`{where}` is {why}: recoverd never installs into a system "
                    "interpreter", interpreter=interpreter or "")
    policy = effective_policy(config, proj.root)
    if proj.has_local_package(top):
        if (proj.root / "pyproject.toml").exists() or (proj.root / "setup.py").exists():
            fix = Fix("pip_install_project", argv=[target.interpreter, "-m", "pip", "install",
                                                   "-e", "."], packages=[], auto=True)
            return Plan(True, fix, f"`{top}` is this project's own package, which is not "
                        "installed in its environment", cwd=str(proj.root),
                        env_key=target.prefix, env=env, interpreter=target.interpreter)
        return Plan(False, Fix("report"), f"`{top}` is a folder of this project, not a PyPI "
                    "package: run from the project root or fix the import path")
    if decl is not None:
        argv = _python_sync(proj, decl, target.interpreter, manager, env)
        if argv is None:
            return Plan(False, Fix("pip_install", argv=_add_command(python, manager, dist),
                                   packages=[dist]),
                        f"`{decl.name}` is declared in {decl.source}, but `{manager}` is not "
                        "installed", interpreter=target.interpreter)
        kind = {"uv": "uv_add"}.get(manager, "pip_install_requirements"
                                    if "-r" in argv else "pip_install_project")
        fix = Fix(kind, argv=argv, packages=[decl.name], auto=True)
        return Plan(True, fix, f"`{decl.name}` is declared in {decl.source} but missing from "
                    f"{target.prefix}", cwd=str(proj.root), env_key=target.prefix,
                    env=env, interpreter=target.interpreter)
    typo = _typo(dist, proj.python) or _typo(module, proj.python)
    absent = [] if typo or (guess and guess.curated) else _declared_but_absent(proj, target)
    if absent:
        # The import name maps to no declared name, but the environment lacks some declared
        # packages: installing those installs only what the project declares, and one of them
        # may well provide the module (an import name that differs from its distribution's).
        argv = _python_sync(proj, absent[0], target.interpreter, manager, env)
        if argv is not None:
            names = ", ".join(f"`{d.name}`" for d in absent[:5])
            kind = "uv_add" if manager == "uv" else ("pip_install_requirements" if "-r" in argv
                                                     else "pip_install_project")
            return Plan(True, Fix(kind, argv=argv, packages=[d.name for d in absent], auto=True),
                        f"the environment lacks packages the project declares ({names}); one of "
                        f"them may provide `{top}`", cwd=str(proj.root), env_key=target.prefix,
                        env=env, interpreter=target.interpreter)
    argv = _add_command(python, manager, dist)
    allowed = policy == "any" or (policy == "allowlist" and canonical(dist) in
                                  {canonical(a) for a in config.allowlist})
    kind = "uv_add" if manager == "uv" else "pip_install"
    if allowed:
        return Plan(True, Fix(kind, argv=argv, packages=[dist], auto=True),
                    f"`{dist}` is not declared, and the install policy `{policy}` allows it",
                    cwd=str(proj.root), env_key=target.prefix, env=env,
                    interpreter=target.interpreter)
    hint = f" Did you mean `{typo}`, which the project declares?" if typo else ""
    return Plan(False, Fix(kind, argv=argv, packages=[dist]),
                f"`{dist}` is not declared by the project, and recoverd installs only declared "
                f"packages (install policy `{policy}`).{hint}", interpreter=target.interpreter)


def _bin_provider(proj: project.Project, command: str) -> Declaration | None:
    """The declared package that provides a missing npm-script command: one of the same name,
    or, while node_modules is absent or incomplete, any declaration whose package is missing
    (its bin arrives with it)."""
    same = proj.node_declaration(command)
    if same is not None:
        return same
    modules = proj.root / "node_modules"
    missing = [d for d in proj.node if not (modules / d.name / "package.json").exists()]
    return missing[0] if missing else None


def _node_sync(proj: project.Project) -> list[str]:
    manager = proj.node_manager or "npm"
    if manager == "npm":
        return ["npm", "ci"] if (proj.root / "package-lock.json").exists() else ["npm", "install"]
    return [manager, "install"]


def plan_node(event: Event, result: Classification, config: Config) -> Plan | None:
    package = result.subject
    if not package or package.startswith((".", "/")) or safety.is_node_builtin(package):
        return None
    if not safety.valid_npm(package):
        return Plan(False, Fix("report"), f"`{package}` is not a valid npm package name; "
                    "recoverd passes nothing like it to an installer")
    proj = project.load(event.cwd or ".")
    env = _command_env(event)
    decl = proj.node_declaration(package)
    if decl is None and result.cls == "missing_command" and proj.node:
        decl = _bin_provider(proj, package)
    manager = proj.node_manager or "npm"
    if decl is not None:
        argv = _node_sync(proj)
        if not runner.program_exists(argv[0], env):
            return Plan(False, Fix("npm_install_all", argv=argv),
                        f"`{package}` is declared in {decl.source}, but `{argv[0]}` is not "
                        "installed")
        return Plan(True, Fix("npm_install_all", argv=argv, packages=[package], auto=True),
                    f"`{package}` is declared in {decl.source} but not installed in "
                    "node_modules", cwd=str(proj.root), env_key=str(proj.root / "node_modules"),
                    env=env)
    dev = result.variant in ("jest", "npm_script_bin")
    argv = [manager, "add" if manager in ("pnpm", "yarn", "bun") else "install",
            *(["--save-dev"] if dev and manager == "npm" else ["-D"] if dev else []), package]
    policy = effective_policy(config, proj.root)
    if policy == "any" or (policy == "allowlist" and package in config.allowlist):
        return Plan(True, Fix("npm_install", argv=argv, packages=[package], dev=dev, auto=True),
                    f"`{package}` is not declared, and the install policy `{policy}` allows it",
                    cwd=str(proj.root), env_key=str(proj.root / "node_modules"), env=env)
    typo = _typo(package, proj.node)
    hint = f" Did you mean `{typo}`, which package.json declares?" if typo else ""
    return Plan(False, Fix("npm_install", argv=argv, packages=[package], dev=dev),
                f"`{package}` is not declared in package.json, and recoverd installs only "
                f"declared packages (install policy `{policy}`).{hint}")


def plan_rerun(event: Event, result: Classification, config: Config) -> Plan | None:
    """Run only the failing tests once more: passing alone means flaky, failing means real."""
    if not config.rerun_failed_tests or result.fix is None or not result.fix.argv:
        return None
    argv = checks.rerun_argv(result.fix.argv)
    env = _command_env(event)
    program = argv[0]
    if not (os.path.isabs(program) or "/" in program) and not runner.program_exists(program, env):
        return None
    if "/" in program and not os.path.isabs(program):
        if not os.access(os.path.join(event.cwd, program), os.X_OK):
            return None
    count = len(result.failing_tests)
    fix = Fix("rerun_failed_tests", argv=argv, auto=True)
    return Plan(True, fix, f"re-running only the {count} failing test{'s' * (count != 1)} once "
                "to tell a flaky test from a real failure", cwd=event.cwd or ".",
                env_key=f"rerun:{event.cwd}", env=env, purpose="rerun")


def plan(event: Event, result: Classification, config: Config) -> Plan | None:
    """What recoverd would do for this failure; None when it has no recovery for the class."""
    if result.cls == "test_failure" and result.failing_tests:
        return plan_rerun(event, result, config)
    if result.cls == "missing_python_module" and result.subject:
        chosen = plan_python(event, result, config)
    elif result.cls == "missing_node_module" or (result.cls == "missing_command" and
                                                 result.variant in NPM_BIN_VARIANTS):
        chosen = plan_node(event, result, config)
    else:
        return None
    if chosen is not None and chosen.run:
        importing = failed_while_importing(result, event.output)
        safe, why = safety.retry_verdict(event.command, result.cls, importing)
        mode = config.retry
        chosen.retry = mode == "always" or (mode == "safe" and safe)
        chosen.retry_reason = why if mode == "safe" else f"retry = {mode}"
    return chosen


def execute(chosen: Plan, event: Event, config: Config) -> Report:
    """Run the plan's install, then the failed command again when that is safe."""
    report = Report(chosen)
    if not chosen.run:
        return report
    if chosen.purpose == "rerun":
        report.install = runner.run(chosen.fix.argv, chosen.cwd, chosen.env,
                                    timeout=config.retry_timeout_seconds, attempts=1)
        return report
    report.install = runner.run(chosen.fix.argv, chosen.cwd, chosen.env,
                                timeout=config.recovery_timeout_seconds,
                                answer_prompts=config.answer_prompts)
    if chosen.interpreter:
        pyenv.forget(chosen.interpreter)
    if report.install.ok and chosen.retry:
        shell = chosen.env.get("SHELL") or "/bin/bash"
        if os.path.basename(shell) not in ("bash", "zsh", "sh", "dash"):
            shell = "/bin/bash"
        # The failed command is a shell command line, so it runs again the way Claude Code
        # ran it: `bash -c`. Installs themselves never go through a shell.
        report.retried = runner.run([shell, "-c", event.command], event.cwd or chosen.cwd,
                                    chosen.env, timeout=config.retry_timeout_seconds,
                                    attempts=1)
    return report
