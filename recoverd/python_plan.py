"""Plan the recovery of a missing Python module: install what the project declares, into its
own environment, under the install policy; otherwise say exactly what to run and why not."""

from __future__ import annotations

import difflib
import shlex

from recoverd import commands, project, pyenv, runner, safety
from recoverd.classifier import Classification
from recoverd.config import Config
from recoverd.declarations import Declaration
from recoverd.dists import canonical, dist_for
from recoverd.events import Event
from recoverd.fixes import Fix
from recoverd.plans import Plan, command_env, effective_policy, typo


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


def plan_python(event: Event, result: Classification, config: Config) -> Plan | None:
    module = result.subject
    proj = project.load(event.cwd or ".")
    env = command_env(event)
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
    misspelt = typo(dist, proj.python) or typo(module, proj.python)
    absent = [] if misspelt or (guess and guess.curated) else _declared_but_absent(proj, target)
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
    hint = f" Did you mean `{misspelt}`, which the project declares?" if misspelt else ""
    return Plan(False, Fix(kind, argv=argv, packages=[dist]),
                f"`{dist}` is not declared by the project, and recoverd installs only declared "
                f"packages (install policy `{policy}`).{hint}", interpreter=target.interpreter)
