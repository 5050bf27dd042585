"""Safety checks: package names before they go anywhere, and which commands may run again."""

from __future__ import annotations

import re2

from recoverd import commands

# PEP 508 distribution names (with an optional [extras] part), nothing else.
_PEP508 = re2.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[A-Za-z0-9._,-]+\])?\z")
# npm: optional @scope/, lowercase URL-safe characters, not starting with . or _, ≤ 214 chars;
# nor with "-": an installer would read it as an option.
_NPM = re2.compile(r"\A(?:@[a-z0-9~][a-z0-9-._~]*/)?[a-z0-9~][a-z0-9-._~]*\z")
NODE_BUILTINS = frozenset(
    """assert async_hooks buffer child_process cluster console constants crypto dgram
    diagnostics_channel dns domain events fs http http2 https inspector module net os path
    perf_hooks process punycode querystring readline repl stream string_decoder sys timers
    tls trace_events tty url util v8 vm wasi worker_threads zlib test sqlite sea""".split()
)


def valid_dist(name: str) -> bool:
    return bool(_PEP508.search(name))


def valid_npm(name: str) -> bool:
    return len(name) <= 214 and bool(_NPM.search(name))


def is_node_builtin(specifier: str) -> bool:
    if specifier.startswith("node:"):
        return True
    return specifier.split("/", 1)[0] in NODE_BUILTINS


# Programs whose re-run is safe: they read the project and report (tests, linters, type
# checkers, builds into the project's own output folders).
_SAFE_PROGRAMS = frozenset(
    """pytest py.test tox nox mypy pyright ruff flake8 pylint black isort jest vitest mocha
    tsc eslint prettier cargo go make cmake ctest node deno bun""".split()
)
_SAFE_SUBCOMMANDS = {
    "cargo": {"test", "build", "check", "clippy", "run", "bench", "doc"},
    "go": {"test", "build", "vet", "run"},
    "npm": {"test", "t", "run", "run-script"},
    "pnpm": {"test", "run"},
    "yarn": {"test", "run"},
    "make": set(),  # any target: make is the project's build
}
_SAFE_SCRIPTS = re2.compile(r"\A(?:test|tests|build|lint|check|typecheck|type-check|compile|"
                            r"format:check|ci|start|dev)(?::[\w-]+)?\z")
# Words that make any command unsafe to repeat, wherever they stand.
_UNSAFE = re2.compile(
    r"(?i)(?:^|[\s;&|(])(?:rm|mv|dd|mkfs|shred|chmod|chown|sudo|su|kill|pkill|reboot|"
    r"shutdown|scp|rsync|ssh|deploy|publish|migrate|alembic|flyway|kubectl|helm|terraform|"
    r"docker|twine|gh|curl|wget)(?:\s|$)|\bgit\s+(?:push|commit|reset|rebase|merge|checkout|"
    r"clean|tag|stash|pull|fetch|am|cherry-pick|revert)\b|>\s*[^&\s]|\|\s*(?:ba|z|da)?sh\b"
)


def retry_verdict(command: str, cls: str, failed_while_importing: bool) -> tuple[bool, str]:
    """(safe, why): whether re-running the command after a recovery can do no harm."""
    if _UNSAFE.search(command):
        return False, "the command changes things outside the project or is not idempotent"
    words = commands.program_words(command)
    if not words:
        return False, "no command to repeat"
    program = words[0].rsplit("/", 1)[-1]
    if program.startswith("python") and len(words) > 2 and words[1] == "-m":
        program = words[2]
    if program in _SAFE_SUBCOMMANDS and program != "make":
        sub = words[1] if len(words) > 1 else ""
        if sub not in _SAFE_SUBCOMMANDS[program]:
            return False, f"`{program} {sub}` is not a test, lint or build step"
        if sub in ("run", "run-script") and program in ("npm", "pnpm", "yarn"):
            script = words[2] if len(words) > 2 else ""
            if not _SAFE_SCRIPTS.search(script):
                return False, f"the script `{script}` is not a test, lint or build script"
        return True, f"`{program} {sub}` only builds or checks the project"
    if program in _SAFE_PROGRAMS:
        return True, f"`{program}` is a test runner, linter, type checker or build"
    if program.startswith("python") and failed_while_importing:
        return True, "the script failed while importing, before it did anything"
    if cls == "missing_python_module" and failed_while_importing:
        return True, "the program failed while importing, before it did anything"
    return False, "recoverd cannot tell that this command is safe to repeat"
