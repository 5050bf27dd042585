"""`recoverd`: the command line. Known errors exit 1, unexpected ones 3, Ctrl-C 130."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from recoverd import (
    __version__,
    client,
    config,
    journal,
    logview,
    paths,
    pidfile,
    selfheal_cli,
    setup_cli,
    store_cli,
)
from recoverd.catalogue import Catalogue, project_patterns_dir


class UserError(Exception):
    """A failure the user can act on; printed as one line, exit 1."""


def _emit(data: object, as_json: bool, text: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text)


def cmd_serve(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import daemon

    try:
        return daemon.serve(cfg)
    except daemon.AlreadyRunning as exc:
        raise UserError(f"a daemon already runs for {cfg.home} (pid {exc})") from None


def cmd_start(args: argparse.Namespace, cfg: config.Config) -> int:
    cfg.paths.ensure()
    status = client.ping(cfg.paths.socket)
    if status is None:
        client.spawn(cfg.home)
        status = client.wait_until_up(cfg.paths.socket, timeout=args.wait)
        if status is None:
            raise UserError(f"the daemon did not come up within {args.wait:g}s; "
                            f"see `recoverd log` ({cfg.paths.log})")
        verb = "started"
    else:
        verb = "already running"
    _emit(status, args.json, f"recoverd {verb}: pid {status['pid']}, socket {cfg.paths.socket}")
    return 0


def _daemon_pid(cfg: config.Config) -> int | None:
    """The daemon's pid: from the pidfile, or, if that was replaced, from the daemon itself."""
    pid = pidfile.live_pid(cfg.paths.pidfile)
    if pid is None:
        status = client.ping(cfg.paths.socket)
        answered = status.get("pid") if status else None
        if isinstance(answered, int) and pidfile.is_recoverd(answered):
            pid = answered
    return pid


def cmd_stop(args: argparse.Namespace, cfg: config.Config) -> int:
    pid = _daemon_pid(cfg)
    if pid is None:
        stale = cfg.paths.pidfile.exists()
        _emit({"stopped": False, "stale_pidfile": stale}, args.json,
              "recoverd is not running" + (" (stale pidfile ignored)" if stale else ""))
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline and pidfile.is_recoverd(pid):
        time.sleep(0.05)
    if pidfile.is_recoverd(pid):
        raise UserError(f"pid {pid} did not stop within {args.wait:g}s")
    _emit({"stopped": True, "pid": pid}, args.json, f"recoverd stopped (pid {pid})")
    return 0


def cmd_restart(args: argparse.Namespace, cfg: config.Config) -> int:
    quiet = argparse.Namespace(**{**vars(args), "json": False})
    cmd_stop(quiet, cfg)
    return cmd_start(args, cfg)


def cmd_status(args: argparse.Namespace, cfg: config.Config) -> int:
    status = client.ping(cfg.paths.socket)
    if status is not None:
        text = (f"recoverd {status['version']} running: pid {status['pid']}, "
                f"up {status['uptime_s']:.0f}s, {status['patterns']} patterns, "
                f"{status['requests']} requests\nsocket {cfg.paths.socket}\nlog    {cfg.paths.log}")
        if status.get("pattern_errors"):
            text += "\npattern errors:\n  " + "\n  ".join(status["pattern_errors"])
        _emit(status, args.json, text)
        return 0
    named = pidfile.read(cfg.paths.pidfile)
    if named is not None and pidfile.is_recoverd(named):
        data = {"ok": False, "home": str(cfg.home), "pid": named, "answering": False}
        _emit(data, args.json, f"recoverd pid {named} runs but does not answer on "
                               f"{cfg.paths.socket} (stopped or hung); `recoverd restart`")
        return 1
    data = {"ok": False, "home": str(cfg.home), "stale_pid": named}
    note = f" (stale pidfile names pid {named})" if named is not None else ""
    _emit(data, args.json, f"recoverd is not running{note}; start it with `recoverd start`")
    return 1


