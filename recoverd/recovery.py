"""Decide whether and how to recover (plan), and recover (execute): install what the project
declares, into its own environment, under the user's install policy; re-run failing tests.

Missing Python modules are planned in python_plan, npm packages and test re-runs here.
plan() only reads (files, and the target interpreter asked about itself); execute() runs the
plan's argv with runner.run and, when safe, the failed command again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import re2

from recoverd import checks, project, pyenv, python_plan, runner, safety
from recoverd.classifier import Classification
from recoverd.config import Config
from recoverd.declarations import Declaration
from recoverd.events import Event
from recoverd.fixes import Fix
from recoverd.plans import Plan, command_env, effective_policy, typo

_FRAME = re2.compile(r'(?m)^\s*File "[^"\n]*", line \d+, in (\S+)')
# A bin an npm script runs: the catalogue's variant, or the one fixes.py gives it when
# package.json declares the bin's package but node_modules lacks it.
NPM_BIN_VARIANTS = ("npm_script_bin", "declared_not_installed")


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


def failed_while_importing(result: Classification, output: str) -> bool:
    if result.variant == "dash_m":
        return True
    frames = _FRAME.findall(output)
    return all(f == "<module>" for f in frames)


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
    env = command_env(event)
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
    misspelt = typo(package, proj.node)
    hint = f" Did you mean `{misspelt}`, which package.json declares?" if misspelt else ""
    return Plan(False, Fix("npm_install", argv=argv, packages=[package], dev=dev),
                f"`{package}` is not declared in package.json, and recoverd installs only "
                f"declared packages (install policy `{policy}`).{hint}")


def plan_rerun(event: Event, result: Classification, config: Config) -> Plan | None:
    """Run only the failing tests once more: passing alone means flaky, failing means real."""
    if not config.rerun_failed_tests or result.fix is None or not result.fix.argv:
        return None
    argv = checks.rerun_argv(result.fix.argv)
    env = command_env(event)
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
        chosen = python_plan.plan_python(event, result, config)
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
