"""`recoverd install | uninstall | doctor | demo`: wiring recoverd into Claude Code, checking the
wiring, and showing it work. `register(subparsers)` adds them to `recoverd`'s parser."""

from __future__ import annotations

import argparse
import os
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
    cmd.add_argument("--json", action="store_true",
                     help="print one JSON object instead of the text: the settings file, "
                          "whether it changed, the backup, recoverd's entries added and removed "
                          "(install: and the daemon); with --dry-run what would be, and the diff")


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


def _dry_run(change: settings_write.Change, report: install.Report) -> None:
    would_fail = None
    if change.changed:
        try:
            settings_write.check_writable(change)
        except settings_merge.SettingsError as exc:
            would_fail = str(exc)
    if report.as_json:
        report.settings(change, None, dry_run=True)
        report.data.update(diff=change.diff(), would_fail=would_fail)
        report.emit()
        return
    if change.changed:
        sys.stdout.write(change.diff())
        if would_fail is not None:
            print(f"recoverd: the real run would fail: {would_fail}", file=sys.stderr)
    else:
        print(f"{change.path}: no change")
    print("(dry run: nothing was written)", file=sys.stderr)


def _carry_out(plan: Callable[[], settings_write.Change], args: argparse.Namespace,
               cfg: config.Config, installing: bool, report: install.Report
               ) -> tuple[settings_write.Change, Path | None] | None:
    """Plan the change; show it (--dry-run, then None) or apply it: (change, backup)."""
    try:
        change = plan()
        if args.dry_run:
            _dry_run(change, report)
            return None
        saved = settings_write.apply(change, cfg.paths.backups, installing=installing)
        report.settings(change, saved, dry_run=False)
        return change, saved
    except settings_merge.SettingsError as exc:
        raise _user_error(str(exc)) from None


def cmd_install(args: argparse.Namespace, cfg: config.Config) -> int:
    report = install.Report(args.json, "install", args.scope)
    hook = paths.hook_script()
    if hook is None:
        raise _user_error("cannot find this installation's hook (hooks/recoverd-hook); "
                          "reinstall recoverd")
    python = sys.executable
    if not python or not os.path.isabs(python):
        raise _user_error(f"cannot tell which interpreter runs recoverd ({python!r})")
    target = _target(args)
    done = _carry_out(lambda: settings_write.plan_install(target, python, hook.resolve(),
                                                          args.session_start),
                      args, cfg, True, report)
    if done is None:
        return 0
    change, saved = done
    events = [event for event, _, _
              in settings_merge.recoverd_entries(settings_merge.load(target).data)]
    command = settings_entries.hook_command(python, hook.resolve())
    if change.changed:
        report.say(f"recoverd: wired into {target}: {' and '.join(dict.fromkeys(events))} "
                   f"(matcher {settings_entries.MATCHER}) run `{command}`", summary=True)
        if saved is not None:
            report.say(f"backup of the file as it was: {saved}", summary=True)
    else:
        report.say(f"recoverd: already wired into {target}; nothing changed", summary=True)
    if args.scope == "project":
        report.say("note: .claude/settings.json is shared with the project, and this command "
                   "holds absolute paths of this machine; `--scope local` keeps it to you")
    cfg.paths.ensure()
    try:
        recorded: Path | None = install.record_interpreter(cfg.paths.root, python)
    except OSError:
        recorded = None  # only the plugin's autostart reads it
    status, started = None, False
    up = None
    if args.no_start:
        status = client.ping(cfg.paths.socket) if args.json else None
    else:
        up = install.enable_service(cfg, python, args.wait, report.say) if args.service else None
        if up is None:
            status, started = install.start_daemon(cfg, args.wait)
            report.say(f"recoverd {'started' if started else 'already running'}: "
                       f"pid {status['pid']}, socket {cfg.paths.socket}", summary=True)
        else:
            status, started = up
    report.data["interpreter"] = python
    report.data["interpreter_file"] = str(recorded) if recorded else None
    report.data["daemon"] = {
        "started": started, "already_running": status is not None and not started,
        "pid": status.get("pid") if status else None, "socket": str(cfg.paths.socket),
        "service": up is not None}
    report.say("Claude Code reads its settings when a session starts: restart running sessions. "
               "`recoverd doctor` checks the whole setup.")
    report.emit()
    return 0


def cmd_uninstall(args: argparse.Namespace, cfg: config.Config) -> int:
    report = install.Report(args.json, "uninstall", args.scope)
    target = _target(args)
    done = _carry_out(lambda: settings_write.plan_uninstall(target, cfg.paths.backups), args, cfg,
                      False, report)
    if done is None:
        return 0
    change, saved = done
    if not change.changed:
        report.say(f"recoverd: not wired into {target}; nothing changed", summary=True)
    elif change.after is None:
        report.say(f"recoverd: removed {target} (recoverd install had created it)", summary=True)
    else:
        report.say(f"recoverd: took its hooks out of {target}"
                   + (f" ({change.notes[0]})" if change.notes else ""), summary=True)
    if saved is not None:
        report.say(f"backup of the file as it was: {saved}", summary=True)
    service_removed = False
    if args.service:
        service_removed = install.disable_service(report.say)
    elif install.unit_path().exists():
        report.say(f"note: the systemd user service {install.unit_path()} stays; "
                   "`recoverd uninstall --service` removes it")
    report.data["service_removed"] = service_removed
    report.say("the daemon keeps running (other scopes may use it); `recoverd stop` stops it")
    report.emit()
    return 0


# -- doctor and demo --------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import doctor

    findings = doctor.run(cfg, args.project_dir)
    return doctor.report(findings, as_json=args.json)


def cmd_demo(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import demo

    del cfg  # the demo never uses the user's state directory
    return demo.run(keep=args.keep)
