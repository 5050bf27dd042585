"""Benchmark recovery overhead: what a heal costs beyond the install and the retry themselves.

    python bench/bench_recovery.py [--runs 5]

Each run: a project venv lacks a dependency its requirements.txt declares (served by a local
index on 127.0.0.1); the real hook sends the real failure to a real daemon, which installs and
retries. overhead = hook wall time − install seconds − retry seconds (both from the daemon's
log). Between runs the package is uninstalled again. Target: overhead <= 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from package_index import PackageIndex, pip_env  # noqa: E402

from recoverd import client, pidfile  # noqa: E402

DIST, MODULE = "bench-heal-dep", "bench_heal_dep"


def failure_event(project: Path, output: str, session: str) -> bytes:
    return json.dumps({
        "session_id": session, "cwd": str(project), "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash", "tool_input": {"command": ".venv/bin/python app.py"},
        "error": "Exit code 1\n" + output,
    }).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rd-bench-rec-", dir="/tmp"))
    home = work / "h"
    project = work / "p"
    project.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(project / ".venv")], check=True)
    venv_python = str(project / ".venv" / "bin" / "python")
    (project / "app.py").write_text(f"import {MODULE}\nprint({MODULE}.VALUE)\n")
    with PackageIndex(work / "wheels", lifetime_s=600) as index:
        index.add_wheel(DIST, "1.0", {f"{MODULE}/__init__.py": "VALUE = 42\n"})
        (project / "requirements.txt").write_text(f"--index-url {index.url}\n{DIST}\n")
        env = {k: v for k, v in pip_env(index.url).items()}
        env.update(RECOVERD_HOME=str(home), RECOVERD_NO_AUTOSTART="1")
        daemon = subprocess.Popen([sys.executable, "-m", "recoverd", "serve"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if client.wait_until_up(home / "recoverd.sock", timeout=15) is None:
                print("daemon did not start", file=sys.stderr)
                return 1
            overheads, walls = [], []
            for run in range(args.runs):
                output = subprocess.run([venv_python, "app.py"], cwd=project, text=True,
                                        capture_output=True, check=False).stderr
                start = time.perf_counter()
                subprocess.run([sys.executable, "-I", "-S", str(REPO / "hooks/recoverd-hook")],
                               input=failure_event(project, output, f"bench-{run}"), env=env,
                               stdout=subprocess.DEVNULL, check=True)
                wall = time.perf_counter() - start
                finished = [json.loads(line) for line in
                            (home / "recoverd.log").read_text().splitlines()
                            if '"recovery.finished"' in line][-1]
                assert finished["outcome"] == "healed", finished
                overheads.append(wall - finished["seconds"] - (finished["retry_seconds"] or 0))
                walls.append(wall)
                subprocess.run([venv_python, "-m", "pip", "uninstall", "-q", "-y", DIST],
                               check=True, env=env)
        finally:
            if pidfile.is_recoverd(daemon.pid):
                daemon.terminate()
            daemon.wait(timeout=10)
            shutil.rmtree(work, ignore_errors=True)
    print(f"{args.runs} heals: hook wall time median {statistics.median(walls) * 1000:.0f} ms")
    print(f"recovery overhead beyond install + retry: median "
          f"{statistics.median(overheads) * 1000:.0f} ms, max {max(overheads) * 1000:.0f} ms "
          f"(target <= 300 ms)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
