"""The project's own labelled cases (tests/cases), held to the same checks as the shared corpus.

Every case in tests/cases was captured by really running a small broken project (see
tests/capture/capture.py and its specs, which rebuild and re-capture them offline). They are
delivered to the classifier exactly as tests/test_corpus.py delivers the shared corpus
(tests/corpus.py: `deliver`, `materialise`), and judged by the same `misses`: class, subject,
dist, location, failing tests, fix kind and no wrong fix.

Three views, as for the shared corpus: one test per case that must be fully right, one per
case that must never propose a fix its label calls wrong, and the score over all cases
(≥ 95%). Cases recoverd gets wrong today are listed in KNOWN_MISSES with the reason; each
is an expected failure that fails for real once it is classified right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from corpus import OWN_CASES_DIR, load_cases, materialise
from test_corpus import (
    _fix_matches,
    catalogue,
    check_case,
    check_score,
    classify_case,
)

from recoverd.patterns import PatternSet

__all__ = ["catalogue"]  # the shared corpus's fixture, used here as is

CASES = load_cases(OWN_CASES_DIR)
IDS = [c["id"] for c in CASES]

# Cases the bundled catalogue gets wrong today, and why: findings for the pattern catalogue
# (entries that would fix most of them are proposed in the issue-4 report). Each one fails
# for real once it is classified right, so the list cannot go stale.
KNOWN_MISSES: dict[str, str] = {
    "own-go-no-go-mod":
        "Go 1.19's 'pattern ./...: directory prefix . does not contain main module' is not in "
        "the catalogue; it never names go.mod, so an entry would need a fixed subject",
    "own-py311-missing-typo-module":
        "classify alone (no environment) proposes `pip install reqeusts` for a misspelt "
        "import of the installed requests; the daemon's planner sees the environment and "
        "reports the typo instead (tests/test_recovery_plan.py::"
        "test_misspelt_name_of_an_installed_module_is_never_installed)",
    "own-py311-tomllib-error":
        "tomllib's '(at line 3, column 14)' is not read, and the file (pyproject.toml) is "
        "only in the script's source, not in the output",
    "own-shell-pipeline-missing-exit0":
        "a pipeline hides 'rg: command not found' behind wc's exit 0; "
        "bash_command_not_found is limited to exit 127 (its near-miss says so), so the "
        "success is taken at face value",
    "own-shell-pyenv-version-not-selected":
        "the pyenv shim lists the installed version that has python3.12; proposing to "
        "install a program is wrong, selecting the version is the fix",
}


# Of those, the ones where the fix proposed is one the label calls wrong (a safety finding).
KNOWN_WRONG_FIXES = {"own-py311-missing-typo-module"}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every own case's files rebuilt under one folder, one sub-folder per case."""
    base = tmp_path_factory.mktemp("own-cases")
    for case in CASES:
        materialise(case, base / case["id"])
    return base


def test_there_are_enough_own_cases() -> None:
    assert len(CASES) >= 100, f"only {len(CASES)} cases in {OWN_CASES_DIR}"
    assert all(c["id"].startswith("own-") for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_is_classified_right(case: dict[str, Any], catalogue: PatternSet,
                                  projects: Path) -> None:
    check_case(case, catalogue, projects, KNOWN_MISSES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_never_proposes_a_wrong_fix(case: dict[str, Any], catalogue: PatternSet,
                                    projects: Path) -> None:
    fix = classify_case(case, catalogue, projects).get("fix") or {}
    wrong_ones = [w for w in case["expected"].get("wrong_fixes", []) if _fix_matches(fix, w)]
    if case["id"] in KNOWN_WRONG_FIXES:
        assert wrong_ones, f"{case['id']} no longer proposes a wrong fix: take it out"
        pytest.xfail(KNOWN_MISSES[case["id"]])
    assert not wrong_ones, f"proposed {fix}, labelled wrong: {wrong_ones}"
    for candidate in fix.get("candidates", []):
        assert "sudo" not in candidate.get("argv", []), candidate


def test_own_cases_score(catalogue: PatternSet, projects: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    check_score("own cases", CASES, catalogue, projects, capsys)
