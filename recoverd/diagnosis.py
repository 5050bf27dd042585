"""The text Claude reads: short, specific, and marked as coming from recoverd."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from recoverd.classifier import Classification
from recoverd.text import shorten

if TYPE_CHECKING:
    from recoverd.plans import Plan
    from recoverd.recovery import Report

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
        if fix.candidates and not argv:
            # A missing program: how each package manager provides it. Suggestions only:
            # recoverd never installs system packages itself.
            ways = "; ".join(f"{c.get('manager', '?')}: `{shlex.join(c.get('argv', []))}`"
                             for c in fix.candidates[:5] if c.get("argv"))
            step = f"install it (not run by recoverd) — {ways}." if ways else step
        if step:
            lines.append(f"Next step: {step}")
    return shorten("\n".join(lines), LIMIT)


def _lines_without_next_step(result: Classification, command: str) -> list[str]:
    """The diagnosis, minus the generic next step: a recovery says what happens instead."""
    fix, result.fix = result.fix, None
    try:
        return render(result, command).splitlines()
    finally:
        result.fix = fix


def _argv(argv: list[str]) -> str:
    return shlex.join(argv) if argv else ""


def render_plan(result: Classification, command: str, plan: Plan) -> str:
    """A recovery recoverd did not run: why, and the exact command to run instead."""
    lines = _lines_without_next_step(result, command)
    lines.append(f"Not run by recoverd: {plan.reason}.".replace("..", "."))
    fix = plan.fix
    if fix.argv:
        lines.append(f"Next step: `{_argv(fix.argv)}`" + (f". {fix.description}"
                                                          if fix.description else ""))
    elif fix.description:
        lines.append(f"Next step: {fix.description}")
    return shorten("\n".join(lines), LIMIT)


def render_in_progress(result: Classification, command: str, plan: Plan) -> str:
    lines = _lines_without_next_step(result, command)
    lines.append(f"recoverd is running `{_argv(plan.fix.argv)}` in the background ({plan.reason})."
                 " Its result will come with your next command; no need to run it yourself.")
    return shorten("\n".join(lines), LIMIT)


def render_breaker(result: Classification, command: str, plan: Plan, failures: int,
                   first: bool) -> str:
    lines = _lines_without_next_step(result, command)
    if first:
        lines.append(f"recoverd ran `{_argv(plan.fix.argv)}` {failures} times recently and it did "
                     "not fix this failure, so it stops trying. Fix the cause by hand.")
    return shorten("\n".join(lines), LIMIT)


def render_report(result: Classification, command: str, report: Report) -> str:
    """What recoverd did: the install, its exit code, and the retried command's result."""
    plan, install, retried = report.plan, report.install, report.retried
    lines = _lines_without_next_step(result, command)
    if install is None:
        return render_plan(result, command, plan)
    if plan.purpose == "rerun":
        if install.ok:
            lines.append(f"recoverd re-ran only the failing tests (`{_argv(plan.fix.argv)}`): "
                         "they passed. Verdict: flaky (failed once, passed alone); look for "
                         "order dependence, shared state, timing or randomness.")
        else:
            state = "timed out" if install.timed_out else f"exit {install.exit_code}"
            again = set(report.still_failing or ())
            flaky = [t.id for t in result.failing_tests if again and t.name not in again]
            real = [t.id for t in result.failing_tests if t.id not in flaky]
            lines.append(f"recoverd re-ran only the failing tests (`{_argv(plan.fix.argv)}`): "
                         f"{state}.")
            if flaky and real:
                lines.append("Flaky (passed alone): " + ", ".join(flaky) + ".")
                lines.append("Real failures (failed again): " + ", ".join(real) + ".")
            else:
                lines.append("Verdict: a real failure, they failed again; fix the code or the "
                             "test.")
        return shorten("\n".join(lines), LIMIT)
    packages = ", ".join(plan.fix.packages)
    state = f"exit {install.exit_code}" if install.exit_code is not None else (
        "timed out" if install.timed_out else install.prompt and f"stopped at the prompt "
        f"`{install.prompt}`" or install.error or "did not finish")
    lines.append(f"recoverd ran `{_argv(plan.fix.argv)}` ({plan.reason}): {state}, "
                 f"{install.seconds:.1f}s" + (f", {install.attempts} attempts"
                                              if install.attempts > 1 else "") + ".")
    if not report.healed:
        lines.append("The install failed; its last lines:\n" + shorten(install.tail(15), 2500))
        return shorten("\n".join(lines), LIMIT)
    lines.append(f"Installed: {packages}." if packages else "Installed.")
    if retried is None:
        lines.append(f"Not retried ({plan.retry_reason}): run `{command}` again yourself.")
    else:
        verdict = "passed" if retried.exit_code == 0 else f"failed again (exit {retried.exit_code})"
        lines.append(f"Retried `{command}`: {verdict}. Last lines:\n"
                     + shorten(retried.tail(15), 3000))
    return shorten("\n".join(lines), LIMIT)


def render_syntax(result: Classification, command: str, source: str, check: object) -> str:
    """The syntax error with the offending lines from the file, and whether the language's own
    checker still finds it broken (a SyntaxCheck, or None when no checker was at hand)."""
    lines = render(result, command).splitlines()
    next_step = [line for line in lines if line.startswith("Next step:")]
    lines = [line for line in lines if not line.startswith("Next step:")]
    if source:
        lines.append(source)
    checker = getattr(check, "checker", "")
    if checker:
        if getattr(check, "still_broken", False):
            detail = getattr(check, "detail", "")
            lines.append(f"Confirmed: `{checker}` still reports it" + (f" ({detail})."
                                                                       if detail else "."))
        else:
            lines.append(f"`{checker}` now parses the file: it may already be fixed; run the "
                         "command again.")
    return shorten("\n".join(lines + next_step), LIMIT)
