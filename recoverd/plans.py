"""What a recovery plan is, and what every planner shares: the install policy, the
environment a recovery runs in, and the declared name a misspelt one was meant to be."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from recoverd import project
from recoverd.config import Config
from recoverd.declarations import Declaration
from recoverd.dists import canonical
from recoverd.events import Event
from recoverd.fixes import Fix

POLICY_ORDER = ("declared", "allowlist", "any")


@dataclass
class Plan:
    run: bool  # recoverd runs `fix.argv` by itself
    fix: Fix
    reason: str  # why it runs, or why not; said to Claude
    cwd: str = ""
    env_key: str = ""  # one lock per environment
    retry: bool = False
    retry_reason: str = ""
    env: dict[str, str] = field(default_factory=dict)
    interpreter: str = ""
    purpose: str = "install"  # "install", or "rerun": the failing tests once more, alone

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.env_key, tuple(self.fix.argv))


def effective_policy(config: Config, root: Path) -> str:
    """The user's policy, made stricter (never looser) by the project's own setting: a cloned
    repository must not be able to widen what recoverd installs."""
    user = config.install_policy
    local = project.project_setting(root, "install_policy")
    if local in POLICY_ORDER and POLICY_ORDER.index(local) < POLICY_ORDER.index(user):
        return local
    return user


def command_env(event: Event) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL")}
    return {**base, **event.env}


def typo(name: str, declared: list[Declaration]) -> str:
    names = sorted({d.name for d in declared})
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return close[0] if close and canonical(close[0]) != canonical(name) else ""
