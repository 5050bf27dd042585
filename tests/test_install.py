"""`recoverd install` / `uninstall`: a surgical, idempotent, reversible merge into Claude Code's
settings files, atomic writes, clear one-line refusals, and the daemon (or a systemd unit)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from daemon_fixtures import REPO, Home, daemons_serving, wait_for

from recoverd import client, settings_entries, settings_merge, settings_write

HOOK = REPO / "hooks" / "recoverd-hook"
PYTHON = sys.executable
AS_ROOT = os.geteuid() == 0

# The user's own settings: other keys, and hooks of their own on the very events and matcher
# recoverd uses, in a hand-written compact layout (not what json.dumps would write).
USERS_SETTINGS = """{
    "model": "claude-sonnet-x",
    "permissions": {"allow": ["Bash(ls:*)", "Read"], "deny": []},
    "env": {"FOO": "bär"},
    "hooks": {
        "PostToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo mine-after"}]},
            {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "fmt"}]}
        ],
        "PostToolUseFailure": [
            {"matcher": "*", "hooks": [{"type": "command", "command": "notify-send failed",
                                        "timeout": 5}]}
        ],
        "Stop": []
    }
}"""


def cli(home: Home, *args: str, cwd: Path | None = None, **env: str | None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "recoverd", *args], check=False, env=home.env(**env),
                          capture_output=True, text=True, timeout=60, cwd=cwd or REPO)


def local_file(project: Path) -> Path:
    return project / ".claude" / "settings.local.json"


def write_settings(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def without_recoverd(data: dict[str, Any]) -> dict[str, Any]:
    return settings_merge.removed(data)


def recoverd_commands(data: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for event, _, entry in settings_merge.recoverd_entries(data):
        found.setdefault(event, []).append(entry["command"])
    return found


def do_install(path: Path, home: Home, **kwargs: Any) -> settings_write.Change:
    change = settings_write.plan_install(path, PYTHON, HOOK, **kwargs)
    settings_write.apply(change, home.root / "backups", installing=True)
    return change


def do_uninstall(path: Path, home: Home) -> settings_write.Change:
    change = settings_write.plan_uninstall(path, home.root / "backups")
    settings_write.apply(change, home.root / "backups", installing=False)
    return change


# -- the merge ---------------------------------------------------------------------------------


def test_install_keeps_every_key_and_hook_of_the_user(tmp_path: Path, home: Home) -> None:
    path = write_settings(local_file(tmp_path), USERS_SETTINGS)
    before = json.loads(USERS_SETTINGS)
    do_install(path, home)
    after = json.loads(path.read_text(encoding="utf-8"))
    assert without_recoverd(after) == before  # nothing of the user's changed or moved
    expected = f"{PYTHON} -I -S {HOOK}"
    assert recoverd_commands(after) == {"PostToolUse": [expected],
                                        "PostToolUseFailure": [expected]}
    # recoverd's entries are matcher groups of their own, after the user's, timeout 60.
    for event in ("PostToolUse", "PostToolUseFailure"):
        group = after["hooks"][event][-1]
        assert group == {"matcher": "Bash", "hooks": [
            {"type": "command", "command": expected, "timeout": 60}]}
    assert after["hooks"]["PostToolUse"][:2] == before["hooks"]["PostToolUse"]
    assert after["env"] == {"FOO": "bär"}
    assert "bär" in path.read_text(encoding="utf-8")  # not \\u-escaped


def test_install_twice_changes_nothing_and_uninstall_gives_the_file_back(
        tmp_path: Path, home: Home) -> None:
    path = write_settings(local_file(tmp_path), USERS_SETTINGS)
    original = path.read_bytes()
    do_install(path, home)
    once = path.read_bytes()
    stat_once = path.stat()
    second = do_install(path, home)
    assert not second.changed
    assert path.read_bytes() == once
    assert path.stat().st_mtime_ns == stat_once.st_mtime_ns  # not even rewritten
    do_uninstall(path, home)
    assert path.read_bytes() == original  # byte for byte, compact layout included


def test_uninstall_keeps_what_the_user_changed_meanwhile(tmp_path: Path, home: Home) -> None:
    path = write_settings(local_file(tmp_path), USERS_SETTINGS)
    do_install(path, home)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["model"] = "changed-meanwhile"
    data["hooks"]["PostToolUseFailure"][-1]["hooks"].append(
        {"type": "command", "command": "echo added-next-to-recoverd"})
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    do_uninstall(path, home)
    after = json.loads(path.read_text(encoding="utf-8"))
    assert recoverd_commands(after) == {}
    assert after["model"] == "changed-meanwhile"
    # the group recoverd shared with a hook of the user's stays, holding only that hook
    assert after["hooks"]["PostToolUseFailure"][-1]["hooks"] == [
        {"type": "command", "command": "echo added-next-to-recoverd"}]
    assert path.read_text(encoding="utf-8").startswith('{\n    "model"')  # the file's indent


def test_install_into_a_missing_file_creates_it_and_uninstall_removes_it(
        tmp_path: Path, home: Home) -> None:
    project = tmp_path / "fresh"
    project.mkdir()
    path = local_file(project)
    do_install(path, home)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"hooks"} and set(data["hooks"]) == {"PostToolUseFailure", "PostToolUse"}
    assert path.read_text(encoding="utf-8").endswith("}\n")
    do_uninstall(path, home)
    assert not path.exists()
    assert not path.parent.exists()  # install had created .claude/ too
    assert list(project.iterdir()) == []


def test_reinstall_from_another_venv_updates_in_place(tmp_path: Path, home: Home) -> None:
    path = write_settings(local_file(tmp_path), USERS_SETTINGS)
    old = {"type": "command", "command": "/old/venv/bin/python -I -S /old/src/hooks/recoverd-hook",
           "timeout": 30, "statusMessage": "recoverd"}
    data = json.loads(USERS_SETTINGS)
    data["hooks"]["PostToolUseFailure"].append({"matcher": "Bash", "hooks": [old]})
    # hand-wired inside the user's own Bash group (as the README once said): updated there
    data["hooks"]["PostToolUse"][0]["hooks"].append(dict(old))
    # and a stray second copy in a group of its own: taken out with its group
    data["hooks"]["PostToolUse"].append({"matcher": "Bash", "hooks": [dict(old)]})
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    do_install(path, home)
    after = json.loads(path.read_text(encoding="utf-8"))
    expected = f"{PYTHON} -I -S {HOOK}"
    assert recoverd_commands(after) == {"PostToolUseFailure": [expected],
                                        "PostToolUse": [expected]}
    (updated,) = after["hooks"]["PostToolUseFailure"][-1]["hooks"]
    assert updated == {"type": "command", "command": expected, "timeout": 60,
                       "statusMessage": "recoverd"}  # the user's extra key on it stays
    assert after["hooks"]["PostToolUse"][0]["hooks"] == [
        {"type": "command", "command": "echo mine-after"}, updated]
    assert len(after["hooks"]["PostToolUse"]) == 2  # the user's two groups, nothing added


def test_session_start_is_added_kept_by_a_plain_reinstall_and_removed(
        tmp_path: Path, home: Home) -> None:
    path = write_settings(local_file(tmp_path), USERS_SETTINGS)
    do_install(path, home, session_start=True)
    data = json.loads(path.read_text(encoding="utf-8"))
    (group,) = data["hooks"]["SessionStart"]
    assert group["hooks"][0]["command"] == f"{PYTHON} -m recoverd check --session-start"
    assert not do_install(path, home).changed  # without the flag: kept as it is
    do_uninstall(path, home)
    assert "SessionStart" not in json.loads(path.read_text(encoding="utf-8"))["hooks"]


def test_a_path_with_spaces_is_quoted_for_the_shell(tmp_path: Path) -> None:
    command = settings_entries.hook_command("/opt/my tools/bin/python",
                                            "/src/re coverd/hooks/recoverd-hook")
    assert command == "'/opt/my tools/bin/python' -I -S '/src/re coverd/hooks/recoverd-hook'"
    assert settings_entries.is_recoverd_entry({"type": "command", "command": command})
    assert settings_entries.is_recoverd_entry({"type": "command", "command":
                                      'python3 -I -S "${CLAUDE_PLUGIN_ROOT}/hooks/recoverd-hook"'})
    assert not settings_entries.is_recoverd_entry({"type": "command", "command": "echo recoverd"})
    assert not settings_entries.is_recoverd_entry({"type": "http", "url": "http://x/recoverd-hook"})


def test_the_mode_and_a_symlink_are_kept(tmp_path: Path, home: Home) -> None:
    dotfiles = write_settings(tmp_path / "dotfiles" / "claude-settings.json", USERS_SETTINGS)
    os.chmod(dotfiles, 0o640)
    link = tmp_path / "project" / ".claude" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(dotfiles)
    do_install(link, home)
    assert link.is_symlink() and link.resolve() == dotfiles.resolve()
    assert stat.S_IMODE(dotfiles.stat().st_mode) == 0o640
    assert recoverd_commands(json.loads(dotfiles.read_text(encoding="utf-8")))
    assert [p.name for p in link.parent.iterdir()] == ["settings.json"]  # no temp file left


def test_a_backup_of_the_previous_file_goes_to_the_state_dir(tmp_path: Path, home: Home) -> None:
    path = write_settings(local_file(tmp_path), USERS_SETTINGS)
    change = settings_write.plan_install(path, PYTHON, HOOK)
    saved = settings_write.apply(change, home.root / "backups", installing=True)
    assert saved is not None and saved.parent == home.root / "backups"
    assert saved.read_bytes() == USERS_SETTINGS.encode()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert list(path.parent.iterdir()) == [path]  # nothing beside the settings file


def test_a_failed_replace_leaves_the_file_and_no_temp(tmp_path: Path, home: Home,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_settings(local_file(tmp_path), USERS_SETTINGS)
    change = settings_write.plan_install(path, PYTHON, HOOK)

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(settings_write.os, "replace", refuse)
    with pytest.raises(settings_merge.SettingsError, match="cannot write .*it was left as it was"):
        settings_write.apply(change, home.root / "backups", installing=True)
    assert path.read_text(encoding="utf-8") == USERS_SETTINGS
    assert list(path.parent.iterdir()) == [path]


# -- the command line --------------------------------------------------------------------------


def test_cli_install_twice_then_uninstall(tmp_path: Path, home: Home) -> None:
    project = tmp_path / "p"
    path = write_settings(local_file(project), USERS_SETTINGS)
    scope = ["--scope", "local", "--project-dir", str(project)]
    try:
        first = cli(home, "install", *scope)
        assert first.returncode == 0, first.stderr
        assert f"wired into {path}" in first.stdout
        assert "recoverd started: pid" in first.stdout
        assert client.ping(home.sock) is not None
        assert (home.root / "python").read_text() == f"{PYTHON}\n"  # for the plugin's hook
        once = path.read_bytes()
        second = cli(home, "install", *scope)
        assert second.returncode == 0, second.stderr
        assert "already wired" in second.stdout and "already running" in second.stdout
        assert path.read_bytes() == once
        gone = cli(home, "uninstall", *scope)
        assert gone.returncode == 0, gone.stderr
        assert path.read_text(encoding="utf-8") == USERS_SETTINGS
    finally:
        home.cli("stop")
    assert daemons_serving(home.root) == []


def test_cli_user_scope_is_claude_config_dir(tmp_path: Path, home: Home) -> None:
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    done = cli(home, "install", "--no-start", HOME=str(fake_home))
    assert done.returncode == 0, done.stderr
    assert recoverd_commands(json.loads((fake_home / ".claude" / "settings.json").read_text()))
    other = tmp_path / "claude-config"
    done = cli(home, "install", "--no-start", HOME=str(fake_home), CLAUDE_CONFIG_DIR=str(other))
    assert done.returncode == 0, done.stderr
    assert (other / "settings.json").is_file()
    assert client.ping(home.sock) is None  # --no-start


def test_cli_dry_run_prints_a_diff_and_writes_nothing(tmp_path: Path, home: Home) -> None:
    project = tmp_path / "p"
    path = write_settings(local_file(project), USERS_SETTINGS)
    done = cli(home, "install", "--dry-run", "--scope", "local", "--project-dir", str(project))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"--- {path}\n+++ {path}\n")
    added = [line for line in done.stdout.splitlines() if line.startswith("+")]
    assert sum(f'"command": "{PYTHON} -I -S {HOOK}"' in line for line in added) == 2
    assert "dry run" in done.stderr
    assert path.read_text(encoding="utf-8") == USERS_SETTINGS
    assert not (home.root / "backups").exists()
    assert client.ping(home.sock) is None
    missing = tmp_path / "q"
    missing.mkdir()
    done = cli(home, "install", "--dry-run", "--scope", "project", "--project-dir", str(missing))
    assert done.stdout.startswith("--- /dev/null\n")
    assert not (missing / ".claude").exists()


@pytest.mark.parametrize("text, says", [
    ('{"hooks": {"PostToolUse": [}', "not valid JSON (line 1, column 28"),
    ('{"hooks": []}', "`hooks` is a list, not an object"),
    ('{"hooks": {"PostToolUseFailure": {"matcher": "Bash"}}}',
     "`hooks.PostToolUseFailure` is an object, not a list"),
    ('{"hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": "echo"}]}}',
     "`hooks.PostToolUse[0].hooks` is a string, not a list"),
    ('["not", "settings"]', "the top level is a list, not a JSON object"),
])
def test_a_malformed_file_is_refused_in_one_line_and_left_alone(
        tmp_path: Path, home: Home, text: str, says: str) -> None:
    project = tmp_path / "p"
    path = write_settings(local_file(project), text)
    mtime = path.stat().st_mtime_ns
    for command in ("install", "uninstall"):
        done = cli(home, command, "--scope", "local", "--project-dir", str(project))
        assert done.returncode == 1
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
        assert str(path) in done.stderr and "nothing was changed" in done.stderr
        assert path.read_text(encoding="utf-8") == text and path.stat().st_mtime_ns == mtime
    assert client.ping(home.sock) is None
    assert not (home.root / "backups").exists()


def test_a_read_only_file_is_refused_even_for_root(tmp_path: Path, home: Home) -> None:
    """0444 does not stop root from writing, so recoverd does not rely on EACCES: a settings
    file without its owner's write bit was made read-only on purpose, and is refused for
    everyone, root included."""
    project = tmp_path / "p"
    path = write_settings(local_file(project), USERS_SETTINGS)
    os.chmod(path, 0o444)
    try:
        done = cli(home, "install", "--scope", "local", "--project-dir", str(project))
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1
        assert "is read-only (mode 0444); nothing was changed" in done.stderr, done.stderr
        assert path.read_text(encoding="utf-8") == USERS_SETTINGS
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        assert client.ping(home.sock) is None
    finally:
        os.chmod(path, 0o644)


@pytest.mark.skipif(AS_ROOT, reason="root may write into any folder whatever its mode, so a "
                                    "read-only folder cannot make the atomic replace fail; the "
                                    "failing replace is covered by "
                                    "test_a_failed_replace_leaves_the_file_and_no_temp")
def test_a_read_only_folder_is_refused(tmp_path: Path, home: Home) -> None:
    project = tmp_path / "p"
    path = write_settings(local_file(project), USERS_SETTINGS)
    os.chmod(path.parent, 0o555)
    try:
        done = cli(home, "install", "--scope", "local", "--project-dir", str(project))
        assert done.returncode == 1
        assert "cannot create files in" in done.stderr and done.stderr.count("\n") == 1
        assert path.read_text(encoding="utf-8") == USERS_SETTINGS
    finally:
        os.chmod(path.parent, 0o755)


def test_uninstall_where_nothing_is_wired(tmp_path: Path, home: Home) -> None:
    project = tmp_path / "p"
    project.mkdir()
    done = cli(home, "uninstall", "--scope", "project", "--project-dir", str(project))
    assert done.returncode == 0, done.stderr
    assert "not wired into" in done.stdout
    assert not (project / ".claude").exists()



def ours(command: str, *events: str, timeout: int = 60) -> list[dict[str, Any]]:
    """recoverd's entries as `--json` reports them."""
    return [{"event": event, "matcher": "Bash", "command": command, "timeout": timeout}
            for event in events or ("PostToolUseFailure", "PostToolUse")]