def cmd_classify(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd import events
    from recoverd.classifier import classify

    raw = sys.stdin.buffer.read()
    try:
        event = events.parse(raw)
    except events.EventError as exc:
        raise UserError(f"cannot read the event on stdin: {exc}") from None
    from recoverd import recovery

    catalogue = Catalogue()
    result = classify(event, catalogue.for_cwd(event.cwd))
    if event.kind == events.FAILURE and not args.no_plan:
        plan = recovery.plan(event, result, cfg)  # decides fix.auto; runs nothing
        if plan is not None:
            result.fix = plan.fix
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def cmd_patterns_check(args: argparse.Namespace, cfg: config.Config) -> int:
    from recoverd.pattern_files import load_file, load_layers, pattern_files
    from recoverd.patterns import LoadReport

    if args.path:
        target = Path(args.path)
        files = [target] if target.is_file() else pattern_files(target)
        if not files:
            raise UserError(f"no pattern files at {target}")
        report = LoadReport()
        count = 0
        for file in files:
            loaded = load_file(file, report)
            count += len(loaded[0]) if loaded else 0
    else:
        folders = [paths.bundled_patterns_dir(), paths.user_patterns_dir(),
                   project_patterns_dir(os.getcwd())]
        checked = load_layers(folders)
        report, count, files = checked.report, len(checked.patterns), checked.report.files
    data = {"ok": not report.errors, "files": [str(f) for f in files], "patterns": count,
            "errors": report.errors}
    text = "\n".join(report.errors + [f"{count} patterns in {len(files)} files: "
                                      f"{'ok' if not report.errors else 'ERRORS'}"])
    _emit(data, args.json, text)
    return 0 if not report.errors else 1


def cmd_log(args: argparse.Namespace, cfg: config.Config) -> int:
    since = ""
    if args.since:
        moment = store_cli._since(args.since, time.time())
        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) if moment else ""
    keep = logview.Filter(cls=args.cls or "", since=since, event=args.event or "",
                          project=os.path.abspath(args.project) if args.project else "")
    return logview.show(cfg.paths.log, follow=args.follow, raw=args.json, keep=keep)


Handler = Callable[[argparse.Namespace, config.Config], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recoverd",
        description="A Claude Code hook daemon: it names every failed Bash call and tells "
                    "Claude what happened and what to do next.",
        epilog="examples:\n  recoverd start\n  recoverd status --json\n"
               "  echo '{\"tool_input\":{\"command\":\"python3 x.py\"},\"cwd\":\".\","
               "\"exit_code\":1,"
               "\"stderr\":\"ModuleNotFoundError: No module named '\\''yaml'\\''\"}'"
               " | recoverd classify\n  recoverd log -f",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"recoverd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str, json_flag: bool = True,
            wait: bool = False) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.set_defaults(handler=handler)
        if json_flag:
            cmd.add_argument("--json", action="store_true", help="print JSON")
        if wait:
            cmd.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                             help="how long to wait for the daemon (default 10)")
        return cmd

    add("serve", cmd_serve, "run the daemon in the foreground (SIGHUP reloads patterns)",
        json_flag=False)
    add("start", cmd_start, "start the daemon in the background", wait=True)
    add("stop", cmd_stop, "stop the daemon (SIGTERM) and wait for it", wait=True)
    add("restart", cmd_restart, "stop, then start the daemon", wait=True)
    add("status", cmd_status, "say whether the daemon runs; exit 1 when it does not")
    classify_cmd = add("classify", cmd_classify,
                       "classify one event read on stdin (no daemon needed)", json_flag=False)
    classify_cmd.add_argument("--no-plan", action="store_true",
                              help="skip looking at the project (fix.auto is then false)")
    patterns = sub.add_parser("patterns", help="work with the pattern catalogue")
    psub = patterns.add_subparsers(dest="patterns_command", required=True, metavar="ACTION")
    check = psub.add_parser("check", help="validate pattern files (default: every layer)",
                            description="Validate pattern files with the daemon's own loader; "
                                        "exit 1 on any error, each named file:entry:key.")
    check.add_argument("path", nargs="?", help="a .toml file or a folder of them")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(handler=cmd_patterns_check)
    store_cli.register(sub, psub)
    log = add("log", cmd_log, "print the recovery log for people (coloured on a terminal)",
              json_flag=False)
    log.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    log.add_argument("--json", action="store_true", help="print the raw JSON lines (for jq)")
    log.add_argument("--class", dest="cls", metavar="CLASS", help="only events of this class")
    log.add_argument("--project", metavar="DIR", help="only events in this project folder")
    log.add_argument("--since", help="only since: 7d, 12h, 30m or an ISO date")
    log.add_argument("--event", help="only this event name or dotted prefix (recovery.)")
    setup_cli.register(sub)
    selfheal_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cfg: config.Config | None = None
    try:
        cfg = config.load()
        handler: Handler = args.handler
        return handler(args, cfg)
    except (UserError, config.ConfigError, store_cli.CommandError) as exc:
        print(f"recoverd: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception:  # noqa: BLE001 - the last resort: say where the details went
        log_file = cfg.paths.log if cfg is not None else None
        if args.handler is not cmd_serve:
            journal.configure(log_file)
        journal.get().exception("cli.crashed", command=args.command)
        traceback.print_exc()
        if log_file is not None:
            print(f"recoverd: unexpected error; details in {log_file}", file=sys.stderr)
        return 3
