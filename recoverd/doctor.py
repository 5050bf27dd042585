"""`recoverd doctor`: run every check in order and print the findings, each problem with its fix.

Everything between a failed Bash call and Claude reading recoverd's answer is checked, and the
fix for each problem named in one line. doctor_checks.py: this interpreter; the state directory
and socket permissions; the daemon (running, answering, its version); pattern load errors; the
outcome store's integrity. doctor_settings.py: the wiring in the user, project and local
settings of the project (recoverd on PostToolUseFailure, not PostToolUse alone; interpreter and
hook paths that exist; a timeout above the hook's own deadline; a matcher that covers Bash;
`disableAllHooks`); the interpreter the plugin's hook starts the daemon with. doctor_latency.py:
the hook's latency, measured live against the running daemon.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from recoverd.config import Config
from recoverd.doctor_checks import (
    FAIL,
    OK,
    WARN,
    Finding,
    check_daemon,
    check_interpreter,
    check_state,
    check_store,
)
from recoverd.doctor_latency import check_latency
from recoverd.doctor_settings import check_interpreters, check_settings


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