def cli_json(home: Home, *args: str, **env: str | None) -> dict[str, Any]:
    done = cli(home, *args, "--json", **env)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)  # the whole of stdout: one object
    return report


def test_cli_json_install_twice_then_uninstall(tmp_path: Path, home: Home) -> None:
    project = tmp_path / "p"
    path = write_settings(local_file(project), USERS_SETTINGS)
    scope = ["--scope", "local", "--project-dir", str(project)]
    expected = ours(f"{PYTHON} -I -S {HOOK}", "PostToolUse", "PostToolUseFailure")  # file order
    try:
        first = cli_json(home, "install", *scope)
        assert {k: first[k] for k in ("action", "scope", "dry_run", "settings", "changed",
                                      "file_created", "file_removed", "added", "removed",
                                      "entries", "interpreter", "interpreter_file")} == {
            "action": "install", "scope": "local", "dry_run": False, "settings": str(path),
            "changed": True, "file_created": False, "file_removed": False, "added": expected,
            "removed": [], "entries": expected, "interpreter": PYTHON,
            "interpreter_file": str(home.root / "python")}
        assert Path(first["backup"]).read_text(encoding="utf-8") == USERS_SETTINGS
        status = client.ping(home.sock)
        assert status is not None
        assert first["daemon"] == {"started": True, "already_running": False,
                                   "pid": status["pid"], "socket": str(home.sock),
                                   "service": False}
        assert any("restart running sessions" in note for note in first["notes"])
        once = path.read_bytes()

        second = cli_json(home, "install", *scope)
        assert second["changed"] is False and second["backup"] is None
        assert second["added"] == [] and second["removed"] == []
        assert second["entries"] == expected
        assert second["daemon"] == {**first["daemon"], "started": False,
                                    "already_running": True}
        assert path.read_bytes() == once

        gone = cli_json(home, "uninstall", *scope)
        assert {k: gone[k] for k in ("action", "scope", "dry_run", "settings", "changed",
                                     "file_created", "file_removed", "added", "removed",
                                     "entries", "service_removed")} == {
            "action": "uninstall", "scope": "local", "dry_run": False, "settings": str(path),
            "changed": True, "file_created": False, "file_removed": False, "added": [],
            "removed": expected, "entries": [], "service_removed": False}
        assert Path(gone["backup"]).read_bytes() == once
        assert f"restored byte for byte from {first['backup']}" in gone["notes"]
        assert "daemon" not in gone
        assert path.read_text(encoding="utf-8") == USERS_SETTINGS

        again = cli_json(home, "uninstall", *scope)
        assert again["changed"] is False and again["removed"] == [] and again["backup"] is None
    finally:
        home.cli("stop")
    assert daemons_serving(home.root) == []


