"""Wire recoverd's hooks into Claude Code's settings files, and take them out again.

The merge is surgical: every other key and every hook of the user's stays as it was. recoverd's
own hook entries are recognised by what they run (an argument named `recoverd-hook`, or
`-m recoverd check` for SessionStart), wherever the hook or the interpreter lives, so a reinstall
from another venv updates them in place instead of adding a second copy. New entries go in a
matcher group of their own, so taking them out leaves the user's groups untouched.

Writes are atomic (temporary file + os.replace), keep the file's mode and owner, write through a
symlink (a dotfiles-managed settings.json stays a symlink), and are preceded by a backup under
`<state>/backups/`. A file whose meaning would not change is not written at all, so installing
twice gives a byte-identical file. Uninstall gives back the file as it was before the first
install, byte for byte, when nothing else in it changed meanwhile (the manifest in
`<state>/backups/` remembers that first state), and removes a file that install created.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
import re
import shlex
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recoverd import paths

SCOPES = ("user", "project", "local")
HOOK_NAME = "recoverd-hook"
MATCHER = "Bash"
# The events recoverd's hook answers: failures (the point) and successes (bookkeeping, results
# that finished after the budget).
HOOK_EVENTS = ("PostToolUseFailure", "PostToolUse")
SESSION_EVENT = "SessionStart"
# The hook ends itself at RECOVERD_HOOK_DEADLINE (45 s by default); Claude Code's timeout must
# be above it, or Claude Code kills the hook before it answers.
DEFAULT_HOOK_DEADLINE = 45.0
MIN_HOOK_TIMEOUT = 60
SESSION_TIMEOUT = 30
MANIFEST = "manifest.json"


class SettingsError(Exception):
    """A settings file that cannot be read or written; one line, nothing was changed."""


# -- where ------------------------------------------------------------------------------------


def claude_config_dir(environ: dict[str, str] | None = None) -> Path:
    """Claude Code's own folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`."""
    env = os.environ if environ is None else environ
    configured = (env.get("CLAUDE_CONFIG_DIR") or "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".claude"


def settings_path(scope: str, project_dir: Path | str | None = None,
                  environ: dict[str, str] | None = None) -> Path:
    """The settings file of a scope: user, project (shared) or local (you only)."""
    if scope == "user":
        return claude_config_dir(environ) / "settings.json"
    base = Path(project_dir if project_dir is not None else os.getcwd()).expanduser()
    base = Path(os.path.abspath(base))
    if scope == "project":
        return base / ".claude" / "settings.json"
    if scope == "local":
        return base / ".claude" / "settings.local.json"
    raise ValueError(f"unknown scope {scope!r}")


# -- what -------------------------------------------------------------------------------------


def hook_deadline(environ: dict[str, str] | None = None) -> float:
    """The hook's own hard deadline, as the hook computes it."""
    env = os.environ if environ is None else environ
    try:
        value = float(env.get("RECOVERD_HOOK_DEADLINE", DEFAULT_HOOK_DEADLINE))
    except ValueError:
        return DEFAULT_HOOK_DEADLINE
    return min(max(value, 0.05), 590.0)


def hook_timeout(environ: dict[str, str] | None = None) -> int:
    """Claude Code's timeout for the hook: above the hook's own deadline, 60 s at least."""
    return max(MIN_HOOK_TIMEOUT, math.ceil(hook_deadline(environ)) + 15)


def hook_command(python: str | Path, hook: str | Path) -> str:
    """`<python> -I -S <hook>`, quoted for the shell Claude Code runs it through."""
    return shlex.join([str(python), "-I", "-S", str(hook)])


def session_start_command(python: str | Path) -> str:
    return shlex.join([str(python), "-m", "recoverd", "check", "--session-start"])


def wanted_entries(python: str | Path, hook: str | Path, session_start: bool = False,
                   timeout: int | None = None) -> dict[str, dict[str, Any]]:
    """recoverd's hook entry per event."""
    entry = {"type": "command", "command": hook_command(python, hook),
             "timeout": timeout if timeout is not None else hook_timeout()}
    wanted = {event: dict(entry) for event in HOOK_EVENTS}
    if session_start:
        wanted[SESSION_EVENT] = {"type": "command", "command": session_start_command(python),
                                 "timeout": SESSION_TIMEOUT}
    return wanted


def command_argv(entry: dict[str, Any]) -> list[str]:
    """What a command hook entry runs, as an argv (shell form split like the shell would)."""
    command = entry.get("command")
    if not isinstance(command, str):
        return []
    args = entry.get("args")
    if isinstance(args, list):  # exec form
        return [command, *(str(a) for a in args)]
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def is_recoverd_entry(entry: Any) -> bool:
    """True for a hook entry that runs recoverd: its hook, or `recoverd check`."""
    if not isinstance(entry, dict) or entry.get("type", "command") != "command":
        return False
    argv = command_argv(entry)
    if any(os.path.basename(arg) == HOOK_NAME for arg in argv):
        return True
    for i, arg in enumerate(argv[:-1]):
        if arg == "-m" and argv[i + 1] == "recoverd":
            return True
    return bool(argv) and os.path.basename(argv[0]) == "recoverd"


# -- reading ----------------------------------------------------------------------------------


@dataclass
class Loaded:
    path: Path  # the real file (symlinks followed)
    raw: bytes | None  # None: the file does not exist
    data: dict[str, Any]

    @property
    def exists(self) -> bool:
        return self.raw is not None


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "a value")


