#!/usr/bin/env python3
"""Capture recoverd's own labelled cases by really running small broken projects.

Each spec (tests/capture/specs/*.py, a list named CASES in every module) says how to build a
throwaway project (`setup`, a bash script run with `bash -euo pipefail` in an empty folder),
which command to run there and what the output means (`expected`, written by hand). This
script builds the project, runs the command twice the way ../shared/corpus/README.md
describes (run A: stdout and stderr through one pipe; run B: the two streams apart, from the
same starting state), rewrites the temporary root to /home/dev/work/<id> and writes
tests/cases/<id>.json in the shared corpus's format.

Nothing here reaches the network: installers are pointed at local files only (pip
--no-index, npm offline, GOPROXY=off, cargo offline), and the few specs that need something
only this machine image has (a local wheel folder, a node_modules with typescript) name it in
`requires` and are skipped where it is missing.

    python tests/capture/capture.py                 # every case
    python tests/capture/capture.py --only ID ...   # some cases
    python tests/capture/capture.py --list          # ids, classes, commands
    python tests/capture/capture.py --relabel       # labels only, outputs kept
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPECS_DIR = HERE / "specs"
CASES_OUT = HERE.parent / "cases"
PLACEHOLDER_BASE = "/home/dev/work"
PLACEHOLDER_HOME = "/home/dev"
PLACEHOLDER_PYTHON = "/opt/python/"

SHELLS = {"bash": ["bash", "-c"], "zsh": ["zsh", "-c"], "sh": ["sh", "-c"]}
RUN_AS = {"nobody": ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]}

# Set for setup and command alike, so that nothing can reach a registry even by mistake, and
# so that the outputs do not depend on the capturing user's git or pip configuration.
OFFLINE_ENV = {
    "LANG": "C.UTF-8",
    "PIP_NO_INDEX": "1",
    "PIP_CONFIG_FILE": "/dev/null",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "npm_config_offline": "true",
    "npm_config_userconfig": "/dev/null",
    "npm_config_audit": "false",
    "npm_config_fund": "false",
    "npm_config_update_notifier": "false",
    "GOPROXY": "off",
    "GOTOOLCHAIN": "local",
    "CARGO_NET_OFFLINE": "true",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_AUTHOR_DATE": "2024-01-01T12:00:00Z",  # the same commit ids at every capture
    "GIT_COMMITTER_DATE": "2024-01-01T12:00:00Z",
}
# Inherited variables that would change what the tools print (colour, buffering, backtraces)
# or which interpreter runs.
UNSET = ("PYTHONUNBUFFERED", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYENV_VERSION",
         "VIRTUAL_ENV", "CONDA_PREFIX", "FORCE_COLOR", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE",
         "PY_COLORS", "RUST_BACKTRACE", "NODE_OPTIONS", "NODE_PATH", "PYTEST_ADDOPTS",
         "GIT_DIR", "GIT_WORK_TREE", "MAKEFLAGS", "MFLAGS", "CLAUDECODE")


def load_specs() -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    sys.path.insert(0, str(SPECS_DIR))
    for path in sorted(SPECS_DIR.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"capture_specs_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        specs.extend(module.CASES)
    seen: set[str] = set()
    for s in specs:
        if s["id"] in seen:
            raise SystemExit(f"duplicate case id {s['id']}")
        seen.add(s["id"])
    return specs


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in UNSET
           and not k.startswith(("CLAUDE", "ANTHROPIC", "PIP_", "npm_config_"))}
    venv_bin = str(Path(sys.prefix) / "bin")
    parts: list[str] = []
    for part in env.get("PATH", "").split(":"):
        # An empty entry means the current folder: it would find ./deploy.sh by bare name.
        if part and part not in parts and part != venv_bin:
            parts.append(part)
    env["PATH"] = ":".join(parts)
    env.update(OFFLINE_ENV)
    return env


def signal_exit(code: int) -> int:
    """An exit status as a shell reports it (a death by signal N is 128+N)."""
    return 128 - code if code < 0 else code


class Rewriter:
    """Moves the machine's paths to the stable placeholders the corpus uses."""

    def __init__(self, root: Path, base: Path, case_id: str, extra: dict[str, str]) -> None:
        home = str(Path.home())
        pyenv = os.environ.get("PYENV_ROOT", f"{home}/.pyenv") + "/versions/"
        self.pairs: list[tuple[str, str]] = [
            (str(root), f"{PLACEHOLDER_BASE}/{case_id}"),
            (str(base), PLACEHOLDER_BASE),
            *extra.items(),
            (pyenv, PLACEHOLDER_PYTHON),
            (home + "/", PLACEHOLDER_HOME + "/"),
        ]
        tmp = os.path.realpath(str(root))
        if tmp != str(root):
            self.pairs.insert(0, (tmp, f"{PLACEHOLDER_BASE}/{case_id}"))

    def __call__(self, data: bytes) -> bytes:
        for old, new in self.pairs:
            data = data.replace(old.encode(), new.encode())
        return data

    def text(self, value: str) -> str:
        return self(value.encode()).decode()


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float,
        separate: bool) -> tuple[int, bytes, bytes, float]:
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE if separate else subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise SystemExit(f"{argv!r} in {cwd} ran over {timeout}s") from None
    return signal_exit(proc.returncode), out, err or b"", time.monotonic() - start