def test_cli_json_created_file_dry_run_and_an_old_venv(tmp_path: Path, home: Home) -> None:
    project = tmp_path / "p"
    project.mkdir()
    path = project / ".claude" / "settings.json"
    scope = ["--scope", "project", "--project-dir", str(project)]
    expected = ours(f"{PYTHON} -I -S {HOOK}")
    made = cli_json(home, "install", "--no-start", *scope)
    assert made["changed"] and made["file_created"] and made["backup"] is None
    assert made["added"] == expected and made["removed"] == []
    assert made["daemon"] == {"started": False, "already_running": False, "pid": None,
                              "socket": str(home.sock), "service": False}
    assert any("shared with the project" in note for note in made["notes"])
    assert client.ping(home.sock) is None

    written = path.read_bytes()
    dry = cli_json(home, "uninstall", "--dry-run", *scope)
    assert dry["dry_run"] and dry["changed"] and dry["file_removed"]
    assert dry["removed"] == expected and dry["would_fail"] is None
    assert dry["diff"].startswith(f"--- {path}\n+++ /dev/null\n")
    assert path.read_bytes() == written

    gone = cli_json(home, "uninstall", *scope)
    assert gone["changed"] and gone["file_removed"] and gone["removed"] == expected
    assert not (project / ".claude").exists()

    old = "/old/venv/bin/python -I -S /old/src/hooks/recoverd-hook"
    write_settings(path, json.dumps({"hooks": {"PostToolUseFailure": [
        {"matcher": "Bash", "hooks": [{"type": "command", "command": old, "timeout": 30}]}]}}))
    moved = cli_json(home, "install", "--no-start", *scope)
    assert moved["changed"] and not moved["file_created"]
    assert moved["removed"] == ours(old, "PostToolUseFailure", timeout=30)
    assert moved["added"] == expected and moved["entries"] == expected

