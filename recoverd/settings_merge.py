"""Read, check, merge and render Claude Code settings: recoverd's entries in, and only they out.

The merge is surgical: every other key and every hook of the user's stays as it was. New entries
go in a matcher group of their own, so taking them out leaves the user's groups untouched.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoverd.settings_entries import MATCHER, SESSION_EVENT, is_recoverd_entry


class SettingsError(Exception):
    """A settings file that cannot be read or written; one line, nothing was changed."""


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


# -- rendering --------------------------------------------------------------------------------


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
