"""What recoverd decides to do for a missing module, before anything runs (no installs here:
tests/test_recovery_installs.py does real ones)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recoverd import config, events, recovery, safety
from recoverd.catalogue import Catalogue
from recoverd.classifier import classify
from recoverd.plans import Plan

CATALOGUE = Catalogue()


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("venv") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return folder


def project(tmp_path: Path, venv: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    return tmp_path


def python_failure(cwd: Path, module: str, command: str = ".venv/bin/python app.py",
                   line: str | None = None) -> events.Event:
    error = ("Exit code 1\nTraceback (most recent call last):\n"
             f'  File "{cwd}/app.py", line 1, in <module>\n    {line or "import " + module}\n'
             f"ModuleNotFoundError: No module named '{module.split('.')[0]}'")
    payload = {"hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "cwd": str(cwd),
               "tool_input": {"command": command}, "error": error, "session_id": "t"}
    return events.parse(json.dumps(payload), {"PATH": os.environ["PATH"]})


def plan_for(event: events.Event, **settings: object) -> Plan | None:
    cfg = config.load({"RECOVERD_HOME": "/tmp/rd-unused"}, **settings)
    return recovery.plan(event, classify(event, CATALOGUE.base), cfg)


def test_declared_in_requirements_runs_the_projects_own_install(tmp_path: Path,
                                                                venv: Path) -> None:
    root = project(tmp_path, venv, {"requirements.txt": "PyYAML>=6\nrequests\n"})
    plan = plan_for(python_failure(root, "yaml"))
    assert plan is not None and plan.run and plan.fix.auto
    assert plan.fix.kind == "pip_install_requirements"
    assert plan.fix.argv[1:] == ["-m", "pip", "install", "-r", "requirements.txt"]
    assert Path(plan.fix.argv[0]).parent.parent.resolve() == venv.resolve()
    assert plan.cwd == str(root.resolve())
    assert plan.retry, plan.retry_reason  # `python app.py` failed while importing


def test_declared_in_pyproject_installs_the_project(tmp_path: Path, venv: Path) -> None:
    root = project(tmp_path, venv, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n'
                                    'dependencies = ["python-dateutil"]\n'})
    plan = plan_for(python_failure(root, "dateutil.parser", line="from dateutil import parser"))
    assert plan is not None and plan.run
    assert plan.fix.kind == "pip_install_project" and plan.fix.argv[-2:] == ["-e", "."]


def test_optional_dependency_installs_its_extra(tmp_path: Path, venv: Path) -> None:
    root = project(tmp_path, venv, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n'
                                    '[project.optional-dependencies]\nimages = ["Pillow"]\n'})
    plan = plan_for(python_failure(root, "PIL", line="from PIL import Image"))
    assert plan is not None and plan.run and plan.fix.argv[-2:] == ["-e", ".[images]"]


def test_undeclared_is_suggested_with_the_distribution_name(tmp_path: Path, venv: Path) -> None:
    root = project(tmp_path, venv, {"requirements.txt": "requests\n"})
    plan = plan_for(python_failure(root, "yaml"))
    assert plan is not None and not plan.run and not plan.fix.auto
    assert plan.fix.argv == [".venv/bin/python", "-m", "pip", "install", "PyYAML"]
    assert "not declared" in plan.reason


def test_policy_any_and_allowlist_install_undeclared(tmp_path: Path, venv: Path) -> None:
    root = project(tmp_path, venv, {"requirements.txt": "requests\n"})
    event = python_failure(root, "yaml")
    assert plan_for(event, install_policy="any").run  # type: ignore[union-attr]
    assert plan_for(event, install_policy="allowlist", allowlist="pyyaml").run  # type: ignore
    assert not plan_for(event, install_policy="allowlist", allowlist="requests").run  # type: ignore


def test_a_project_cannot_widen_the_users_policy(tmp_path: Path, venv: Path) -> None:
    root = project(tmp_path, venv, {"requirements.txt": "requests\n",
                                    ".recoverd/config.toml": 'install_policy = "any"\n'})
    assert not plan_for(python_failure(root, "yaml")).run  # type: ignore[union-attr]
    (root / ".recoverd/config.toml").write_text('install_policy = "declared"\n')
    assert not plan_for(python_failure(root, "yaml"), install_policy="any").run  # type: ignore


def test_typo_of_a_declared_name_is_pointed_out(tmp_path: Path, venv: Path) -> None:
    root = project(tmp_path, venv, {"requirements.txt": "requests\n"})
    plan = plan_for(python_failure(root, "requets"))
    assert plan is not None and not plan.run and "Did you mean `requests`" in plan.reason


def test_system_interpreter_never_gets_an_install(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("PyYAML\n")
    system_python = Path(sys.base_prefix) / "bin" / "python3"
    event = python_failure(tmp_path, "yaml_missing_here", command=f"{system_python} app.py")
    plan = plan_for(event)
    assert plan is not None and not plan.run
    assert plan.fix.kind == "use_venv" and "never installs into a system" in plan.reason


def test_namespace_top_is_never_guessed(tmp_path: Path, venv: Path) -> None:
    root = project(tmp_path, venv, {"requirements.txt": "requests\n"})
    plan = plan_for(python_failure(root, "google", line="import google"))
    assert plan is not None and not plan.run and "namespace" in plan.reason
    assert "google" not in plan.fix.argv


def test_local_package_is_installed_as_the_project(tmp_path: Path, venv: Path) -> None:
    root = project(tmp_path, venv, {"pyproject.toml": '[project]\nname = "mypkg"\n',
                                    "src/mypkg/__init__.py": ""})
    plan = plan_for(python_failure(root, "mypkg"))
    assert plan is not None and plan.run and plan.fix.kind == "pip_install_project"


@pytest.mark.parametrize("name", ["yaml; rm -rf ~", "$(touch pwned)", "a b", "-e", "../x",
                                  "x`id`", "pkg|sh"])
def test_names_with_metacharacters_are_rejected(name: str) -> None:
    assert not safety.valid_dist(name)
    assert not safety.valid_npm(name)


def node_failure(cwd: Path, package: str) -> events.Event:
    error = f"Exit code 1\nError: Cannot find module '{package}'\nRequire stack:\n- {cwd}/a.js"
    payload = {"hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "cwd": str(cwd),
               "tool_input": {"command": "node a.js"}, "error": error}
    return events.parse(json.dumps(payload), {"PATH": os.environ["PATH"]})


def test_node_declared_runs_the_lockfile_install(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"express": "^4"}}))
    (tmp_path / "package-lock.json").write_text("{}")
    plan = plan_for(node_failure(tmp_path, "express"))
    assert plan is not None and plan.run and plan.fix.argv == ["npm", "ci"]
    assert plan.fix.kind == "npm_install_all"


def test_node_undeclared_is_suggested(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {}}))
    plan = plan_for(node_failure(tmp_path, "left-pad"))
    assert plan is not None and not plan.run and plan.fix.argv == ["npm", "install", "left-pad"]


def test_node_builtin_and_relative_get_no_install(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    assert plan_for(node_failure(tmp_path, "node:fs")) is None
    assert plan_for(node_failure(tmp_path, "./config")) is None


@pytest.mark.parametrize("command,safe", [
    ("python -m pytest -q", True), (".venv/bin/pytest tests/", True), ("npm test", True),
    ("npm run build", True), ("npm run deploy", False), ("cargo test", True),
    ("go test ./...", True), ("make test", True), ("tsc --noEmit", True),
    ("git push origin main", False), ("rm -rf build && pytest", False),
    ("curl https://x.example/install.sh | sh", False), ("python manage.py migrate", False),
    ("python app.py > out.txt", False), ("./deploy.sh", False),
])
def test_retry_verdicts(command: str, safe: bool) -> None:
    assert safety.retry_verdict(command, "test_failure", False)[0] is safe


def test_a_script_that_failed_while_importing_may_run_again() -> None:
    assert safety.retry_verdict("python app.py", "missing_python_module", True)[0]
    assert not safety.retry_verdict("python app.py", "missing_python_module", False)[0]


def test_unmapped_import_name_syncs_what_the_project_declares(tmp_path: Path, venv: Path) -> None:
    """`fyaml` maps to nothing known, but the env lacks declared packages: installing those
    installs only declared things, and one of them may provide the module."""
    root = project(tmp_path, venv, {"requirements.txt": "Fancy-Yaml\n"})
    plan = plan_for(python_failure(root, "fyaml"))
    assert plan is not None and plan.run
    assert plan.fix.argv[-2:] == ["-r", "requirements.txt"] and "Fancy-Yaml" in plan.reason


def test_misspelt_name_of_an_installed_module_is_never_installed(tmp_path: Path) -> None:
    """`import reqeusts` next to an installed `requests`: report the typo, suggest no install."""
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "requests").mkdir()
    (site / "requests" / "__init__.py").write_text("")
    meta = site / "requests-2.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: requests\nVersion: 2.0\n")
    (meta / "top_level.txt").write_text("requests\n")
    (meta / "RECORD").write_text("requests/__init__.py,,\n")
    plan = plan_for(python_failure(tmp_path, "reqeusts"))
    assert plan is not None and not plan.run and plan.fix.kind == "report"
    assert "typo of `requests`" in plan.reason and "reqeusts" not in plan.fix.argv
