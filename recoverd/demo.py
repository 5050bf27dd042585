"""`recoverd demo`: recoverd healing a real missing dependency, start to finish, in a throwaway
project. Nothing of the user's is used or touched, and nothing reaches the network.

1. A small wheel (`recoverd-demo-greeting`) is built into a local folder.
2. A project gets its own venv and a requirements.txt declaring that package, served from the
   folder (`--no-index --find-links`); the venv does not have it yet.
3. A daemon starts in a temporary RECOVERD_HOME.
4. `python app.py` really runs and really fails (ModuleNotFoundError).
5. The real hook gets the PostToolUseFailure event Claude Code would send; the daemon installs
   the declared package into the project's venv and retries the command, shown live.
6. The text Claude would read is printed; `python app.py` now works.
The daemon is stopped and the folder removed at the end, whatever happens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from recoverd import client, paths

DIST = "recoverd-demo-greeting"
VERSION = "1.0"
MODULE = "recoverd_demo_greeting"
COMMAND = "python app.py"
MODULE_SOURCE = 'def greet():\n    return "hello from recoverd-demo-greeting 1.0"\n'
APP_SOURCE = f"import {MODULE}\n\nprint({MODULE}.greet())\n"
SESSION = "recoverd-demo"
STOP_SECONDS = 10.0


class DemoError(RuntimeError):
    """A step of the demo did not go as it should; the message says which."""


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(folder: Path, dist: str = DIST, version: str = VERSION,
                files: dict[str, str] | None = None) -> Path:
    """A pure-Python py3-none-any wheel (PEP 427), built with the stdlib."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = dist.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    contents = {name: text.encode() for name, text in
                (files or {f"{MODULE}/__init__.py": MODULE_SOURCE}).items()}
    contents[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
                                    "Summary: built by `recoverd demo`\n").encode()
    contents[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: recoverd-demo\n"
                                 b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n"
                     for name, data in contents.items()) + f"{info}/RECORD,,\n"
    contents[f"{info}/RECORD"] = record.encode()
    wheel = folder / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return wheel


def _base_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
           if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    return env


def command_env(project: Path, home: Path) -> dict[str, str]:
    """The session's environment as Claude Code would pass it: the project's venv active, pip
    kept off the network and away from the user's pip configuration."""
    env = _base_env()
    venv = project / ".venv"
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(venv),
               RECOVERD_HOME=str(home), RECOVERD_NO_AUTOSTART="1",
               PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def daemon_env(home: Path) -> dict[str, str]:
    """Only the demo's settings: the user's RECOVERD_* variables do not apply here."""
    env = _base_env()
    env.update(RECOVERD_HOME=str(home), RECOVERD_BUDGET_SECONDS="40",
               RECOVERD_INSTALL_POLICY="declared", RECOVERD_RETRY="safe",
               RECOVERD_WATCH_PATTERNS="false")
    return env


def failure_event(project: Path, exit_code: int, output: str) -> bytes:
    """The PostToolUseFailure payload Claude Code sends for this failure (its `error` is
    `Exit code N` and the merged output)."""
    return json.dumps({
        "session_id": SESSION, "cwd": str(project), "hook_event_name": "PostToolUseFailure",
        "permission_mode": "default", "tool_name": "Bash",
        "tool_input": {"command": COMMAND, "description": "Run the app"},
        "tool_use_id": "toolu_recoverd_demo",
        "error": f"Exit code {exit_code}\n{output.rstrip()}", "is_interrupt": False,
    }).encode()


