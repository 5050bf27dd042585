"""`recoverd doctor`: check everything between a failed Bash call and Claude reading recoverd's
answer, and name the fix for each problem in one line.

Checked: this interpreter; the state directory and socket permissions; the daemon (running,
answering, its version); the wiring in the user, project and local settings of the project
(recoverd on PostToolUseFailure, not PostToolUse alone; interpreter and hook paths that exist;
a timeout above the hook's own deadline; a matcher that covers Bash; `disableAllHooks`); the
hook's latency, measured live against the running daemon; pattern load errors; the outcome
store's integrity; the interpreter the plugin's hook starts the daemon with.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from recoverd import __version__, client, install, paths, pidfile, settings_entries, settings_merge
from recoverd.config import Config

OK, WARN, FAIL = "ok", "warn", "fail"
LATENCY_RUNS = 5
# The hook's wall time over `python -I -S -c pass`'s; the benchmark's target is 1.2 on a quiet
# machine, so only a clear miss is reported.
LATENCY_WARN_RATIO = 2.5
MIN_PYTHON = (3, 11)


@dataclass
class Finding:
    check: str
    status: str  # ok | warn | fail
    message: str
    fix: str = ""


@dataclass
class Wiring:
    """One recoverd hook entry found in a settings file."""

    source: Path
    event: str
    matcher: str | None
    entry: dict[str, Any]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# -- checks -----------------------------------------------------------------------------------


def check_interpreter() -> list[Finding]:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < MIN_PYTHON:
        return [Finding("interpreter", FAIL, f"Python {version} at {sys.executable}: recoverd "
                        "needs 3.11 or later", "install recoverd into a Python >= 3.11 venv")]
    import recoverd

    return [Finding("interpreter", OK, f"Python {version} at {sys.executable}, recoverd "
                    f"{__version__} from {Path(recoverd.__file__).parent}")]


def check_state(cfg: Config) -> list[Finding]:
    root = cfg.paths.root
    if not root.exists():
        return [Finding("state", WARN, f"state directory {root} does not exist yet",
                        "`recoverd start` creates it")]
    found = []
    st = root.lstat()
    if not stat.S_ISDIR(st.st_mode):
        return [Finding("state", FAIL, f"{root} is not a directory",
                        "move it aside and run `recoverd start`")]
    if st.st_uid != os.geteuid():
        found.append(Finding("state", FAIL, f"{root} belongs to uid {st.st_uid}, not you",
                             f"use your own RECOVERD_HOME, or `chown -R {os.geteuid()} {root}`"))
    mode = _mode(root)
    if mode != 0o700:
        found.append(Finding("state", FAIL, f"{root} has mode {mode:04o}, not 0700 (others could "
                             "read the log or reach the socket)",
                             f"chmod 700 {shlex.quote(str(root))}"))
    else:
        found.append(Finding("state", OK, f"state directory {root} (0700)"))
    sock = cfg.paths.socket
    if sock.exists() or sock.is_symlink():
        smode = _mode(sock)
        if not stat.S_ISSOCK(sock.lstat().st_mode):
            found.append(Finding("socket", FAIL, f"{sock} is not a socket",
                                 f"`recoverd stop`, remove {sock}, `recoverd start`"))
        elif smode != 0o600:
            found.append(Finding("socket", FAIL, f"socket {sock} has mode {smode:04o}, not 0600",
                                 "`recoverd restart` binds it 0600 again"))
        else:
            found.append(Finding("socket", OK, f"socket {sock} (0600)"))
    return found


def check_daemon(cfg: Config) -> tuple[list[Finding], dict[str, Any] | None]:
    status = client.ping(cfg.paths.socket)
    if status is None:
        named = pidfile.read(cfg.paths.pidfile)
        if named is not None and pidfile.is_recoverd(named):
            return [Finding("daemon", FAIL, f"pid {named} runs but does not answer on "
                            f"{cfg.paths.socket} (stopped or hung)", "recoverd restart")], None
        return [Finding("daemon", FAIL, f"the daemon is not running for {cfg.home}",
                        "recoverd start (the hook also starts it at the first event)")], None
    found = [Finding("daemon", OK, f"running: pid {status.get('pid')}, recoverd "
                     f"{status.get('version')}, up {float(status.get('uptime_s', 0)):.0f}s, "
                     f"{status.get('patterns')} patterns")]
    if status.get("version") != __version__:
        found.append(Finding("daemon", WARN, f"the daemon runs recoverd {status.get('version')}, "
                             f"this command is {__version__}", "recoverd restart"))
    errors = [str(e) for e in status.get("pattern_errors") or []]
    for error in errors[:10]:
        found.append(Finding("patterns", FAIL, f"pattern load error: {error}",
                             "fix or remove that entry; `recoverd patterns check` rechecks"))
    if len(errors) > 10:
        found.append(Finding("patterns", FAIL, f"{len(errors) - 10} more pattern load errors",
                             "recoverd patterns check"))
    if not errors:
        found.append(Finding("patterns", OK, "every pattern loaded"))
    return found, status


def _matches_bash(matcher: Any) -> bool:
    """Claude Code's matcher rule: none, "" or "*" match every tool; a plain name or `A|B` list
    matches exactly; anything else is a regular expression."""
    if matcher in (None, "", "*"):
        return True
    if not isinstance(matcher, str):
        return False
    if re.fullmatch(r"[A-Za-z0-9_|]+", matcher):
        return "Bash" in matcher.split("|")
    try:
        return re.fullmatch(matcher, "Bash") is not None
    except re.error:
        return False


def _has_plugin(data: dict[str, Any]) -> bool:
    enabled = data.get("enabledPlugins")
    return isinstance(enabled, dict) and any(
        str(name).split("@", 1)[0] == "recoverd" and value for name, value in enabled.items())


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _imports_recoverd(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import recoverd"], check=False, cwd="/",
                              capture_output=True,
                              timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def settings_files(project_dir: Path) -> list[tuple[str, Path]]:
    return [(scope, settings_entries.settings_path(scope, project_dir))
            for scope in settings_entries.SCOPES]


def check_settings(project_dir: Path) -> tuple[list[Finding], list[Wiring]]:
    found: list[Finding] = []
    wirings: list[Wiring] = []
    plugin = False
    seen: set[Path] = set()
    for _scope, path in settings_files(project_dir):
        if path in seen:  # the project is the home folder: user and project are one file
            continue
        seen.add(path)
        try:
            loaded = settings_merge.load(path)
        except settings_merge.SettingsError as exc:
            found.append(Finding("settings", FAIL, str(exc),
                                 f"fix {path} by hand (Claude Code cannot use it either)"))
            continue
        if not loaded.exists:
            continue
        if loaded.data.get("disableAllHooks") is True:
            found.append(Finding("settings", FAIL, f"{path} sets disableAllHooks: no hook runs",
                                 f"remove `disableAllHooks` from {path}"))
        plugin = plugin or _has_plugin(loaded.data)
        for event, group, entry in settings_merge.recoverd_entries(loaded.data):
            wirings.append(Wiring(path, event, group.get("matcher"), entry))
    found.extend(_judge_wiring(wirings, plugin, project_dir))
    return found, wirings


def _judge_wiring(wirings: list[Wiring], plugin: bool, project_dir: Path) -> list[Finding]:
    found: list[Finding] = []
    deadline = settings_entries.hook_deadline()
    hooks = [w for w in wirings if w.event in settings_entries.HOOK_EVENTS]
    for w in hooks:
        where = f"{w.source} ({w.event})"
        if not _matches_bash(w.matcher):
            found.append(Finding("settings", FAIL, f"{where}: matcher {w.matcher!r} does not "
                                 "match Bash, so the hook never runs for Bash calls",
                                 "recoverd install (matcher Bash)"))
        argv = settings_entries.command_argv(w.entry)
        hook = next((a for a in argv if os.path.basename(a) == settings_entries.HOOK_NAME), "")
        python = argv[0] if argv and argv[0] != hook else ""
        if python and "$" not in python:
            if not os.path.isabs(python):
                found.append(Finding("settings", WARN, f"{where}: the interpreter `{python}` is "
                                     "looked up on PATH at every Bash call (a shell shim costs "
                                     "~100 ms each time)", "recoverd install (absolute path)"))
            elif not _executable(python):
                found.append(Finding("settings", FAIL, f"{where}: the interpreter {python} does "
                                     "not exist", "recoverd install (from the venv recoverd is "
                                     "installed in)"))
        if hook and "$" not in hook and not os.path.isfile(hook):
            found.append(Finding("settings", FAIL, f"{where}: the hook {hook} does not exist",
                                 "recoverd install (from the venv recoverd is installed in)"))
        timeout = w.entry.get("timeout")
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) \
                and timeout <= deadline:
            found.append(Finding("settings", FAIL, f"{where}: timeout {timeout:g}s is not above "
                                 f"the hook's own deadline ({deadline:g}s): Claude Code kills "
                                 "the hook before a slow recovery answers",
                                 f"recoverd install (timeout {settings_entries.hook_timeout()})"))
    live = [w for w in hooks if _matches_bash(w.matcher)]
    on_failure = [w for w in live if w.event == "PostToolUseFailure"]
    on_success = [w for w in live if w.event == "PostToolUse"]
    fix_scope = "recoverd install"
    if on_failure:
        sources = ", ".join(dict.fromkeys(str(w.source) for w in on_failure))
        found.append(Finding("settings", OK, f"recoverd runs on PostToolUseFailure (Bash) from "
                             f"{sources}"))
        if not on_success:
            found.append(Finding("settings", WARN, "recoverd is not on PostToolUse: results of "
                                 "recoveries that outlast the budget never reach Claude",
                                 fix_scope))
        commands = {w.entry.get("command") for w in on_failure}
        if len(commands) > 1:
            found.append(Finding("settings", WARN, f"recoverd is wired {len(commands)} times "
                                 "with different commands: each runs for every failure",
                                 "`recoverd uninstall --scope …` all but one"))
    elif on_success:
        found.append(Finding("settings", FAIL, "recoverd is registered on PostToolUse only: it is "
                             "blind to failures (Claude Code sends failed Bash calls to "
                             "PostToolUseFailure, never to PostToolUse)", fix_scope))
    elif plugin:
        found.append(Finding("settings", OK, "recoverd is enabled as a Claude Code plugin "
                             "(enabledPlugins)"))
    else:
        found.append(Finding("settings", FAIL, "recoverd is not wired into Claude Code's user, "
                             f"project or local settings for {project_dir}",
                             f"{fix_scope} (or load the plugin: claude --plugin-dir "
                             f"{_plugin_root_hint()})"))
    return found


def _plugin_root_hint() -> str:
    hook = paths.hook_script()
    return str(hook.parent.parent) if hook is not None else "/path/to/recoverd"


def check_interpreters(wirings: list[Wiring], cfg: Config) -> list[Finding]:
    """The interpreters that start the daemon when it is down: the hook's own, or the one
    named in `<state>/python` (the plugin's hook runs a bare `python3`)."""
    found: list[Finding] = []
    checked: set[str] = set()
    for w in wirings:
        argv = settings_entries.command_argv(w.entry)
        if not argv or w.event not in settings_entries.HOOK_EVENTS:
            continue
        python = argv[0]
        if python in checked or "$" in python or not _executable(python):
            continue
        checked.add(python)
        if not _imports_recoverd(python):
            found.append(Finding("interpreter", WARN, f"the hook's interpreter {python} cannot "
                                 "import recoverd, so the hook cannot start the daemon when it "
                                 "is down", "run `recoverd install` with the recoverd that "
                                 "should serve (its own interpreter is used)"))
    named = install.interpreter_file(cfg.paths.root)
    if named.exists():
        python = named.read_text(encoding="utf-8", errors="replace").strip()
        if not _executable(python):
            found.append(Finding("interpreter", WARN, f"{named} names {python!r}, which does not "
                                 "exist", "recoverd install (rewrites it)"))
        elif python not in checked and not _imports_recoverd(python):
            found.append(Finding("interpreter", WARN, f"{named} names {python}, which cannot "
                                 "import recoverd", "recoverd install (rewrites it)"))
    return found


def _timed(argv: list[str], stdin: bytes, env: dict[str, str],
           cwd: str) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    started = time.perf_counter()
    done = subprocess.run(argv, check=False, input=stdin, capture_output=True, env=env,
                          timeout=30, cwd=cwd)
    return (time.perf_counter() - started) * 1000, done


def _success_event(cwd: str) -> bytes:
    return json.dumps({
        "session_id": "recoverd-doctor", "cwd": cwd, "hook_event_name": "PostToolUse",
        "tool_name": "Bash", "tool_input": {"command": "true", "description": "doctor"},
        "tool_response": {"stdout": "", "stderr": "", "interrupted": False, "isImage": False,
                          "noOutputExpected": True},
        "tool_use_id": "toolu_recoverd_doctor",
    }).encode()


def check_latency(cfg: Config, wirings: list[Wiring],
                  runs: int = LATENCY_RUNS) -> list[Finding]:
    """Run the real hook (as wired, else this installation's) with a PostToolUse event against
    the running daemon; compare its median wall time with `python -I -S -c pass`."""
    python, hook = sys.executable, str(paths.hook_script() or "")
    for w in wirings:
        argv = settings_entries.command_argv(w.entry)
        found_hook = next((a for a in argv
                           if os.path.basename(a) == settings_entries.HOOK_NAME), "")
        if w.event == "PostToolUse" and argv and _executable(argv[0]) \
                and os.path.isfile(found_hook):
            python, hook = argv[0], found_hook
            break
    if not hook:
        return [Finding("latency", WARN, "cannot find the hook to time", "reinstall recoverd")]
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(RECOVERD_HOME=str(cfg.home), RECOVERD_NO_AUTOSTART="1")
    with tempfile.TemporaryDirectory(prefix="rd-doctor-") as cwd:
        event = _success_event(cwd)
        argv = [python, "-I", "-S", hook]
        baseline = [python, "-I", "-S", "-c", "pass"]
        _timed(argv, event, env, cwd)  # warm: the hook caches its compiled body
        _timed(baseline, b"", env, cwd)
        hook_ms, base_ms, results = [], [], []
        for _ in range(runs):  # interleaved, so that a burst of load hits both alike
            elapsed, done = _timed(argv, event, env, cwd)
            hook_ms.append(elapsed)
            results.append(done)
            base_ms.append(_timed(baseline, b"", env, cwd)[0])
    bad = [r for r in results if r.returncode != 0 or (r.stdout.strip() and not (
        r.stdout.strip().startswith(b"{") and r.stdout.strip().endswith(b"}")))]
    if bad:
        return [Finding("latency", FAIL, f"the hook {hook} exited {bad[0].returncode} or printed "
                        f"something other than one JSON object: {bad[0].stdout[:200]!r}",
                        "reinstall recoverd; `recoverd log` may say more")]
    median, base = statistics.median(hook_ms), statistics.median(base_ms)
    ratio = median / base if base > 0 else float("inf")
    text = (f"the hook takes a PostToolUse in {median:.1f} ms (median of {runs}); "
            f"`python -I -S -c pass` takes {base:.1f} ms: ratio {ratio:.2f}")
    if ratio > LATENCY_WARN_RATIO:
        return [Finding("latency", WARN, text + f" (expected <= {LATENCY_WARN_RATIO:g})",
                        "check the machine's load; `recoverd log` for slow requests; "
                        "`python bench/bench_spine.py` for a quiet measurement")]
    return [Finding("latency", OK, text)]


def check_store(cfg: Config) -> list[Finding]:
    store = cfg.paths.store
    if not store.exists():
        return []
    fix = (f"`recoverd stop`, move {store} aside, `recoverd start`: the outcome history starts "
           "afresh")
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [Finding("store", FAIL, f"{store} cannot be read: {exc}", fix)]
    verdict = "; ".join(str(r[0]) for r in rows[:5])
    if verdict != "ok":
        return [Finding("store", FAIL, f"{store} fails its integrity check: {verdict}", fix)]
    return [Finding("store", OK, f"{store}: integrity ok")]


def run(cfg: Config, project_dir: Path | None = None) -> list[Finding]:
    project = Path(os.path.abspath(project_dir if project_dir is not None else os.getcwd()))
    findings = check_interpreter()
    findings += check_state(cfg)
    daemon_findings, status = check_daemon(cfg)
    findings += daemon_findings
    settings_findings, wirings = check_settings(project)
    findings += settings_findings
    findings += check_interpreters(wirings, cfg)
    if status is not None:
        findings += check_latency(cfg, wirings)
    else:
        findings.append(Finding("latency", WARN, "not measured: the daemon is not running",
                                "recoverd start"))
    findings += check_store(cfg)
    return findings


def report(findings: list[Finding], as_json: bool = False) -> int:
    failed = any(f.status == FAIL for f in findings)
    if as_json:
        print(json.dumps({"ok": not failed, "findings": [asdict(f) for f in findings]},
                         indent=2, ensure_ascii=False))
        return 1 if failed else 0
    marks = {OK: "ok  ", WARN: "warn", FAIL: "FAIL"}
    for f in findings:
        print(f"{marks[f.status]}  {f.check:<11} {f.message}")
        if f.fix and f.status != OK:
            print(f"      {'':<11} fix: {f.fix}")
    problems = sum(f.status == FAIL for f in findings)
    warnings = sum(f.status == WARN for f in findings)
    print(f"{problems} problem(s), {warnings} warning(s)" if problems or warnings
          else "everything looks right")
    return 1 if failed else 0