def validate(data: Any, where: str) -> dict[str, Any]:
    """The settings object, or SettingsError naming the first part of the wrong type."""
    tail = "; nothing was changed (fix the file or move it aside)"
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: the top level is {_type_name(data)}, "
                            f"not a JSON object{tail}")
    hooks = data.get("hooks")
    if hooks is None:
        return data
    if not isinstance(hooks, dict):
        raise SettingsError(f"{where}: `hooks` is {_type_name(hooks)}, not an object{tail}")
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            raise SettingsError(f"{where}: `hooks.{event}` is {_type_name(groups)}, "
                                f"not a list{tail}")
        for i, group in enumerate(groups):
            if not isinstance(group, dict):
                raise SettingsError(f"{where}: `hooks.{event}[{i}]` is {_type_name(group)}, "
                                    f"not an object{tail}")
            entries = group.get("hooks")
            if not isinstance(entries, list):
                raise SettingsError(f"{where}: `hooks.{event}[{i}].hooks` is "
                                    f"{_type_name(entries)}, not a list{tail}")
            for j, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise SettingsError(f"{where}: `hooks.{event}[{i}].hooks[{j}]` is "
                                        f"{_type_name(entry)}, not an object{tail}")
    return data


def parse(raw: bytes, where: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{where}: not UTF-8 text (byte {exc.start}); nothing was changed"
                            ) from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}); nothing was changed (fix the file or move it aside)"
                            ) from None
    return validate(data, where)


def load(path: Path) -> Loaded:
    real = Path(os.path.realpath(path))
    try:
        raw = real.read_bytes()
    except FileNotFoundError:
        return Loaded(real, None, {})
    except IsADirectoryError:
        raise SettingsError(f"{path} is a directory, not a settings file") from None
    except PermissionError:
        raise SettingsError(f"{path} is not readable by you; nothing was changed") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read it ({exc.strerror})") from None
    return Loaded(real, raw, parse(raw, str(path)))


# -- merging ----------------------------------------------------------------------------------


def _groups(data: dict[str, Any], event: str) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = data.get("hooks", {}).get(event, [])
    return groups


def has_session_start(data: dict[str, Any]) -> bool:
    return any(event == SESSION_EVENT for event, _, _ in recoverd_entries(data))


