"""`recoverd doctor`'s live latency check: the wired hook timed against the running daemon."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from recoverd import paths, settings_entries
from recoverd.config import Config
from recoverd.doctor_checks import FAIL, OK, WARN, Finding
from recoverd.doctor_settings import Wiring, is_executable

LATENCY_RUNS = 5
# The hook's wall time over `python -I -S -c pass`'s; the benchmark's target is 1.2 on a quiet
# machine, so only a clear miss is reported.
LATENCY_WARN_RATIO = 2.5


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
        if w.event == "PostToolUse" and argv and is_executable(argv[0]) \
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
