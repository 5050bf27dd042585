"""Benchmark the spine: hook latency and classify time, measured against baselines in this run.

    python bench/bench_spine.py [--runs 100]

Prints:
  - the hook's wall time on a PostToolUse event (live daemon), as a ratio to
    `python -I -S -c pass` with the same interpreter (target <= 1.2). A success needs no
    answer: the hook leaves it in the spool, which the daemon drains on its own time;
  - the same for a PostToolUseFailure event (the daemon classifies and answers);
  - classify time inside the daemon's code on 10 KB and 1 MB of output with the full catalogue
    (targets <= 0.2 ms and <= 5 ms), and the time per MB at several sizes (linearity).
A benchmark, not a test: it asserts nothing, it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recoverd import client, events, pidfile  # noqa: E402
from recoverd.catalogue import Catalogue  # noqa: E402
from recoverd.classifier import classify  # noqa: E402

HOOK = REPO / "hooks" / "recoverd-hook"
SUCCESS = {
    "session_id": "bench", "cwd": "/tmp", "hook_event_name": "PostToolUse", "tool_name": "Bash",
    "tool_input": {"command": "echo hello"},
    "tool_response": {"stdout": "hello", "stderr": "", "interrupted": False, "isImage": False},
}
FAILURE = {
    "session_id": "bench", "cwd": "/tmp", "hook_event_name": "PostToolUseFailure",
    "tool_name": "Bash", "tool_input": {"command": "python3 app.py"},
    "error": "Exit code 1\nTraceback (most recent call last):\n  File \"app.py\", line 1, in "
             "<module>\n    import yaml\nModuleNotFoundError: No module named 'yaml'",
}


def wall(argv: list[str], stdin: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, input=stdin, env=env, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def interleaved_medians(cases: dict[str, tuple[list[str], bytes]], env: dict[str, str],
                        runs: int) -> dict[str, float]:
    """Each round runs every case once, in turn: a machine that slows down or speeds up
    during the run weighs on every case alike, so the ratios stay fair. The order rotates
    from round to round, so that each case follows each other case (and the daemon's work
    after a failure) equally often."""
    for argv, stdin in cases.values():
        wall(argv, stdin, env)  # warm the page cache (and the hook's code cache)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for round_number in range(runs):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            argv, stdin = cases[name]
            samples[name].append(wall(argv, stdin, env))
    return {name: statistics.median(times) for name, times in samples.items()}


def noisy_output(size: int, tail: str, seed: int = 0) -> str:
    """Build-log-like noise with the deciding line at the end."""
    line = "compiling module_%05d ... ok (warnings: 0) [info] cache hit 0x7f3a\n"
    lines = []
    total = 0
    number = seed
    while total < size - len(tail):
        lines.append(line % (number % 100000))
        total += len(lines[-1])
        number += 1
    return "".join(lines)[: max(0, size - len(tail))] + tail


def classify_ms(catalogue: Catalogue, size: int, tail: str, runs: int) -> float:
    """The median over `runs` distinct events (another command, other noise each time), so
    that nothing remembered from one classification speeds up the next."""
    patterns = catalogue.base
    samples = []
    for run in range(runs + 1):
        event = events.Event(command=f"python3 build.py --target t{run}", cwd="/tmp",
                             exit_code=1, output=noisy_output(size, tail, seed=run * 7919),
                             kind=events.FAILURE, source="generic")
        start = time.perf_counter()
        classify(event, patterns)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples[1:]) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rd-bench-", dir="/tmp"))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
           "RECOVERD_HOME": str(home), "RECOVERD_NO_AUTOSTART": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "recoverd", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if client.wait_until_up(home / "recoverd.sock", timeout=15) is None:
            print("daemon did not start", file=sys.stderr)
            return 1
        hook = [sys.executable, "-I", "-S", str(HOOK)]
        medians = interleaved_medians({
            "base": ([sys.executable, "-I", "-S", "-c", "pass"], b""),
            "ok": (hook, json.dumps(SUCCESS).encode()),
            "bad": (hook, json.dumps(FAILURE).encode()),
        }, env, args.runs)
        base, ok, bad = medians["base"], medians["ok"], medians["bad"]
        print(f"interpreter: {sys.executable} ({sys.version.split()[0]}), {args.runs} rounds, "
              "interleaved")
        print(f"baseline `python -I -S -c pass`      {base * 1000:7.2f} ms")
        print(f"hook, PostToolUse (success)          {ok * 1000:7.2f} ms  "
              f"ratio {ok / base:5.2f}  (target <= 1.2)")
        print(f"hook, PostToolUseFailure (diagnosis) {bad * 1000:7.2f} ms  ratio {bad / base:5.2f}")
    finally:
        if pidfile.is_recoverd(proc.pid):
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    catalogue = Catalogue()
    tail = "Traceback (most recent call last):\n  File \"build.py\", line 3, in <module>\n" \
           "    import yaml\nModuleNotFoundError: No module named 'yaml'\n"
    print(f"catalogue: {len(catalogue.base.patterns)} patterns")
    for label, size, target in (("10 KB", 10_000, 0.2), ("1 MB", 1_000_000, 5.0)):
        ms = classify_ms(catalogue, size, tail, max(5, min(args.runs, 200)))
        print(f"classify {label:>6}: {ms:8.3f} ms  (target <= {target} ms)")
    print("linearity (ms per MB):")
    for size in (100_000, 500_000, 1_000_000, 2_000_000):
        ms = classify_ms(catalogue, size, tail, 5)
        print(f"  {size / 1e6:4.1f} MB  {ms:8.3f} ms  {ms / (size / 1e6):7.3f} ms/MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