# -- the daemon as a systemd user service ------------------------------------------------------

FAKE_SYSTEMCTL = """#!{python}
import json, os, subprocess, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:2] == ["--user", "is-active"]:
    sys.exit(3)
if args[:3] == ["--user", "enable", "--now"]:
    subprocess.Popen([{python!r}, "-m", "recoverd", "serve"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
"""


def test_service_writes_and_enables_a_user_unit(tmp_path: Path, home: Home) -> None:
    bin_dir, config = tmp_path / "bin", tmp_path / "config"
    bin_dir.mkdir()
    calls = tmp_path / "systemctl.log"
    fake = bin_dir / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL.format(python=PYTHON, log=str(calls)))
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "XDG_CONFIG_HOME": str(config)}
    try:
        done = cli(home, "install", "--service", "--scope", "local", "--project-dir",
                   str(tmp_path / "p"), **env)
        assert done.returncode == 0, done.stderr
        assert "runs as the systemd user service recoverd.service" in done.stdout
    finally:
        home.cli("stop")
    unit = (config / "systemd" / "user" / "recoverd.service").read_text()
    assert f"ExecStart={PYTHON} -m recoverd serve\n" in unit
    assert f"Environment=RECOVERD_HOME={home.root}\n" in unit
    argvs = [json.loads(line) for line in calls.read_text().splitlines()]
    assert ["--user", "daemon-reload"] in argvs
    assert ["--user", "enable", "--now", "recoverd.service"] in argvs
    done = cli(home, "uninstall", "--service", "--scope", "local", "--project-dir",
               str(tmp_path / "p"), **env)
    assert done.returncode == 0, done.stderr
    assert not (config / "systemd" / "user" / "recoverd.service").exists()
    assert ["--user", "disable", "--now", "recoverd.service"] in [
        json.loads(line) for line in calls.read_text().splitlines()]


