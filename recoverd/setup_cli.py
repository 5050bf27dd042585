"""`recoverd install | uninstall | doctor | demo`: wiring recoverd into Claude Code, checking the
wiring, and showing it work. `register(subparsers)` adds them to `recoverd`'s parser."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recoverd import (
    client,
    config,
    install,
    paths,
    settings_entries,
    settings_merge,
    settings_write,
)


def _user_error(message: str) -> Exception:
    from recoverd.cli import UserError  # imported late: cli imports this module

    return UserError(message)


def _add_scope(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--scope", choices=settings_entries.SCOPES, default="user",
                     help="user: ~/.claude/settings.json (every project, the default); "
                          "project: DIR/.claude/settings.json (shared with the project); "
                          "local: DIR/.claude/settings.local.json (this project, you only)")
    cmd.add_argument("--project-dir", metavar="DIR", type=Path, default=None,
                     help="the project for --scope project|local (default: the current folder)")
    cmd.add_argument("--dry-run", action="store_true",
                     help="print the change as a unified diff and write nothing")


def register(sub: Any) -> None:
    """Add install, uninstall, doctor and demo to `recoverd`'s subcommands."""
    text = ("wire recoverd's hook into Claude Code's settings (PostToolUseFailure and PostToolUse, "
            "matcher Bash) and start the daemon")
    cmd = sub.add_parser("install", help=text, description=text + ". Every other setting and "
                         "hook stays as it was; running it again changes nothing; the file is "
                         "backed up under <state>/backups first.")
    _add_scope(cmd)
    cmd.add_argument("--session-start", action="store_true",
                     help="also run `recoverd check --session-start` when a session starts")
    start = cmd.add_mutually_exclusive_group()
    start.add_argument("--service", action="store_true",
                       help="run the daemon as a systemd user service (recoverd.service) "
                            "instead of starting it in the background")
    start.add_argument("--no-start", action="store_true",
                       help="only write the settings; do not start the daemon (the hook "
                            "starts it at the first event)")
    cmd.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                     help="how long to wait for the daemon (default 10)")
    cmd.set_defaults(handler=cmd_install)

    text = "take recoverd's hooks out of Claude Code's settings (and nothing else)"
    cmd = sub.add_parser("uninstall", help=text, description=text + ". A file install created "
                         "is removed; one it changed is given back as it was.")
    _add_scope(cmd)
    cmd.add_argument("--service", action="store_true",
                     help="also disable and remove the systemd user service")
    cmd.set_defaults(handler=cmd_uninstall)

    text = "check the whole setup and say how to fix each problem (exit 1 when one is found)"
    cmd = sub.add_parser("doctor", help=text, description=text)
    cmd.add_argument("--project-dir", metavar="DIR", type=Path, default=None,
                     help="the project whose settings are checked (default: the current folder)")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(handler=cmd_doctor)

    text = ("show recoverd heal a real missing dependency in a throwaway project "
            "(no network, nothing of yours touched)")
    cmd = sub.add_parser("demo", help=text, description=text)
    cmd.add_argument("--keep", action="store_true",
                     help="keep the throwaway folder and say where it is")
    cmd.set_defaults(handler=cmd_demo)


# -- install / uninstall ----------------------------------------------------------------------


def _target(args: argparse.Namespace) -> Path:
    return settings_entries.settings_path(args.scope, args.project_dir)


def _print_dry_run(change: settings_write.Change) -> None:
    if change.changed:
        sys.stdout.write(change.diff())
        try:
            settings_write.check_writable(change)
        except settings_merge.SettingsError as exc:
            print(f"recoverd: the real run would fail: {exc}", file=sys.stderr)
    else:
        print(f"{change.path}: no change")
    print("(dry run: nothing was written)", file=sys.stderr)


def _carry_out(plan: Callable[[], Any], args: argparse.Namespace, cfg: config.Config,
               installing: bool) -> tuple[Any, Any] | None:
    """Plan the change; print it (--dry-run, then None) or apply it: (change, backup)."""
    try:
        change = plan()
        if args.dry_run:
            _print_dry_run(change)
            return None
        return change, settings_write.apply(change, cfg.paths.backups, installing=installing)
    except settings_merge.SettingsError as exc:
        raise _user_error(str(exc)) from None


def cmd_install(args: argparse.Namespace, cfg: config.Config) -> int:
    hook = paths.hook_script()
    if hook is None:
        raise _user_error("cannot find this installation's hook (hooks/recoverd-hook); "
                          "reinstall recoverd")
    python = sys.executable
    if not python or not os.path.isabs(python):
        raise _user_error(f"cannot tell which interpreter runs recoverd ({python!r})")
    target = _target(args)
    done = _carry_out(lambda: settings_write.plan_install(target, python, hook.resolve(),
                                                          args.session_start), args, cfg, True)
    if done is None:
        return 0
    change, saved = done
    events = [event for event, _, _
              in settings_merge.recoverd_entries(settings_merge.load(target).data)]
    command = settings_entries.hook_command(python, hook.resolve())
    if change.changed:
        print(f"recoverd: wired into {target}: {' and '.join(dict.fromkeys(events))} "
              f"(matcher {settings_entries.MATCHER}) run `{command}`")
        if saved is not None:
            print(f"backup of the file as it was: {saved}")
    else:
        print(f"recoverd: already wired into {target}; nothing changed")
    if args.scope == "project":
        print("note: .claude/settings.json is shared with the project, and this command holds "
              "absolute paths of this machine; `--scope local` keeps it to you")
    cfg.paths.ensure()
    try:
        install.record_interpreter(cfg.paths.root, python)
    except OSError:
        pass  # only the plugin's autostart reads it
    if args.no_start:
        pass
    elif not (args.service and enable_service(cfg, python, args.wait)):
        from recoverd.cli import cmd_start

        cmd_start(argparse.Namespace(wait=args.wait, json=False), cfg)
    print("Claude Code reads its settings when a session starts: restart running sessions. "
          "`recoverd doctor` checks the whole setup.")
    return 0


