"""Run a recovery command: an argv list in a pty (pexpect), bounded in time, never a shell.

Running returns an Outcome; a missing program, a timeout, a prompt nobody may answer and a
non-zero exit are values the caller reads, not exceptions. Transient failures (an index that
is unreachable, a connection reset) are retried with backoff by tenacity; deterministic ones
never are.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pexpect
import psutil
import re2
import tenacity

# Prompts package managers print; answered only when the policy allows it.
PROMPTS: dict[str, str] = {
    r"Proceed \(\[?y\]?/n\)\?": "y",  # pip uninstall, conda
    r"Do you want to continue\? \[Y/n\]": "Y",
    r"Ok to proceed\? \(y\)": "y",  # npx
    r"\? .*\(Y/n\)": "Y",  # inquirer-style (yarn, pnpm)
}
_TRANSIENT = re2.compile(
    r"(?i)connection (?:refused|reset|aborted)|temporary failure in name resolution|"
    r"timed? ?out|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|socket hang up|"
    r"\b50[234]\b|Service Unavailable|Bad Gateway|Max retries exceeded|"
    r"network is unreachable|RemoteDisconnected|IncompleteRead"
)
OUTPUT_LIMIT = 200_000


@dataclass
class Outcome:
    argv: list[str]
    exit_code: int | None
    output: str = ""
    seconds: float = 0.0
    timed_out: bool = False
    prompt: str = ""  # a prompt that was not answered
    error: str = ""  # the program could not be started
    attempts: int = 1
    history: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.error

    @property
    def transient(self) -> bool:
        """A failure worth trying again: the network or an index, not the request itself."""
        if self.ok or self.error or self.prompt:
            return False
        return bool(_TRANSIENT.search(self.output[-20_000:]))

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


def kill_tree(pid: int, reap_root: bool = True) -> None:
    """End a process and everything it started (only that tree, by pid). With
    reap_root=False the root is only signalled: its parent (pexpect) reaps it."""
    try:
        root = psutil.Process(pid)
        descendants = root.children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for proc in [root, *descendants]:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(descendants + ([root] if reap_root else []), timeout=5)


def run_once(argv: Sequence[str], cwd: str, env: Mapping[str, str], timeout: float,
             answer_prompts: bool = False) -> Outcome:
    started = time.monotonic()
    argv = list(argv)
    try:
        child = pexpect.spawn(argv[0], argv[1:], cwd=cwd, env=dict(env), encoding="utf-8",
                              codec_errors="replace", timeout=timeout, dimensions=(50, 200),
                              echo=False)
    except (pexpect.ExceptionPexpect, OSError) as exc:
        return Outcome(argv, None, error=str(exc), seconds=time.monotonic() - started)
    patterns: list[Any] = [pexpect.EOF, pexpect.TIMEOUT, *PROMPTS]
    answers = list(PROMPTS.values())
    chunks: list[str] = []
    outcome = Outcome(argv, None)
    deadline = started + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            index = child.expect(patterns, timeout=max(0.01, left)) if left > 0 else 1
            chunks.append(child.before or "")
            if index == 0:
                break
            if index == 1:
                outcome.timed_out = True
                if child.pid is not None:
                    kill_tree(child.pid, reap_root=False)
                break
            prompt = child.after if isinstance(child.after, str) else ""
            chunks.append(prompt)
            if not answer_prompts:
                outcome.prompt = prompt.strip()
                if child.pid is not None:
                    kill_tree(child.pid, reap_root=False)
                break
            child.sendline(answers[index - 2])
    finally:
        child.close(force=True)
    if not outcome.timed_out and not outcome.prompt:
        outcome.exit_code = child.exitstatus if child.exitstatus is not None else (
            128 + child.signalstatus if child.signalstatus is not None else None)
    outcome.output = "".join(chunks).replace("\r\n", "\n")[-OUTPUT_LIMIT:]
    outcome.seconds = time.monotonic() - started
    return outcome


def _last_result(state: tenacity.RetryCallState) -> Any:
    """When the attempts run out, the last outcome is the answer (it is a value, not raised)."""
    assert state.outcome is not None
    return state.outcome.result()


def run(argv: Sequence[str], cwd: str, env: Mapping[str, str], timeout: float = 600.0,
        answer_prompts: bool = False, attempts: int = 3, backoff: float = 1.0) -> Outcome:
    """Run, retrying only transient failures, with exponential backoff, within `timeout`."""
    if not argv or any(not isinstance(a, str) or "\0" in a for a in argv):
        return Outcome(list(argv), None, error="not a valid argv list")
    deadline = time.monotonic() + timeout
    history: list[str] = []

    def attempt() -> Outcome:
        left = max(1.0, deadline - time.monotonic())
        outcome = run_once(argv, cwd, env, left, answer_prompts)
        history.append(f"exit {outcome.exit_code}: {outcome.tail(2)}")
        return outcome

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, attempts)) | tenacity.stop_before_delay(
            max(0.0, deadline - time.monotonic())),
        wait=tenacity.wait_exponential(multiplier=backoff, max=30),
        retry=tenacity.retry_if_result(lambda o: o.transient),
        retry_error_callback=_last_result,
        reraise=True,
    )
    outcome: Outcome = retrying(attempt)
    outcome.attempts = len(history)
    outcome.history = history
    return outcome


def program_exists(name: str, env: Mapping[str, str]) -> bool:
    from shutil import which

    return which(name, path=env.get("PATH", os.environ.get("PATH"))) is not None
