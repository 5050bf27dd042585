"""Real recoveries, end to end: the real hook, the real daemon, real pip / uv / npm installs.

Each scenario builds a small project, runs its failing command for real to get its output,
hands that failure to `hooks/recoverd-hook` exactly as Claude Code would (a PostToolUseFailure
payload on stdin), and checks what happened: what is installed in the project's environment,
the additionalContext Claude reads, the daemon's recovery.* log events, and the requests the
local index saw. Packages come only from indexes served by the test on 127.0.0.1; every child
process (the failing command, the hook, and through the hook's forwarded environment the
recovery itself) has a TrapProxy as its HTTP(S) proxy, so any attempt to reach a public
registry is refused and fails the test.

The recovery's environment is the daemon's PATH/HOME/LANG plus what the hook forwards from its
own environment (PIP_*, UV_*, npm_config_*, proxies…): the index settings are given to the hook.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from daemon_fixtures import HOOK, DaemonFactory, Home, wait_for
from package_index import (
    NpmRegistry,
    PackageIndex,
    TrapProxy,
    find_uv,
    npm_env,
    pip_env,
    uv_env,
)

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

HOOK_DEADLINE = 40.0  # seconds the hook waits for a failure's answer (the daemon's budget: 20)
SERVER_LIFETIME = 150.0
APP = "import {module}\nprint('app ran with', {module}.VALUE)\n"
PY_COMMAND = ".venv/bin/python app.py"
NODE_APP = "const m = require('{package}');\nconsole.log('app ran with', m.value);\n"


# -- helpers ---------------------------------------------------------------------------------


class SlowIndex(PackageIndex):
    """A PackageIndex that holds distribution-file downloads for `delay_s` seconds (bounded,
    below the installers' read timeouts): an install that takes a while, on purpose."""

    def __init__(self, root: Path, *, delay_s: float = 0.0, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self.delay_s = delay_s

    def _respond(self, method: str, path: str, headers: Any) -> Any:
        if self.delay_s and path.startswith("/files/") and not path.endswith(".metadata"):
            time.sleep(min(self.delay_s, 10.0))
        return super()._respond(method, path, headers)


@dataclass
class Hooked:
    """One hook run: its reply's additionalContext (or None) and how long it took."""

    reply: dict[str, Any] | None
    elapsed: float

    @property
    def event_name(self) -> str:
        assert self.reply is not None
        return str(self.reply["hookSpecificOutput"]["hookEventName"])

    @property
    def context(self) -> str:
        assert self.reply is not None, "the hook printed nothing"
        return str(self.reply["hookSpecificOutput"]["additionalContext"])


def hook_env(home: Home, extra: Mapping[str, str]) -> dict[str, str]:
    """The hook's environment: the installer settings from a *_env helper, pointed at home."""
    env = dict(extra)
    env.update(RECOVERD_HOME=str(home.root), RECOVERD_NO_AUTOSTART="1",
               RECOVERD_HOOK_DEADLINE=f"{HOOK_DEADLINE:g}", RECOVERD_HOOK_ACK_TIMEOUT="2")
    return env


def start_hook(env: Mapping[str, str], payload: bytes) -> subprocess.Popen[bytes]:
    """The hook exactly as Claude Code runs it."""
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(HOOK)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env),
                            cwd="/")
    assert proc.stdin is not None
    proc.stdin.write(payload)
    proc.stdin.close()
    return proc