def cmd_uninstall(args: argparse.Namespace, cfg: config.Config) -> int:
    target = _target(args)
    done = _carry_out(lambda: settings_write.plan_uninstall(target, cfg.paths.backups), args, cfg,
                      False)
    if done is None:
        return 0
    change, saved = done
    if not change.changed:
        print(f"recoverd: not wired into {target}; nothing changed")
    elif change.after is None:
        print(f"recoverd: removed {target} (recoverd install had created it)")
    else:
        print(f"recoverd: took its hooks out of {target}"
              + (f" ({change.notes[0]})" if change.notes else ""))
    if saved is not None:
        print(f"backup of the file as it was: {saved}")
    if args.service:
        disable_service()
    elif install.unit_path().exists():
        print(f"note: the systemd user service {install.unit_path()} stays; "
              "`recoverd uninstall --service` removes it")
    print("the daemon keeps running (other scopes may use it); `recoverd stop` stops it")
    return 0


# -- the systemd user service -----------------------------------------------------------------


def _systemctl(*argv: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemctl") or "systemctl"
    done = subprocess.run([exe, "--user", *argv], check=False, capture_output=True, text=True,
                          timeout=60,
                          stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise _user_error(f"`systemctl --user {' '.join(argv)}` failed (exit "
                          f"{done.returncode}): {detail[0] if detail else 'no output'}")
    return done


def systemd_unavailable() -> str | None:
    """Why systemd user services cannot be used here, or None when they can."""
    if shutil.which("systemctl") is None:
        return "systemctl was not found"
    try:
        done = _systemctl("show-environment")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`systemctl --user` does not work ({exc})"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return "no systemd user manager answers" + (f" ({lines[0]})" if lines else "")
    return None


def enable_service(cfg: config.Config, python: str, wait: float) -> bool:
    """Write and enable recoverd.service; False (after saying why) when systemd cannot be used,
    so that the caller starts the daemon directly."""
    reason = systemd_unavailable()
    if reason is not None:
        print(f"recoverd: systemd user services are not available here ({reason}); starting "
              "the daemon directly instead (it does not survive a reboot; the hook starts it "
              "again at the first event)")
        return False
    unit = install.unit_path()
    text = install.unit_text(python, cfg.paths.root)
    try:
        old = unit.read_text(encoding="utf-8")
    except OSError:
        old = None
    if old is not None and not old.startswith(install.UNIT_MARKER):
        raise _user_error(f"{unit} exists and was not written by recoverd; move it aside first")
    if old != text:
        unit.parent.mkdir(parents=True, exist_ok=True)
        settings_write.atomic_write(unit, text.encode())
        print(f"recoverd: wrote {unit}")
    _systemctl("daemon-reload", check=True)
    active = _systemctl("is-active", "--quiet", install.UNIT_NAME).returncode == 0
    if active:
        _systemctl("enable", install.UNIT_NAME, check=True)
        if old != text:
            _systemctl("restart", install.UNIT_NAME, check=True)
    else:
        if client.ping(cfg.paths.socket) is not None:
            from recoverd.cli import cmd_stop

            print("recoverd: stopping the daemon started outside systemd, so that the service "
                  "takes over")
            cmd_stop(argparse.Namespace(wait=wait, json=False), cfg)
        _systemctl("enable", "--now", install.UNIT_NAME, check=True)
    status = client.wait_until_up(cfg.paths.socket, timeout=wait)
    if status is None:
        raise _user_error(f"{install.UNIT_NAME} is enabled but the daemon did not answer within "
                          f"{wait:g}s; see `journalctl --user -u recoverd`")
    print(f"recoverd runs as the systemd user service {install.UNIT_NAME}: pid {status['pid']}, "
          f"socket {cfg.paths.socket}")
    return True


def disable_service() -> None:
    unit = install.unit_path()
    if not unit.exists():
        print(f"recoverd: no systemd user service at {unit}")
        return
    if not unit.read_text(encoding="utf-8", errors="replace").startswith(install.UNIT_MARKER):
        raise _user_error(f"{unit} was not written by recoverd; left as it is")
    if systemd_unavailable() is None:
        _systemctl("disable", "--now", install.UNIT_NAME)
    unit.unlink()
    if systemd_unavailable() is None:
        _systemctl("daemon-reload")
    print(f"recoverd: disabled and removed {unit}")


# -- doctor and demo --------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import doctor

    findings = doctor.run(cfg, args.project_dir)
    return doctor.report(findings, as_json=args.json)


def cmd_demo(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import demo

    del cfg  # the demo never uses the user's state directory
    return demo.run(keep=args.keep)