class Demo:
    def __init__(self, console: Console, work: Path) -> None:
        self.console = console
        self.work = work
        self.home = work / "home"
        self.project = work / "project"
        self.wheels = work / "wheels"
        self.daemon: subprocess.Popen[bytes] | None = None
        self.hook: subprocess.Popen[bytes] | None = None

    def say(self, step: int, text: str) -> None:
        self.console.print(f"[bold cyan]{step}.[/] {text}")

    # -- steps ------------------------------------------------------------------------------

    def make_project(self) -> None:
        self.say(1, f"Building a small package, [bold]{DIST} {VERSION}[/], into a local folder")
        build_wheel(self.wheels)
        self.say(2, "Making a project with its own venv; requirements.txt declares that "
                    "package (served from the folder, no network), the venv lacks it")
        self.project.mkdir(parents=True)
        done = subprocess.run([sys.executable, "-m", "venv", str(self.project / ".venv")],
                              check=False, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        if done.returncode != 0:
            raise DemoError(f"`python -m venv` failed: {done.stderr.strip()[-300:]}")
        (self.project / "requirements.txt").write_text(
            f"--no-index\n--find-links {self.wheels}\n{DIST}=={VERSION}\n", encoding="utf-8")
        (self.project / "app.py").write_text(APP_SOURCE, encoding="utf-8")

    def start_daemon(self) -> dict[str, Any]:
        self.say(3, "Starting a recoverd daemon in a throwaway state directory")
        self.home.mkdir(mode=0o700)
        with open(self.work / "daemon.out", "wb") as log:
            self.daemon = subprocess.Popen(
                [sys.executable, "-m", "recoverd", "serve"], env=daemon_env(self.home),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                cwd=self.work)
        status = client.wait_until_up(self.home / "recoverd.sock", timeout=20)
        if status is None:
            raise DemoError("the daemon did not come up: "
                            + (self.work / "daemon.out").read_text(errors="replace")[-300:])
        self.console.print(f"   pid {status['pid']}, {status['patterns']} patterns, "
                           f"state in {self.home}")
        return status

    def run_command(self) -> tuple[int, str]:
        done = subprocess.run(["bash", "-c", COMMAND], check=False, cwd=self.project,
                              env=command_env(self.project, self.home), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=120)
        return done.returncode, done.stdout

    def fail(self) -> tuple[int, str]:
        self.say(4, f"Running [bold]{COMMAND}[/] in the project, as Claude would")
        code, output = self.run_command()
        self.console.print(Text(f"   exit {code}", style="red" if code else "green"))
        for line in output.rstrip().splitlines()[-4:]:
            self.console.print(Text(f"   | {line}", style="dim"))
        if code == 0:
            raise DemoError(f"`{COMMAND}` should fail before the recovery, but it passed")
        return code, output

    def _progress(self, seen: int) -> tuple[str | None, int]:
        """The newest recovery step in the daemon's log after line `seen`."""
        try:
            lines = (self.home / "recoverd.log").read_text(encoding="utf-8").splitlines()
        except OSError:
            return None, seen
        text = None
        for line in lines[seen:]:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            event = record.get("event")
            if event == "event.classified" or event is None:
                continue
            if event == "recovery.started":
                text = f"installing: {' '.join(map(str, record.get('argv') or []))}"
            elif event == "recovery.finished":
                text = f"install finished ({record.get('outcome')}); retrying `{COMMAND}`"
        return text, len(lines)

    def recover(self, code: int, output: str) -> str:
        hook = paths.hook_script()
        if hook is None:
            raise DemoError("cannot find this installation's hook (hooks/recoverd-hook)")
        self.say(5, "Handing Claude Code's PostToolUseFailure event to the real hook "
                    f"([dim]{sys.executable} -I -S {hook}[/])")
        payload = failure_event(self.project, code, output)
        started = time.monotonic()
        self.hook = subprocess.Popen([sys.executable, "-I", "-S", str(hook)],
                                     env=command_env(self.project, self.home),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=self.project)
        assert self.hook.stdin is not None and self.hook.stdout is not None
        self.hook.stdin.write(payload)
        self.hook.stdin.close()
        seen = 0
        with self.console.status("recoverd is classifying the failure…") as status:
            while self.hook.poll() is None:
                text, seen = self._progress(seen)
                if text:
                    status.update(f"recoverd is {text}…")
                    self.console.print(f"   [dim]{time.monotonic() - started:5.1f}s[/] {text}")
                time.sleep(0.1)
        reply = self.hook.stdout.read()
        self.hook.stdout.close()
        self.console.print(f"   the hook answered after {time.monotonic() - started:.1f}s")
        try:
            context = json.loads(reply)["hookSpecificOutput"]["additionalContext"]
        except (ValueError, KeyError, TypeError):
            raise DemoError(f"the hook gave no answer for Claude (stdout {reply[:200]!r}); see "
                            f"{self.home / 'recoverd.log'}") from None
        return str(context)

    def show(self, context: str) -> None:
        self.say(6, "What Claude reads right after the failed tool result:")
        self.console.print(Panel(Text(f"PostToolUseFailure:Bash hook additional context: "
                                      f"{context}"), title="additional context", expand=False))

    def check(self) -> None:
        code, output = self.run_command()
        if code != 0:
            raise DemoError(f"`{COMMAND}` still fails after the recovery: {output[-300:]}")
        self.say(7, f"[bold]{COMMAND}[/] now works: {output.strip()}")

    # -- cleanup ----------------------------------------------------------------------------

    def stop(self) -> None:
        """The hook (if interrupted) and the daemon with its process group: nothing stays."""
        if self.hook is not None and self.hook.poll() is None:
            self.hook.kill()
            self.hook.wait(5)
        proc = self.daemon
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: any child left behind
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            proc.wait(5)


def run(keep: bool = False, console: Console | None = None) -> int:
    console = console or Console(highlight=False)
    # Under /tmp: the socket path must stay short (AF_UNIX allows ~104 bytes).
    work = Path(tempfile.mkdtemp(prefix="rd-demo-", dir="/tmp" if os.path.isdir("/tmp")
                                 else None))
    demo = Demo(console, work)
    console.print(Panel("recoverd demo: a command fails because a dependency the project "
                        "declares is missing from its venv; recoverd installs it with the "
                        "project's own command and retries.", expand=False))
    try:
        demo.make_project()
        demo.start_daemon()
        code, output = demo.fail()
        context = demo.recover(code, output)
        demo.show(context)
        demo.check()
    except DemoError as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        return 1
    finally:
        demo.stop()
        if keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    console.print("\nNext: `recoverd install` wires this into Claude Code; "
                  "`recoverd doctor` checks the setup.")
    return 0