def merged(data: dict[str, Any], wanted: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`data` with recoverd's entries for `wanted`: the first existing recoverd entry of an event
    is updated in place (in its group, when that group's matcher is still `Bash`; the user's
    extra keys on it stay), any further one is dropped with the group it leaves empty, and a
    missing one is added as a matcher group of its own at the end."""
    result = copy.deepcopy(data)
    for event, entry in wanted.items():
        found = False
        survivors = []
        for group in _groups(result, event):
            fits = event == SESSION_EVENT or group.get("matcher") == MATCHER
            kept = []
            dropped = False
            for existing in group["hooks"]:
                if not is_recoverd_entry(existing):
                    kept.append(existing)
                elif not found and fits:
                    found = True
                    kept.append({**{k: v for k, v in existing.items() if k != "args"},
                                 **entry})
                else:
                    dropped = True
            group["hooks"] = kept
            if kept or not dropped:
                survivors.append(group)
        if not found:
            survivors.append({"matcher": MATCHER, "hooks": [entry]} if event != SESSION_EVENT
                             else {"hooks": [entry]})
        result.setdefault("hooks", {})[event] = survivors
    return result


def removed(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without recoverd's entries, and without the groups, events and `hooks` object
    that held only recoverd's entries. Anything the user had left empty stays."""
    result = copy.deepcopy(data)
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    for event in list(hooks):
        groups = hooks[event]
        kept_groups = []
        touched_event = False
        for group in groups:
            entries = group["hooks"]
            kept = [e for e in entries if not is_recoverd_entry(e)]
            if len(kept) != len(entries):
                touched_event = True
                if not kept:
                    continue  # a group that held only recoverd's entries
                group["hooks"] = kept
            kept_groups.append(group)
        if touched_event and not kept_groups:
            del hooks[event]
        else:
            hooks[event] = kept_groups
    if not hooks and recoverd_entries(data):
        del result["hooks"]
    return result


def recoverd_entries(data: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(event, group, entry) for each recoverd entry in a validated settings object."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return []
    return [(event, group, entry) for event, groups in hooks.items() for group in groups
            for entry in group["hooks"] if is_recoverd_entry(entry)]


# -- writing ----------------------------------------------------------------------------------


def detect_indent(text: str) -> int | str:
    """The indent of the first indented line (spaces or tabs), 2 when there is none."""
    match = re.search(r"\n([ \t]+)\S", text)
    if match is None:
        return 2
    indent = match.group(1)
    return indent if "\t" in indent else len(indent)


def render(data: dict[str, Any], like: str | None = None) -> str:
    """JSON text for the settings, in the indent and final newline of `like` when given."""
    indent: int | str = 2
    newline = True
    if like is not None and like.strip():
        indent = detect_indent(like)
        newline = like.endswith("\n")
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return text + ("\n" if newline else "")


@dataclass
class Change:
    """What one command would do to one settings file."""

    path: Path  # as named to the user
    real: Path  # the file written (symlinks followed)
    before: bytes | None
    after: bytes | None  # None: the file is removed
    notes: list[str] = field(default_factory=list)
    # Folders install created for the file, deepest first: removed with it when empty.
    remove_dirs: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        def lines(raw: bytes | None) -> list[str]:
            return [] if raw is None else raw.decode("utf-8", "replace").splitlines(keepends=True)

        before, after = lines(self.before), lines(self.after)
        out = difflib.unified_diff(
            before, after,
            fromfile=str(self.path) if self.before is not None else "/dev/null",
            tofile=str(self.path) if self.after is not None else "/dev/null")
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                       for line in out)
        return text


def plan_install(path: Path, python: str | Path, hook: str | Path, session_start: bool = False,
                 timeout: int | None = None) -> Change:
    """The change that wires recoverd in. A SessionStart entry from an earlier
    `--session-start` install is kept (and updated) by a plain reinstall."""
    loaded = load(path)
    wanted = wanted_entries(python, hook, session_start or has_session_start(loaded.data),
                            timeout)
    new = merged(loaded.data, wanted)
    if loaded.exists and new == loaded.data:
        return Change(path, loaded.path, loaded.raw, loaded.raw)
    like = loaded.raw.decode("utf-8-sig") if loaded.raw is not None else None
    return Change(path, loaded.path, loaded.raw, render(new, like).encode("utf-8"))


def plan_uninstall(path: Path, backups: Path | None = None) -> Change:
    loaded = load(path)
    if not loaded.exists:
        return Change(path, loaded.path, None, None)
    new = removed(loaded.data)
    if new == loaded.data:
        return Change(path, loaded.path, loaded.raw, loaded.raw)
    record = read_manifest(backups).get(str(loaded.path)) if backups is not None else None
    if record is not None:
        if record.get("created") and new == {}:
            dirs = [str(d) for d in record.get("created_dirs") or []]
            return Change(path, loaded.path, loaded.raw, None, ["install had created it"], dirs)
        original = record.get("original")
        if isinstance(original, str):
            try:
                raw = Path(original).read_bytes()
                if parse(raw, original) == new:
                    return Change(path, loaded.path, loaded.raw, raw,
                                  [f"restored byte for byte from {original}"])
            except (OSError, SettingsError):
                pass
    like = loaded.raw.decode("utf-8-sig")  # type: ignore[union-attr]
    return Change(path, loaded.path, loaded.raw, render(new, like).encode("utf-8"))


def check_writable(change: Change) -> None:
    """Refuse, with one line, a file or folder that is not meant to be written.

    A file without its owner's write bit is treated as read-only even for root (who could
    write it anyway): someone made it read-only on purpose.
    """
    real = change.real
    shown = change.path
    try:
        st = real.stat()
    except FileNotFoundError:
        st = None
    if st is not None:
        if not st.st_mode & stat.S_IWUSR:
            raise SettingsError(
                f"{shown} is read-only (mode {stat.S_IMODE(st.st_mode):04o}); nothing was "
                f"changed: `chmod u+w {shlex.quote(str(shown))}` to let recoverd edit it, "
                "or choose another --scope")
        if not os.access(real, os.W_OK):
            raise SettingsError(f"{shown} is not writable by you (owner uid {st.st_uid}); "
                                "nothing was changed")
    parent = real.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SettingsError(f"cannot create files in {parent} (needed for an atomic replace of "
                            f"{real.name}); nothing was changed")


def atomic_write(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and os.replace it, keeping the
    existing file's mode and owner."""
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:
        st = None
    tmp = path.with_name(f".{path.name}.recoverd-{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if st else 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if st is not None:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(fd, st.st_uid, st.st_gid)
                    except PermissionError:
                        pass
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _slug(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(path).strip("/"))[-120:]


def read_manifest(backups: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((backups / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_manifest(backups: Path, manifest: dict[str, dict[str, Any]]) -> None:
    if manifest:
        backups.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(backups / MANIFEST, json.dumps(manifest, indent=2).encode())
    else:
        (backups / MANIFEST).unlink(missing_ok=True)


def backup(change: Change, backups: Path, clock: Callable[[], float] = time.time) -> Path | None:
    """Copy the file as it is now to `<state>/backups/<path-slug>.<timestamp>`, 0600."""
    if change.before is None:
        return None
    backups.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = clock()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now)) + f"{now % 1:.6f}"[1:]
    target = backups / f"{_slug(change.real)}.{stamp}"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, change.before)
    finally:
        os.close(fd)
    return target


def apply(change: Change, backups: Path, installing: bool) -> Path | None:
    """Back up, then write (or remove) the file; returns the backup. Nothing happens when
    nothing changes. Raises SettingsError with one line when the file cannot be written."""
    if not change.changed:
        return None
    check_writable(change)
    try:
        saved = backup(change, backups)
    except OSError as exc:
        raise SettingsError(f"cannot back up {change.path} into {backups} ({exc.strerror}); "
                            "nothing was changed") from None
    manifest = read_manifest(backups)
    key = str(change.real)
    created_dirs: list[str] = []
    try:
        if change.after is None:
            change.real.unlink()
            for folder in change.remove_dirs:
                try:
                    os.rmdir(folder)
                except OSError:
                    break
        else:
            if change.before is None:
                parent = change.real.parent
                while not parent.exists() and parent != parent.parent:
                    created_dirs.append(str(parent))
                    parent = parent.parent
                change.real.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(change.real, change.after)
    except OSError as exc:
        raise SettingsError(f"cannot write {change.path} ({exc.strerror}); it was left as it "
                            "was") from None
    try:
        if installing and key not in manifest:
            manifest[key] = {"created": change.before is None, "created_dirs": created_dirs,
                             "original": str(saved) if saved else None,
                             "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            _write_manifest(backups, manifest)
        elif not installing and key in manifest:
            del manifest[key]
            _write_manifest(backups, manifest)
    except OSError:
        pass  # the manifest only makes a later uninstall byte-exact; the write itself happened
    return saved


def state_backups(environ: dict[str, str] | None = None) -> Path:
    return paths.state_paths(environ).backups


# -- the interpreter, for hooks that cannot know it (the plugin) ------------------------------


def interpreter_file(state_root: Path) -> Path:
    """`<state>/python`: the interpreter that has recoverd installed, one absolute path."""
    return state_root / "python"


def record_interpreter(state_root: Path, python: str | Path | None = None) -> Path:
    """Write `<state>/python` (0600, atomically) so that a hook run by another interpreter
    (the plugin's `python3 -I -S …`) can start the daemon with this one."""
    target = interpreter_file(state_root)
    text = f"{python or sys.executable}\n".encode()
    try:
        if target.read_bytes() == text:
            return target
    except OSError:
        pass
    atomic_write(target, text)
    os.chmod(target, 0o600)
    return target


# -- a systemd user unit ----------------------------------------------------------------------

UNIT_NAME = "recoverd.service"
UNIT_MARKER = "# Written by `recoverd install --service`"


def unit_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = (env.get("XDG_CONFIG_HOME") or "").strip()
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".config"
    return root / "systemd" / "user" / UNIT_NAME


def _systemd_quote(value: str) -> str:
    value = value.replace("%", "%%")
    if re.fullmatch(r"[A-Za-z0-9_./:=+@,-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_text(python: str | Path, state_root: Path) -> str:
    exec_start = " ".join(_systemd_quote(a) for a in (str(python), "-m", "recoverd", "serve"))
    return (
        f"{UNIT_MARKER}; `recoverd uninstall --service` removes it.\n"
        "[Unit]\n"
        "Description=recoverd: the Claude Code hook daemon for failed Bash calls\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={exec_start}\n"
        f"Environment={_systemd_quote('RECOVERD_HOME=' + str(state_root))}\n"
        "Restart=on-failure\n"
        "RestartSec=2\n"
        # exit 1 is a known error (configuration, another daemon holds the state directory):
        # restarting would not help
        "RestartPreventExitStatus=1\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )
