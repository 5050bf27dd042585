"""The text Claude reads: short, specific, and marked as coming from recoverd."""

from __future__ import annotations

import shlex

from recoverd.classifier import Classification
from recoverd.text import shorten

PREFIX = "[recoverd]"
LIMIT = 9_000  # Claude Code inlines additionalContext only under 10,000 characters.

_HEADLINES = {
    "missing_python_module": "Python cannot import `{subject}`",
    "missing_node_module": "Node cannot resolve the package `{subject}`",
    "missing_local_module": "A local module is missing: `{subject}`",
    "missing_command": "The command `{subject}` is not installed or not on PATH",
    "npm_missing_script": "package.json has no script named `{subject}`",
    "syntax_error": "Syntax error in {where}",
    "test_failure": "{count} failing test(s)",
    "type_error": "Type error in {where}",
    "file_not_found": "No such file or directory: `{subject}`",
    "permission_denied": "Permission denied: `{subject}`",
}

_NEXT = {
    "report_location": "Open {where} and fix the code there; nothing was changed.",
    "rerun_failed_tests": "Fix the failing tests, then re-run only them: `{argv}`.",
    "none": "",
}


def _where(result: Classification) -> str:
    loc = result.location
    if loc is None:
        return f"`{result.subject}`" if result.subject else "the output"
    text = loc.file
    if loc.line is not None:
        text += f":{loc.line}"
        if loc.col is not None:
            text += f":{loc.col}"
    return f"`{text}`"


def _headline(result: Classification) -> str:
    template = _HEADLINES.get(result.cls)
    if template is None:
        subject = f" (`{result.subject}`)" if result.subject else ""
        return f"{result.cls.replace('_', ' ')}{subject}"
    return template.format(subject=result.subject, where=_where(result),
                           count=len(result.failing_tests) or "Some")


def render(result: Classification, command: str) -> str:
    """The diagnosis for one failure, under LIMIT characters."""
    label = result.cls + (f"/{result.variant}" if result.variant else "")
    lines = [f"{PREFIX} {_headline(result)} ({label}, pattern {result.pattern})."]
    if result.message:
        lines.append(f"Message: {shorten(result.message, 500)}")
    if result.dist and result.dist.lower() != result.subject.lower():
        lines.append(f"`{result.subject}` is provided by the PyPI distribution `{result.dist}` "
                     f"(not `{result.subject}`).")
    for test in result.failing_tests[:20]:
        detail = f" — {shorten(test.message, 200)}" if test.message else ""
        lines.append(f"- failing: {test.id}{detail}")
    if len(result.failing_tests) > 20:
        lines.append(f"- … and {len(result.failing_tests) - 20} more")
    fix = result.fix
    if fix is not None and fix.kind != "none":
        argv = shlex.join(fix.argv) if fix.argv else ""
        template = _NEXT.get(fix.kind)
        if template is not None:
            step = template.format(where=_where(result), argv=argv)
        elif argv:
            state = "recoverd ran it" if fix.auto else "not run by recoverd"
            step = f"`{argv}` ({state})."
        else:
            step = fix.description or ""
        if fix.description and argv and fix.description not in step:
            step += f" {fix.description}"
        if step:
            lines.append(f"Next step: {step}")
    return shorten("\n".join(lines), LIMIT)