def test_service_without_systemd_says_so_and_starts_the_daemon(tmp_path: Path,
                                                               home: Home) -> None:
    bin_dir = tmp_path / "bin"  # a PATH with python and nothing named systemctl
    bin_dir.mkdir()
    for tool in ("bash", "sh"):
        found = subprocess.run(["which", tool], capture_output=True, text=True, check=False)
        if found.returncode == 0:
            (bin_dir / tool).symlink_to(found.stdout.strip())
    try:
        done = cli(home, "install", "--service", "--scope", "local", "--project-dir",
                   str(tmp_path / "p"), PATH=str(bin_dir),
                   XDG_CONFIG_HOME=str(tmp_path / "config"))
        assert done.returncode == 0, done.stderr
        assert ("systemd user services are not available here (systemctl was not found); "
                "starting the daemon directly instead") in done.stdout
        assert "recoverd started: pid" in done.stdout
        wait_for(lambda: client.ping(home.sock), "the daemon")
        assert not (tmp_path / "config" / "systemd").exists()
    finally:
        home.cli("stop")


# -- the plugin --------------------------------------------------------------------------------


def test_the_plugin_manifest_and_hooks() -> None:
    from recoverd import __version__

    manifest = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    assert manifest["name"] == "recoverd" and manifest["version"] == __version__
    assert manifest["description"] and "hooks" not in manifest  # named again, it loads twice
    hooks = json.loads((REPO / "hooks" / "hooks.json").read_text())["hooks"]
    assert set(hooks) == {"PostToolUseFailure", "PostToolUse"}
    for groups in hooks.values():
        (group,) = groups
        (entry,) = group["hooks"]
        assert group["matcher"] == "Bash"
        assert entry["command"] == 'python3 -I -S "${CLAUDE_PLUGIN_ROOT}/hooks/recoverd-hook"'
        assert entry["timeout"] > settings_entries.DEFAULT_HOOK_DEADLINE
        assert settings_entries.is_recoverd_entry(entry)