def finish_hook(proc: subprocess.Popen[bytes], started: float) -> Hooked:
    assert proc.stdout is not None and proc.stderr is not None
    try:
        out = proc.stdout.read()
        proc.wait(HOOK_DEADLINE + 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise
    finally:
        proc.stdout.close()
        proc.stderr.close()
    elapsed = time.monotonic() - started
    assert proc.returncode == 0
    assert elapsed < HOOK_DEADLINE + 2.0, f"hook took {elapsed:.1f}s"
    if not out:
        return Hooked(None, elapsed)
    reply = json.loads(out)
    assert isinstance(reply, dict) and set(reply) == {"hookSpecificOutput"}, out
    return Hooked(reply, elapsed)


def run_hook(env: Mapping[str, str], payload: bytes) -> Hooked:
    started = time.monotonic()
    return finish_hook(start_hook(env, payload), started)


def fail(cwd: Path, command: str, env: Mapping[str, str]) -> tuple[int, str]:
    """Run the command for real (as Claude Code's Bash tool does: bash -c) and return its exit
    code and output; it must fail."""
    done = subprocess.run(["/bin/bash", "-c", command], cwd=cwd, env=dict(env),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60)
    assert done.returncode != 0, f"`{command}` was expected to fail:\n{done.stdout}"
    return done.returncode, done.stdout


def failure_payload(cwd: Path, command: str, exit_code: int, output: str,
                    session: str = "sess-1") -> bytes:
    """A PostToolUseFailure payload as Claude Code sends it: `error` is "Exit code N\\n" and
    the command's output."""
    return json.dumps({
        "session_id": session,
        "transcript_path": f"/home/dev/.claude/projects/-p/{session}.jsonl",
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "run it"},
        "tool_use_id": "toolu_01",
        "error": f"Exit code {exit_code}\n{output}",
        "is_interrupt": False,
        "duration_ms": 120,
    }).encode()


def success_payload(cwd: Path, session: str = "sess-1") -> bytes:
    return json.dumps({
        "session_id": session, "cwd": str(cwd), "hook_event_name": "PostToolUse",
        "tool_name": "Bash", "tool_input": {"command": "ls", "description": "list"},
        "tool_response": {"stdout": "app.py", "stderr": "", "interrupted": False,
                          "isImage": False, "noOutputExpected": False},
        "tool_use_id": "toolu_02", "duration_ms": 5,
    }).encode()


def recover(env: Mapping[str, str], cwd: Path, command: str,
            session: str = "sess-1") -> tuple[int, str, Hooked]:
    """Fail for real, then hand the failure to the hook."""
    code, output = fail(cwd, command, env)
    return code, output, run_hook(env, failure_payload(cwd, command, code, output, session))


def events(home: Home, prefix: str = "recovery.") -> list[dict[str, Any]]:
    return [r for r in home.log_events() if str(r.get("event", "")).startswith(prefix)]


def named(home: Home, name: str) -> list[dict[str, Any]]:
    return home.log_events(name)


