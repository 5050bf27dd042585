"""`recoverd doctor`'s checks of recoverd's wiring in Claude Code's settings and its interpreters.

The user, project and local settings of the project: recoverd on PostToolUseFailure, not
PostToolUse alone; interpreter and hook paths that exist; a timeout above the hook's own
deadline; a matcher that covers Bash; `disableAllHooks`; the plugin enabled instead. Then the
interpreters that start the daemon when it is down: the wired hook's and the one the plugin's
hook reads from `<state>/python`.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoverd import install, paths, settings_entries, settings_merge
from recoverd.config import Config
from recoverd.doctor_checks import FAIL, OK, WARN, Finding


@dataclass
class Wiring:
    """One recoverd hook entry found in a settings file."""

    source: Path
    event: str
    matcher: str | None
    entry: dict[str, Any]


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


def is_executable(path: str) -> bool:
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
            elif not is_executable(python):
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
        if python in checked or "$" in python or not is_executable(python):
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
        if not is_executable(python):
            found.append(Finding("interpreter", WARN, f"{named} names {python!r}, which does not "
                                 "exist", "recoverd install (rewrites it)"))
        elif python not in checked and not _imports_recoverd(python):
            found.append(Finding("interpreter", WARN, f"{named} names {python}, which cannot "
                                 "import recoverd", "recoverd install (rewrites it)"))
    return found
