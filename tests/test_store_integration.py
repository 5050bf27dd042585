"""What the daemon learns: outcomes fed through the real hook appear in `recoverd stats`, a
later success credits the failure, and `recoverd check` sees what will break."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from daemon_fixtures import (
    Home,
    RunningDaemon,
    failure_event,
    output_failure_event,
    run_hook,
    success_event,
)


def stats(home: Home) -> dict[str, object]:
    done = home.cli("stats", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_outcomes_through_the_hook_appear_in_stats(home: Home, daemon: RunningDaemon,
                                                   tmp_path: Path) -> None:
    for _ in range(2):
        run_hook(home, failure_event(tmp_path, "nosuchmod_stats"), deadline=20,
                 ack_timeout=5).reply()
    for variant in ("alpha", "beta", "gamma"):
        run_hook(home, output_failure_event(
            tmp_path, "./frobnicate", f"frobnicate: widget {variant} jammed at 0x7f3a{len(variant)}",
            exit_code=3), deadline=20, ack_timeout=5).reply()
    home.wait_for_log("event.classified", lambda r: r.get("class") == "unknown", after=2)
    figures = stats(home)
    by_class = {c["class"]: c for c in figures["classes"]}  # type: ignore[index]
    assert by_class["missing_python_module"]["count"] == 2
    assert by_class["unknown"]["count"] == 3
    (unknown,) = figures["unknown"]  # type: ignore[misc]
    assert unknown["count"] == 3 and "jammed" in unknown["template"]
    draft = home.cli("patterns", "suggest", unknown["signature"])
    assert draft.returncode == 0 and "[[pattern]]" in draft.stdout


def test_a_later_success_credits_the_failure(home: Home, daemon: RunningDaemon,
                                             tmp_path: Path) -> None:
    """recoverd suggested an install; the same command then succeeded: the failure counts as
    healed (credited), and stats say so."""
    failed = json.loads(failure_event(tmp_path, "nosuchmod_credit"))
    run_hook(home, json.dumps(failed).encode(), deadline=20, ack_timeout=5).reply()
    payload = json.loads(success_event(tmp_path))
    payload["tool_input"]["command"] = failed["tool_input"]["command"]
    run_hook(home, json.dumps(payload).encode(), deadline=20, ack_timeout=5).reply()
    credited = home.wait_for_log("store.credited")
    assert credited["command"] == failed["tool_input"]["command"]
    by_class = {c["class"]: c for c in stats(home)["classes"]}  # type: ignore[index]
    assert by_class["missing_python_module"]["healed"] == 1


def test_check_finds_declared_but_missing_dependencies(home: Home, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("definitely-not-installed-dist\n")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / ".venv")],
                   check=True)
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"left-pad": "1"}}))
    done = home.cli("check", str(tmp_path), "--json")
    assert done.returncode == 1
    kinds = {(f["kind"], f["subject"]) for f in json.loads(done.stdout)["findings"]}
    assert ("missing_python_dependency", "definitely-not-installed-dist") in kinds
    assert ("missing_node_dependency", "left-pad") in kinds
    hook = home.cli("check", str(tmp_path), "--session-start")
    assert hook.returncode == 0
    context = json.loads(hook.stdout)["hookSpecificOutput"]
    assert context["hookEventName"] == "SessionStart"
    assert "definitely-not-installed-dist" in context["additionalContext"]
