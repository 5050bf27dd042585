"""Every labelled case of ../shared/corpus, delivered as Claude Code would, classified right.

Each case's files are rebuilt first (tests/corpus.py: `materialise`), since recoverd reads the
project (node_modules, pyproject.toml, the script's shebang) as it would in real use.

"Fully right" means: the class (or an acceptable one), the subject, the distribution, the
location's file/line/col, the failing test ids, and a fix of the labelled kind (or an
acceptable one) that is none of the fixes the label calls wrong.

Three views of the same run: one test per case that must be fully right (known misses are
listed below with the reason, and fail for real once they pass), one per case that must never
propose a fix the label calls wrong, and the score over all cases (≥ 95%)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from corpus import CASES_DIR, deliver, load_cases, materialise

from recoverd import events, paths
from recoverd.classifier import classify
from recoverd.dists import canonical
from recoverd.pattern_files import load_layers
from recoverd.patterns import PatternSet

if not CASES_DIR.is_dir():
    pytest.skip(f"no corpus at {CASES_DIR} (shared/ sits beside the repo)",
                allow_module_level=True)

CASES = load_cases()
IDS = [c["id"] for c in CASES]
PASS_RATE = 0.95

# Cases no output-reading classifier can get right, and why. Each is an expected failure that
# fails for real once it is classified right, so the list cannot go stale.
KNOWN_MISSES = {
    "tricky-long-output-then-missing-module":
        "the traceback is past Claude Code's 30,000-character capture window: the hook never "
        "sees it",
}


@pytest.fixture(scope="module")
def catalogue() -> PatternSet:
    loaded = load_layers([paths.bundled_patterns_dir()])
    assert not loaded.report.errors, loaded.report.errors
    return loaded


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case's files rebuilt under one folder, one sub-folder per case."""
    base = tmp_path_factory.mktemp("corpus")
    for case in CASES:
        materialise(case, base / case["id"])
    return base


def classify_case(case: dict[str, Any], catalogue: PatternSet, projects: Path) -> dict[str, Any]:
    payload = deliver(case, projects / case["id"])
    return classify(events.from_mapping(payload, {}), catalogue).to_json()


def _fix_matches(proposed: dict[str, Any], described: dict[str, Any]) -> bool:
    """Whether a proposed fix is the one a label describes (kind, then packages and argv)."""
    if proposed.get("kind") != described.get("kind"):
        return False
    if "packages" in described:
        wanted = {canonical(p) for p in described["packages"]}
        if not wanted <= {canonical(p) for p in proposed.get("packages", [])}:
            return False
    return "argv" not in described or proposed.get("argv") == described["argv"]


def misses(case: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """What differs from the label; empty when the classification is fully right."""
    want = case["expected"]
    found: list[str] = []
    classes = [want["class"], *want.get("acceptable_classes", [])]
    if got["class"] not in classes:
        found.append(f"class {got['class']!r}, want {classes}")
    if "subject" in want:
        subjects = [str(s) for s in [want["subject"], *want.get("acceptable_subjects", [])]]
        if str(got.get("subject", "")) not in subjects:
            found.append(f"subject {got.get('subject')!r}, want {subjects}")
    if "dist" in want:
        dists = [want["dist"], *want.get("acceptable_dists", [])]
        if canonical(got.get("dist", "")) not in {canonical(d) for d in dists}:
            found.append(f"dist {got.get('dist')!r}, want {dists}")
    if "location" in want:
        loc, wloc = got.get("location") or {}, want["location"]
        keys = ["file", "line"] + (["col"] if wloc.get("col") is not None else [])
        if any(loc.get(k) != wloc.get(k) for k in keys):
            found.append(f"location {loc}, want { {k: wloc.get(k) for k in keys} }")
    if "failing_tests" in want:
        ids = sorted(t["id"] for t in got.get("failing_tests", []))
        wanted = sorted(t["id"] for t in want["failing_tests"])
        if ids != wanted:
            found.append(f"failing tests {ids}, want {wanted}")
    fixes = [want["fix"], *want.get("acceptable_fixes", [])] if "fix" in want else []
    fix = got.get("fix") or {}
    if fixes and fix.get("kind") not in {f["kind"] for f in fixes}:
        found.append(f"fix kind {fix.get('kind')!r}, want {[f['kind'] for f in fixes]}")
    found += [f"proposes the wrong fix {w}" for w in want.get("wrong_fixes", [])
              if _fix_matches(fix, w)]
    return found


def check_case(case: dict[str, Any], catalogue: PatternSet, projects: Path,
               known_misses: dict[str, str]) -> None:
    """One case classified right; a known miss is an expected failure until it is right."""
    got = classify_case(case, catalogue, projects)
    found = misses(case, got)
    if case["id"] in known_misses:
        assert found, f"{case['id']} is right now: take it out of KNOWN_MISSES"
        pytest.xfail(known_misses[case["id"]])
    assert not found, got


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_is_classified_right(case: dict[str, Any], catalogue: PatternSet,
                                  projects: Path) -> None:
    check_case(case, catalogue, projects, KNOWN_MISSES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_never_proposes_a_wrong_fix(case: dict[str, Any], catalogue: PatternSet,
                                    projects: Path) -> None:
    fix = classify_case(case, catalogue, projects).get("fix") or {}
    for wrong in case["expected"].get("wrong_fixes", []):
        assert not _fix_matches(fix, wrong), f"proposed {fix}, labelled wrong: {wrong}"
    for candidate in fix.get("candidates", []):
        assert "sudo" not in candidate.get("argv", []), candidate


def check_score(label: str, cases: list[dict[str, Any]], catalogue: PatternSet,
                projects: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """At least PASS_RATE of the cases fully right; the misses are printed either way."""
    wrong = {}
    for case in cases:
        found = misses(case, classify_case(case, catalogue, projects))
        if found:
            wrong[case["id"]] = found
    right = len(cases) - len(wrong)
    report = "\n".join(f"  {ident}: {'; '.join(why)}" for ident, why in sorted(wrong.items()))
    with capsys.disabled():
        print(f"\n{label}: {right}/{len(cases)} fully right"
              + (f"; misses:\n{report}" if report else ""))
    assert right >= PASS_RATE * len(cases), f"{right}/{len(cases)}; misses:\n{report}"


def test_corpus_score(catalogue: PatternSet, projects: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    check_score("corpus", CASES, catalogue, projects, capsys)
