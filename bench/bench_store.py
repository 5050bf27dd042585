"""Benchmark the outcome store: `recoverd stats` over 100,000 outcomes, and one outcome written.

    python bench/bench_store.py [--outcomes 100000] [--redis-url redis://127.0.0.1:6379/0]

Prints, measured in this run:
  - stats.compute over N outcomes (target <= 100 ms), and its parts;
  - one outcome written and committed (target <= 1 ms), with synchronous=NORMAL (survives a
    SIGKILL of the daemon; the default) and FULL (survives a power cut: an fsync per write);
  - the loop breaker's question (should_attempt) and fingerprinting one failure.
A benchmark, not a test: it asserts nothing, it prints figures.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recoverd import signatures, stats  # noqa: E402
from recoverd.outcomes import Outcome, OutcomeStore, action_text, should_attempt  # noqa: E402
from recoverd.store import Store  # noqa: E402

DAY = 86400.0
KNOWN = [("missing_python_module", "python_module_not_found"), ("test_failure", "pytest_failures"),
         ("missing_command", "command_not_found"), ("syntax_error", "python_syntax_error"),
         ("network_error", "connection_refused"), ("type_error", "typescript_error"),
         ("missing_node_module", "node_module_not_found"), ("git_error", "git_not_a_repo")]
PROJECTS = [f"/home/user/src/project{i}" for i in range(8)]
OUTCOMES = ["healed", "failed", "suggested", "skipped", "none"]


def word(seed: int) -> str:
    return "".join(random.Random(seed).choices(string.ascii_lowercase, k=7))


def unknown_output(rng: random.Random, kind: int) -> str:
    """One of 300 recurring unknown failures, each in 8 variants, with varying numbers."""
    noise = "".join(f"step {i}: ok ({rng.random():.3f}s)\n" for i in range(rng.randint(5, 60)))
    return (f"{noise}{word(kind)}: error: component {word(kind * 8 + rng.randint(0, 7))} failed "
            f"with code {rng.randint(1, 255)} at /var/tmp/run{rng.randint(1, 9999)}/x.log\n")


def make(rng: random.Random, now: float) -> tuple[Outcome, float]:
    project = rng.choice(PROJECTS)
    if rng.random() < 0.2:
        output = unknown_output(rng, rng.randint(0, 300))
        sig = signatures.signature("unknown", "", output)
        return Outcome(project=project, session="s", signature=sig.id, template=sig.template,
                       cls="unknown", outcome="none", command="./run.sh --all",
                       classify_ms=0.2, example=output), now - rng.random() * 29 * DAY
    cls, pattern = rng.choice(KNOWN)
    outcome = rng.choice(OUTCOMES)
    ran = outcome in ("healed", "failed")
    return Outcome(project=project, session="s", signature=f"{hash((cls, pattern)) & 0xFFFF:016x}",
                   template=f"{cls} <name>", cls=cls, pattern=pattern, subject="pkg",
                   action=action_text("pip_install",
                                      ["pip", "install", f"pkg{rng.randint(1, 50)}"]),
                   outcome=outcome, classify_ms=0.1, recovery_ms=rng.uniform(200, 9000) if ran
                   else None, command=f"python app{rng.randint(1, 20)}.py"), (
        now - rng.random() * 29 * DAY)


Samples = tuple[list[float], list[float]]  # wall and CPU milliseconds


def timed(fn: Callable[[], object], runs: int) -> Samples:
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def line(label: str, samples: Samples, target: str = "") -> None:
    wall, cpu = sorted(samples[0]), sorted(samples[1])
    p95 = wall[min(len(wall) - 1, int(len(wall) * 0.95))]
    print(f"  {label:<46} median {statistics.median(wall):8.3f} ms  p95 {p95:8.3f} ms"
          f"  min {wall[0]:8.3f} ms  (CPU median {statistics.median(cpu):8.3f} ms) {target}")


def bench_queries(store: OutcomeStore, now: float, runs: int) -> None:
    line("stats.compute (all projects)", timed(lambda: stats.compute(store, now), runs),
         "(target <= 100 ms)")
    line("stats.compute (one project)",
         timed(lambda: stats.compute(store, now, project=PROJECTS[0]), runs))
    line("  groups (per class and per pattern, medians)", timed(lambda: store.groups(now), runs))
    line("  unknown signature groups + Drain mining",
         timed(lambda: stats.clusters(store, now), runs))
    action = action_text("pip_install", ["pip", "install", "pkg7"])
    line("should_attempt (loop breaker)", timed(
        lambda: should_attempt(store, PROJECTS[0], "0000000000001234", action, now), 200))


def bench_writes(store: OutcomeStore, rng: random.Random, now: float, label: str) -> None:
    known = [make(rng, now)[0] for _ in range(300)]
    known = [o for o in known if o.cls != "unknown"][:200]
    line(f"record() one outcome, {label}", timed(lambda: store.record(known.pop(), now), 200),
         "(target <= 1 ms)")
    unknowns = [make(rng, now)[0] for _ in range(2000)]
    unknowns = [o for o in unknowns if o.cls == "unknown"][:200]
    line(f"record() one unknown outcome + example, {label}",
         timed(lambda: store.record(unknowns.pop(), now), 200))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outcomes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args(argv)
    calibration = min(timed(lambda: sum(range(10**7)), 3)[0])
    print(f"this machine: sum(range(10**7)) in {calibration:.0f} ms "
          f"(a current desktop core: about 150 ms); load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    rng = random.Random(7)
    now = time.time()
    print(f"building {args.outcomes} outcomes…", flush=True)
    history = [make(rng, now) for _ in range(args.outcomes)]
    history.sort(key=lambda pair: pair[1])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.sqlite3"
        start = time.perf_counter()
        with Store.open(path, synchronous="OFF") as filler:  # filling is setup, not measured
            for outcome, at in history:
                filler.record(outcome, at)
        print(f"filled in {time.perf_counter() - start:.1f} s "
              f"({path.stat().st_size / 1e6:.1f} MB + WAL)\n")
        print(f"SQLite store, {args.outcomes} outcomes:")
        with Store.open(path) as store:
            bench_queries(store, now, args.runs)
            bench_writes(store, rng, now, "synchronous=NORMAL")
        with Store.open(path, synchronous="FULL") as store:
            bench_writes(store, rng, now, "synchronous=FULL")
    output = unknown_output(rng, 3)
    line("signatures.signature + example (one failure)", timed(
        lambda: (signatures.signature("unknown", "", output), signatures.example(output)), 200))
    if args.redis_url:
        from recoverd.redis_store import RedisStore

        with RedisStore.open(args.redis_url, namespace=f"bench{int(now)}") as redis_store:
            for outcome, at in history:
                redis_store.record(outcome, at)
            print(f"\nRedis store, {args.outcomes} outcomes:")
            bench_queries(redis_store, now, 3)
            bench_writes(redis_store, rng, now, "redis")
            redis_store.purge(now + 10 * 365 * DAY)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
