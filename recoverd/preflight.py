"""`recoverd check`: what will break before it does — declared but missing dependencies,
interpreters that cannot install, failures that keep coming back here, broken references."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from recoverd import project, pyenv, resources
from recoverd.dists import canonical

RECURRING = 3  # the same failure this many times in the window is worth a warning


@dataclass(frozen=True)
class Finding:
    kind: str  # missing_python_dependency, missing_node_dependency, externally_managed, recurring
    subject: str
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def _python_findings(proj: project.Project) -> list[Finding]:
    venv_python = proj.root / ".venv" / "bin" / "python"
    virtual = os.environ.get("VIRTUAL_ENV")
    interpreter = str(venv_python) if venv_python.exists() else (
        str(Path(virtual) / "bin" / "python") if virtual else None)
    declared = [d for d in proj.python if not d.extra and not d.source.endswith(".lock")]
    if not declared:
        return []
    if interpreter is None:
        return [Finding("no_virtual_environment", str(proj.root),
                        f"the project declares {len(declared)} Python packages but has no .venv",
                        "python3 -m venv .venv && .venv/bin/python -m pip install -r "
                        "requirements.txt (or the project's own manager)")]
    env = pyenv.inspect(interpreter, proj)
    if env is None:
        return [Finding("broken_interpreter", interpreter, "the interpreter does not run")]
    if env.externally_managed:
        return [Finding("externally_managed", interpreter,
                        "externally managed (PEP 668): pip will refuse to install into it",
                        "python3 -m venv .venv")]
    installed = {canonical(d) for dists in env.provided.values() for d in dists}
    missing = sorted({d.name for d in declared if d.key not in installed})
    return [Finding("missing_python_dependency", name, f"declared but not installed in "
                    f"{env.prefix}", "recoverd installs it when a command fails, or run the "
                    "project's install now") for name in missing]


def _node_findings(proj: project.Project) -> list[Finding]:
    modules = proj.root / "node_modules"
    missing = sorted({d.name for d in proj.node if not d.source.endswith("peerDependencies")
                      and not (modules / d.name / "package.json").exists()})
    install = f"{proj.node_manager or 'npm'} install"
    return [Finding("missing_node_dependency", name, "declared in package.json but not in "
                    "node_modules", install) for name in missing]


def _recurring(store: Any, root: Path, now: float, window: float) -> list[Finding]:
    if store is None:
        return []
    counts: dict[tuple[str, str], list[Any]] = {}
    for record in store.history(now, project=str(root), since=now - window):
        if record.outcome != "healed":
            counts.setdefault((record.cls, record.subject), []).append(record)
    return [Finding("recurring", f"{cls}: {subject}" if subject else cls,
                    f"failed {len(records)} times here recently", records[-1].action)
            for (cls, subject), records in sorted(counts.items())
            if len(records) >= RECURRING and cls not in ("no_error", "benign_nonzero_exit")]


def check(cwd: str | Path, store: Any, now: float, window: float) -> list[Finding]:
    proj = project.load(cwd)
    findings = _python_findings(proj) + _node_findings(proj) + _recurring(
        store, proj.root, now, window)
    for ref in resources.broken_references(proj.root):
        where = f" (used at {', '.join(ref.where[:3])})" if ref.where else ""
        findings.append(Finding(f"broken_{ref.kind.replace('-', '_')}_reference", ref.name,
                                ref.why + where))
    return findings


def summary(findings: list[Finding], root: Path) -> str:
    """The text a SessionStart hook hands Claude, short."""
    lines = [f"[recoverd] Before you start in {root}:"]
    for finding in findings[:20]:
        fix = f" Fix: `{finding.fix}`." if finding.fix else ""
        lines.append(f"- {finding.kind}: {finding.subject} — {finding.detail}.{fix}")
    if len(findings) > 20:
        lines.append(f"- … and {len(findings) - 20} more (`recoverd check`)")
    return "\n".join(lines)