def decode(fields: dict[str, bytes]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        for name, data in fields.items():
            out[name] = data.decode("utf-8")
        return out
    except UnicodeDecodeError:
        pass
    for name, data in fields.items():
        out[name] = data.decode("utf-8", errors="replace")
    for name, data in fields.items():
        out[f"{name}_b64"] = base64.b64encode(data).decode("ascii")
    out["output_encoding_note"] = (
        "output/stdout/stderr contain bytes that are not valid UTF-8; the text fields were "
        "decoded with errors='replace'; the *_b64 fields are exact")
    return out


def same_lines(combined: bytes, out: bytes, err: bytes) -> bool:
    return (collections.Counter(combined.splitlines())
            == collections.Counter(out.splitlines() + err.splitlines()))


def missing_requirements(spec: dict[str, Any]) -> list[str]:
    return [r for r in spec.get("requires", []) if not Path(r).exists()]


def capture(spec: dict[str, Any], keep: bool = False) -> dict[str, Any]:
    case_id = spec["id"]
    env = base_env()
    extra_env = dict(spec.get("env", {}))
    base = Path(tempfile.mkdtemp(prefix="rcv-capture-"))
    root = base / case_id
    snapshot = base / f".{case_id}.setup"
    user = spec.get("user")
    try:
        root.mkdir()
        if user:  # the unprivileged user must reach the project folder
            base.chmod(0o755)
            root.chmod(0o755)
        setup = subprocess.run(["bash", "-euo", "pipefail", "-c", spec["setup"]], cwd=root,
                               env=env, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=spec.get("setup_timeout", 600), check=False)
        if setup.returncode != 0:
            raise SystemExit(f"{case_id}: setup failed ({setup.returncode}):\n"
                             + setup.stdout.decode(errors="replace")
                             + setup.stderr.decode(errors="replace"))
        shutil.copytree(root, snapshot, symlinks=True)
        cmd_env = {**env, **{k: v.replace("{root}", str(root)) for k, v in extra_env.items()}}
        shell = spec.get("shell", "bash")
        argv = RUN_AS.get(user or "", []) + SHELLS[shell] + [spec["command"]]
        cwd = root / spec.get("cwd", ".")
        timeout = spec.get("timeout", 300)
        code_a, combined, _, seconds = run(argv, cwd, cmd_env, timeout, separate=False)
        shutil.rmtree(root)
        shutil.copytree(snapshot, root, symlinks=True)
        code_b, out, err, _ = run(argv, cwd, cmd_env, timeout, separate=True)
        rewrite = Rewriter(root, base, case_id, spec.get("rewrite", {}))
        combined, out, err = rewrite(combined), rewrite(out), rewrite(err)
        texts = decode({"output": combined, "stdout": out, "stderr": err})
    finally:
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            subprocess.run(["chmod", "-R", "u+rwX", str(base)], check=False)
            shutil.rmtree(base, ignore_errors=True)

    case: dict[str, Any] = {
        "id": case_id,
        "ecosystem": spec["ecosystem"],
        "command": spec["command"],
        "cwd": spec.get("cwd", "."),
        "exit_code": code_a,
        "output": texts.pop("output"),
        "stdout": texts.pop("stdout"),
        "stderr": texts.pop("stderr"),
        **texts,
        "expected": spec["expected"],
    }
    if spec.get("tags"):
        case["tags"] = spec["tags"]
    if spec.get("notes"):
        case["notes"] = spec["notes"]
    case["setup_description"] = spec["setup_description"]
    case["setup"] = spec["setup"]
    case["capture"] = {
        "root": f"{PLACEHOLDER_BASE}/{case_id}",
        "shell": f"{shell} -c <command>",
        "run_a_combined_exit_code": code_a,
        "run_b_separate_exit_code": code_b,
        "streams_match_combined_as_line_multiset": same_lines(combined, out, err),
        "run_a_seconds": round(seconds, 2),
        "captured_at": datetime.datetime.now(datetime.UTC)
        .isoformat(timespec="seconds"),
        "offline_env": OFFLINE_ENV,
    }
    if extra_env:
        case["capture"]["env_overrides"] = {k: rewrite.text(v.replace("{root}", str(root)))
                                            for k, v in extra_env.items()}
    if user:
        case["capture"]["run_as_user"] = user
    if code_a != code_b:
        print(f"warning: {case_id}: run A exited {code_a}, run B {code_b}", file=sys.stderr)
    return case


LABEL_FIELDS = ("expected", "tags", "notes", "setup_description")


def relabel(spec: dict[str, Any], path: Path) -> str:
    """Refresh the hand-written fields of a captured case without running anything again."""
    if not path.exists():
        return "not captured yet"
    case = json.loads(path.read_text("utf-8"))
    if (case["command"], case["setup"], case["cwd"]) != (
            spec["command"], spec["setup"], spec.get("cwd", ".")):
        return "command, cwd or setup changed: capture it again"
    fresh: dict[str, Any] = {}
    for key, value in case.items():
        if key == "setup_description":
            for label in ("tags", "notes"):
                if spec.get(label):
                    fresh[label] = spec[label]
        if key in ("tags", "notes"):
            continue
        fresh[key] = spec[key] if key in LABEL_FIELDS else value
    path.write_text(json.dumps(fresh, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return "relabelled"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="capture only these cases")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    parser.add_argument("--relabel", action="store_true",
                        help="only copy the specs' labels into the captured cases")
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects")
    parser.add_argument("--out", type=Path, default=CASES_OUT, help="where to write <id>.json")
    args = parser.parse_args(argv)

    specs = load_specs()
    if args.only:
        unknown = set(args.only) - {s["id"] for s in specs}
        if unknown:
            parser.error(f"unknown case ids: {', '.join(sorted(unknown))}")
        specs = [s for s in specs if s["id"] in args.only]
    if args.list:
        for s in specs:
            print(f"{s['id']:48} {s['expected']['class']:28} {s['command']}")
        print(f"{len(specs)} cases", file=sys.stderr)
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    if args.relabel:
        for spec in specs:
            print(f"{spec['id']}: {relabel(spec, args.out / (spec['id'] + '.json'))}",
                  file=sys.stderr)
        return 0
    skipped = 0
    for number, spec in enumerate(specs, 1):
        missing = missing_requirements(spec)
        if missing:
            skipped += 1
            print(f"[{number}/{len(specs)}] {spec['id']}: skipped, needs {', '.join(missing)}",
                  file=sys.stderr)
            continue
        case = capture(spec, keep=args.keep)
        path = args.out / f"{spec['id']}.json"
        path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", "utf-8")
        print(f"[{number}/{len(specs)}] {spec['id']}: exit {case['exit_code']}, "
              f"{len(case['output'])} chars", file=sys.stderr)
    if skipped:
        print(f"{skipped} cases skipped for missing local files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