def write(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def imports(python: Path, module: str) -> bool:
    done = subprocess.run([str(python), "-I", "-c", f"import {module}"], capture_output=True,
                          timeout=30, stdin=subprocess.DEVNULL)
    return done.returncode == 0


def healed_text(argv: list[str], command: str) -> list[str]:
    """What the context of a healed-and-retried recovery must say, verbatim."""
    return [f"recoverd ran `{shlex.join(argv)}` (", "): exit 0, ",
            f"Retried `{command}`: passed."]


def no_escape(trap: TrapProxy) -> None:
    assert trap.requests() == [], f"something tried to leave the machine: {trap.request_log()}"


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_daemon_errors(home: Home) -> Iterator[None]:
    yield
    errors = [e for e in home.log_events() if e.get("level") in ("error", "critical")
              or e.get("event") == "request.failed"]
    assert not errors, errors


@pytest.fixture
def trap() -> Iterator[TrapProxy]:
    with TrapProxy(lifetime_s=SERVER_LIFETIME) as proxy:
        yield proxy
        no_escape(proxy)


@pytest.fixture(scope="module")
def venv_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One venv with pip (ensurepip is slow); each scenario gets a copy. `bin/python` is a
    symlink to the base interpreter and pyvenv.cfg locates the prefix, so a copy works for
    `python -m pip`, which is all recoverd runs."""
    folder = tmp_path_factory.mktemp("template") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120,
                   stdin=subprocess.DEVNULL, capture_output=True)
    return folder


def venv_in(root: Path, template: Path) -> Path:
    shutil.copytree(template, root / ".venv", symlinks=True)
    return root / ".venv" / "bin" / "python"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SlowIndex]:
    with SlowIndex(tmp_path / "wheels", lifetime_s=SERVER_LIFETIME) as served:
        yield served


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[NpmRegistry]:
    with NpmRegistry(tmp_path / "tarballs", lifetime_s=SERVER_LIFETIME) as served:
        yield served


def py_env(home: Home, index: PackageIndex, trap: TrapProxy, **kwargs: Any) -> dict[str, str]:
    return hook_env(home, pip_env(index.url, base=home.env(), trap_proxy=trap.url, **kwargs))


def js_env(home: Home, registry: NpmRegistry, trap: TrapProxy, cache: Path) -> dict[str, str]:
    return hook_env(home, npm_env(registry.url, cache, base=home.env(), trap_proxy=trap.url))


def python_project(root: Path, template: Path, requirements: str, module: str) -> Path:
    write(root, {"requirements.txt": requirements, "app.py": APP.format(module=module)})
    python = venv_in(root, template)
    assert not imports(python, module)
    return python


def pip_sync_argv(root: Path) -> list[str]:
    return [f"{root}/.venv/bin/python", "-m", "pip", "install", "-r", "requirements.txt"]


# -- 1. a declared dependency missing from the venv ------------------------------------------


def test_declared_dependency_is_installed_and_the_command_retried(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path, venv_template: Path) -> None:
    index.add_wheel("tinydep", "1.0", {"tinydep/__init__.py": "VALUE = 'tiny 1.0'\n"})
    python = python_project(project, venv_template,
                            f"--index-url {index.url}\ntinydep==1.0\n", "tinydep")
    start_daemon(home)
    env = py_env(home, index, trap)
    code, output, hooked = recover(env, project, PY_COMMAND)
    assert code == 1 and "No module named 'tinydep'" in output

    assert imports(python, "tinydep")
    context = hooked.context
    assert hooked.event_name == "PostToolUseFailure"
    for text in [*healed_text(pip_sync_argv(project), PY_COMMAND), "Installed: tinydep.",
                 "`tinydep` is declared in requirements.txt", "app ran with tiny 1.0"]:
        assert text in context, context
    started, = named(home, "recovery.started")
    assert started["argv"] == pip_sync_argv(project) and started["session"] == "sess-1"
    finished, = named(home, "recovery.finished")
    assert finished["outcome"] == "healed" and finished["exit_code"] == 0
    assert finished["retried"] is True and finished["retry_exit_code"] == 0
    assert finished["attempts"] == 1
    assert index.file_downloads("tinydep") == 1


# -- 2. an import name that is not its distribution's name ------------------------------------


@pytest.mark.parametrize("dist,module", [
    ("PyYAML", "yaml"),  # the curated table maps `yaml` to PyYAML
    ("Fancy-Yaml", "fancy_yaml"),  # not in the table: found by PEP 503 name equivalence
])
def test_declared_distribution_of_another_name_is_installed(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path, venv_template: Path, dist: str, module: str) -> None:
    # A local stand-in for the distribution, served under its real name.
    index.add_wheel(dist, "6.0", {f"{module}/__init__.py": f"VALUE = 'local {dist}'\n"})
    python = python_project(project, venv_template, f"{dist}>=6\n", module)
    start_daemon(home)
    _, output, hooked = recover(py_env(home, index, trap), project, PY_COMMAND)
    assert f"No module named '{module}'" in output

    assert imports(python, module)
    for text in [*healed_text(pip_sync_argv(project), PY_COMMAND), f"Installed: {dist}.",
                 f"`{dist}` is declared in requirements.txt", f"app ran with local {dist}"]:
        assert text in hooked.context, hooked.context
    assert [e["event"] for e in events(home)] == ["recovery.started", "recovery.finished"]
    assert index.file_downloads(dist) == 1


def test_undeclared_distribution_is_only_suggested_by_its_exact_name(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path, venv_template: Path) -> None:
    index.add_wheel("PyYAML", "6.0", {"yaml/__init__.py": "VALUE = 'local yaml'\n"})
    python = python_project(project, venv_template, "tinydep\n", "yaml")
    start_daemon(home)
    _, _, hooked = recover(py_env(home, index, trap), project, PY_COMMAND)

    assert not imports(python, "yaml")
    context = hooked.context
    assert "Next step: `.venv/bin/python -m pip install PyYAML`" in context, context
    assert "Not run by recoverd: `PyYAML` is not declared by the project" in context
    assert "recoverd ran" not in context
    suggested, = named(home, "recovery.suggested")
    assert suggested["argv"] == [".venv/bin/python", "-m", "pip", "install", "PyYAML"]
    assert not named(home, "recovery.started")
    assert index.requests() == []


# -- 3. a uv project whose .venv lacks a declared dependency ----------------------------------


def test_uv_project_is_synced(home: Home, start_daemon: DaemonFactory, trap: TrapProxy,
                              index: SlowIndex, project: Path, tmp_path: Path) -> None:
    uv = find_uv()
    if uv is None:
        pytest.skip("uv is not installed (it is in the test extra)")
    tools = tmp_path / "tools"  # only uv, not the rest of the dev venv's bin folder
    tools.mkdir()
    (tools / "uv").symlink_to(uv)
    index.add_wheel("uvdep", "2.0", {"uvdep/__init__.py": "VALUE = 'uv 2.0'\n"})
    # The project names its own index (so uv must read [tool.uv]: uv_env(None)); no
    # [build-system], so uv treats it as a virtual project and builds nothing.
    write(project, {
        "pyproject.toml": '[project]\nname = "uvapp"\nversion = "0.1.0"\n'
                          'requires-python = ">=3.11"\ndependencies = ["uvdep>=2"]\n\n'
                          f'[[tool.uv.index]]\nname = "local"\nurl = "{index.url}"\n'
                          'default = true\n',
        "app.py": APP.format(module="uvdep"),
    })
    env = hook_env(home, uv_env(None, base=home.env(), trap_proxy=trap.url,
                                cache_dir=tmp_path / "uv-cache"))
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    base_python = os.path.realpath(sys.executable)
    for argv in (["uv", "venv", "--python", base_python, ".venv"], ["uv", "lock"]):
        done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
    assert 'name = "uvdep"' in (project / "uv.lock").read_text()
    python = project / ".venv" / "bin" / "python"
    assert not imports(python, "uvdep")
    locked = index.file_downloads()
    start_daemon(home)
    _, _, hooked = recover(env, project, PY_COMMAND)

    assert imports(python, "uvdep")
    for text in [*healed_text(["uv", "sync"], PY_COMMAND), "Installed: uvdep.",
                 "`uvdep` is declared in pyproject.toml", "app ran with uv 2.0"]:
        assert text in hooked.context, hooked.context
    started, = named(home, "recovery.started")
    assert started["argv"] == ["uv", "sync"] and started["cwd"] == str(project)
    finished, = named(home, "recovery.finished")
    assert finished["outcome"] == "healed" and finished["retry_exit_code"] == 0
    assert index.file_downloads("uvdep") - locked == 1


# -- 4. declared Node dependencies, node_modules absent ---------------------------------------


def test_node_dependencies_are_installed_from_the_lockfile(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, registry: NpmRegistry,
        project: Path, tmp_path: Path) -> None:
    registry.add_package("tiny-left", "1.2.0", {"index.js": "exports.value = 'left 1.2';\n"})
    write(project, {"package.json": json.dumps({"name": "app", "version": "1.0.0",
                                                "dependencies": {"tiny-left": "^1.2.0"}}),
                    "app.js": NODE_APP.format(package="tiny-left")})
    env = js_env(home, registry, trap, tmp_path / "npm-cache")
    locked = subprocess.run(["npm", "install", "--package-lock-only"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert locked.returncode == 0, locked.stderr
    assert not (project / "node_modules").exists()
    start_daemon(home)
    _, output, hooked = recover(env, project, "node app.js")
    assert "Cannot find module 'tiny-left'" in output

    assert (project / "node_modules" / "tiny-left" / "index.js").is_file()
    for text in [*healed_text(["npm", "ci"], "node app.js"), "Installed: tiny-left.",
                 "app ran with left 1.2"]:
        assert text in hooked.context, hooked.context
    started, = named(home, "recovery.started")
    assert started["argv"] == ["npm", "ci"]
    finished, = named(home, "recovery.finished")
    assert finished["outcome"] == "healed" and finished["retry_exit_code"] == 0
    assert registry.tarball_downloads("tiny-left") == 1


# -- 5. a devDependency whose bin an npm script runs ------------------------------------------


def test_npm_script_bin_of_a_declared_dev_dependency(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, registry: NpmRegistry,
        project: Path, tmp_path: Path) -> None:
    registry.add_package("mytestbin", "1.0.0",
                         {"cli.js": "#!/usr/bin/env node\nconsole.log('all 3 tests ok');\n"},
                         bin={"mytestbin": "cli.js"})
    write(project, {"package.json": json.dumps({
        "name": "app", "version": "1.0.0", "scripts": {"test": "mytestbin --all"},
        "devDependencies": {"mytestbin": "1.0.0"}})})
    env = js_env(home, registry, trap, tmp_path / "npm-cache")
    start_daemon(home)
    code, output, hooked = recover(env, project, "npm test")
    assert code == 127 and "mytestbin: not found" in output

    assert (project / "node_modules" / ".bin" / "mytestbin").exists()
    for text in [*healed_text(["npm", "install"], "npm test"), "all 3 tests ok"]:
        assert text in hooked.context, hooked.context
    classified = home.wait_for_log("event.classified")  # logged after the reply
    assert classified["class"] == "missing_command"
    assert classified["pattern"] == "npm_script_bin_not_found"
    started, = named(home, "recovery.started")
    assert started["argv"] == ["npm", "install"]
    assert "`mytestbin` is declared in package.json:devDependencies" in started["reason"]
    finished, = named(home, "recovery.finished")
    assert finished["outcome"] == "healed" and finished["retry_exit_code"] == 0
    assert registry.tarball_downloads("mytestbin") == 1


# -- 6. an undeclared Node package ------------------------------------------------------------


def test_undeclared_node_package_is_only_suggested(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, registry: NpmRegistry,
        project: Path, tmp_path: Path) -> None:
    registry.add_package("left-padx", "1.0.0", {"index.js": "exports.value = 1;\n"})
    write(project, {"package.json": json.dumps({"name": "app", "version": "1.0.0",
                                                "dependencies": {}}),
                    "app.js": NODE_APP.format(package="left-padx")})
    start_daemon(home)
    _, _, hooked = recover(js_env(home, registry, trap, tmp_path / "npm-cache"), project,
                           "node app.js")

    assert not (project / "node_modules").exists()
    context = hooked.context
    assert "Next step: `npm install left-padx`" in context, context
    assert "`left-padx` is not declared in package.json" in context
    suggested, = named(home, "recovery.suggested")
    assert suggested["argv"] == ["npm", "install", "left-padx"]
    assert not named(home, "recovery.started")
    assert registry.requests() == []


# -- 7. names with shell metacharacters --------------------------------------------------------


def test_names_with_shell_metacharacters_run_nothing(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, registry: NpmRegistry,
        index: SlowIndex, project: Path, tmp_path: Path, venv_template: Path) -> None:
    # Even a project that declares such a name, under the loosest policy.
    write(project, {"package.json": json.dumps({
        "name": "app", "version": "1.0.0",
        "dependencies": {"$(touch pwned)": "1.0.0", "left;touch pwned": "1.0.0"}}),
        "requirements.txt": "tinydep\n"})
    venv_in(project, venv_template)
    start_daemon(home, RECOVERD_INSTALL_POLICY="any")
    env = js_env(home, registry, trap, tmp_path / "npm-cache")
    env.update({k: v for k, v in pip_env(index.url, base={}).items() if k.startswith("PIP_")})
    commands = ["node -e \"require('\\$(touch pwned)')\"",
                "node -e \"require('left;touch pwned')\"",
                ".venv/bin/python -c \"import importlib as i; i.import_module('x;touch pwned')\"",
                "node -e \"require('\\`touch pwned\\`')\""]
    for number, command in enumerate(commands):
        _, output, hooked = recover(env, project, command, session=f"meta-{number}")
        assert "touch pwned" in output
        assert "recoverd ran" not in hooked.context and "background" not in hooked.context

    suggested = named(home, "recovery.suggested")
    reasons = [s["reason"] for s in suggested]
    assert len(reasons) == 3, reasons  # the Python name never reaches a plan: not a module name
    assert all("is not a valid npm package name" in r for r in reasons), reasons
    assert all(s["argv"] == [] for s in suggested)
    assert not named(home, "recovery.started") and not named(home, "recovery.finished")
    assert registry.requests() == [] and index.requests() == []
    assert not list(project.rglob("pwned")) and not (project / "node_modules").exists()


# -- 8. a system interpreter ------------------------------------------------------------------


def test_system_interpreter_gets_venv_advice_not_an_install(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path) -> None:
    system_python = Path(sys.base_prefix) / "bin" / "python3"
    assert system_python.exists()
    index.add_wheel("tinydep", "1.0", {"tinydep/__init__.py": "VALUE = 1\n"})
    write(project, {"requirements.txt": "tinydep\n", "app.py": APP.format(module="tinydep")})
    start_daemon(home, RECOVERD_INSTALL_POLICY="any")
    command = f"{system_python} app.py"
    _, _, hooked = recover(py_env(home, index, trap), project, command)

    assert not imports(system_python, "tinydep")
    context = hooked.context
    assert f"`{system_python}` is not a virtual environment: recoverd never installs into a " \
           "system interpreter" in context, context
    assert "Next step: `python3 -m venv .venv`. Then install into it: " \
           "`.venv/bin/python -m pip install tinydep`" in context
    suggested, = named(home, "recovery.suggested")
    assert suggested["argv"] == ["python3", "-m", "venv", ".venv"]
    assert not named(home, "recovery.started")
    assert index.requests() == []


# -- 9. eight sessions, one install -----------------------------------------------------------


def test_eight_concurrent_sessions_share_one_install(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path, venv_template: Path) -> None:
    index.add_wheel("tinydep", "1.0", {"tinydep/__init__.py": "VALUE = 'shared'\n"})
    index.delay_s = 1.5  # the install outlasts the arrival of all eight failures
    python = python_project(project, venv_template, "tinydep\n", "tinydep")
    start_daemon(home)
    env = py_env(home, index, trap)
    code, output = fail(project, PY_COMMAND, env)
    sessions = [f"session-{n}" for n in range(8)]
    started = time.monotonic()
    procs = [start_hook(env, failure_payload(project, PY_COMMAND, code, output, s))
             for s in sessions]
    hooked = [finish_hook(p, started) for p in procs]

    assert imports(python, "tinydep")
    assert index.file_downloads("tinydep") == 1
    assert len(named(home, "recovery.started")) == 1
    coalesced = named(home, "recovery.coalesced")
    assert len(coalesced) == 7
    started_by, = {e["session"] for e in named(home, "recovery.started")}
    assert sorted([started_by, *(e["session"] for e in coalesced)]) == sessions
    assert len(named(home, "recovery.finished")) == 1
    for one in hooked:
        for text in [*healed_text(pip_sync_argv(project), PY_COMMAND), "Installed: tinydep.",
                     "app ran with shared"]:
            assert text in one.context, one.context


# -- 10. an index that is down at first -------------------------------------------------------


def test_transient_index_failures_are_retried_until_healed(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path, venv_template: Path) -> None:
    """The index resets the first two connections. pip itself tries each page twice
    (PIP_RETRIES=1): both resets land in recoverd's first attempt, which fails with pip's
    "Retrying … Connection reset by peer" warning, so tenacity runs the install again.

    Not PIP_RETRIES=0: a pip that does not retry logs the connection error only at debug
    level (pip/_internal/index/collector.py, _handle_get_simple_fail), so its output is the
    same "No matching distribution found" as for a package the index does not have, and
    recoverd rightly does not retry that (see test_pip_without_retries_hides_the_outage)."""
    index.add_wheel("tinydep", "1.0", {"tinydep/__init__.py": "VALUE = 'after retries'\n"})
    python = python_project(project, venv_template, "tinydep\n", "tinydep")
    start_daemon(home)
    env = py_env(home, index, trap, retries=1)
    code, output = fail(project, PY_COMMAND, env)
    index.down_for_first(2, match="/simple/")
    hooked = run_hook(env, failure_payload(project, PY_COMMAND, code, output))

    assert imports(python, "tinydep")
    assert index.faults_left == 0
    assert index.count("/simple/tinydep/", status=0) == 2
    assert index.count("/simple/tinydep/", status=200) == 1
    finished, = named(home, "recovery.finished")
    assert finished["outcome"] == "healed" and finished["attempts"] == 2, finished
    assert len(named(home, "recovery.started")) == 1  # one recovery, retried inside
    context = hooked.context
    for text in [*healed_text(pip_sync_argv(project), PY_COMMAND), ", 2 attempts."]:
        assert text in context, context
    assert index.file_downloads("tinydep") == 1


def test_pip_without_retries_hides_the_outage(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path, venv_template: Path) -> None:
    """With PIP_RETRIES=0 a reset connection reads like a missing package: one attempt, the
    failure reported with pip's own words, nothing retried."""
    index.add_wheel("tinydep", "1.0", {"tinydep/__init__.py": "VALUE = 1\n"})
    python = python_project(project, venv_template, "tinydep\n", "tinydep")
    start_daemon(home)
    env = py_env(home, index, trap, retries=0)
    code, output = fail(project, PY_COMMAND, env)
    index.down_for_first(1, match="/simple/")
    hooked = run_hook(env, failure_payload(project, PY_COMMAND, code, output))

    assert not imports(python, "tinydep")
    assert index.request_log() == [("GET", "/simple/tinydep/")]
    finished, = named(home, "recovery.finished")
    assert finished["outcome"] == "failed" and finished["attempts"] == 1, finished
    assert "No matching distribution found for tinydep" in hooked.context, hooked.context


# -- 11. a recovery that never heals: the loop breaker ----------------------------------------


def test_loop_breaker_stops_a_recovery_that_keeps_failing(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path, venv_template: Path) -> None:
    index.add_wheel("tinydep", "1.0", {"tinydep/__init__.py": "VALUE = 1\n"})
    python_project(project, venv_template, "ghostdep\n", "ghostdep")  # not on the index
    start_daemon(home, RECOVERD_LOOP_BREAKER_FAILURES="2")
    env = py_env(home, index, trap)
    code, output = fail(project, PY_COMMAND, env)
    payload = failure_payload(project, PY_COMMAND, code, output)
    contexts = [run_hook(env, payload).context for _ in range(4)]

    for context in contexts[:2]:
        assert f"recoverd ran `{shlex.join(pip_sync_argv(project))}`" in context, context
        assert "The install failed; its last lines:" in context
        assert "ghostdep" in context
    assert "did not fix this failure, so it stops trying" in contexts[2], contexts[2]
    assert "2 times recently" in contexts[2]
    assert "stops trying" not in contexts[3] and "recoverd ran" not in contexts[3]
    assert "The install failed" not in contexts[2]
    assert len(named(home, "recovery.started")) == 2
    assert [f["outcome"] for f in named(home, "recovery.finished")] == ["failed", "failed"]
    skipped = named(home, "recovery.skipped")
    assert [(s["reason"], s["told"]) for s in skipped] == [("loop_breaker", True),
                                                          ("loop_breaker", False)]
    assert index.count("/simple/ghostdep/", status=404) == 2  # the third and fourth: not asked


# -- 12. the budget: a slow install finishes in the background --------------------------------


def test_slow_install_result_arrives_with_the_next_event(
        home: Home, start_daemon: DaemonFactory, trap: TrapProxy, index: SlowIndex,
        project: Path, venv_template: Path) -> None:
    index.add_wheel("tinydep", "1.0", {"tinydep/__init__.py": "VALUE = 'late'\n"})
    python = python_project(project, venv_template, "tinydep\n", "tinydep")
    start_daemon(home, RECOVERD_BUDGET_SECONDS="0.5")
    env = py_env(home, index, trap)
    index.delay_s = 3.0
    _, _, hooked = recover(env, project, PY_COMMAND, session="slow-1")

    assert hooked.elapsed < 3.0, f"the hook waited {hooked.elapsed:.1f}s"
    argv = shlex.join(pip_sync_argv(project))
    assert f"recoverd is running `{argv}` in the background" in hooked.context, hooked.context
    assert "Its result will come with your next command" in hooked.context
    in_progress, = named(home, "recovery.in_progress")
    assert in_progress["session"] == "slow-1" and in_progress["budget_seconds"] == 0.5
    assert not named(home, "recovery.finished")

    finished = home.wait_for_log("recovery.finished", timeout=30)
    assert finished["outcome"] == "healed"
    assert imports(python, "tinydep")
    # The flag that makes the hook wait for the daemon's answer on a success.
    flag = home.root / "late-results"
    wait_for(flag.exists, "the late-results flag")
    # Another session's event does not take it; the same session's next event does, once.
    assert run_hook(env, success_payload(project, session="other")).reply is None
    later = run_hook(env, success_payload(project, session="slow-1"))
    assert later.event_name == "PostToolUse"
    for text in [*healed_text(pip_sync_argv(project), PY_COMMAND), "app ran with late"]:
        assert text in later.context, later.context
    assert run_hook(env, success_payload(project, session="slow-1")).reply is None
    assert not flag.exists()  # nothing waits any more: successes go as notes again
