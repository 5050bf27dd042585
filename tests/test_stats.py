"""Stats from a fixture history whose figures are worked out by hand below. `fill` and
`EXPECTED_*` are reused by test_redis_store: both backends must give the same figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from recoverd import pattern_files, patterns, signatures, stats
from recoverd.classifier import classify
from recoverd.events import Event
from recoverd.outcomes import Outcome, OutcomeStore, StoreError
from recoverd.store import Store

DAY = 86400.0
T0 = 1_700_000_000.0
NOW = T0 + 1000
TTL = 30 * DAY
MODULE = ("missing_python_module", "python_module_not_found")
UNKNOWN_OUTPUTS = {
    "alpha": "Starting frobnicator 2.1\nloading shards from /var/lib/frob/data\n"
             "frobnicator: error: shard alpha lost quorum, leader gone\n",
    "beta": "Starting frobnicator 2.3\nfrobnicator: error: shard beta lost quorum, leader gone\n",
    "gamma": "frobnicator: error: shard gamma lost quorum, leader gone\nbye\n",
    "disk": "kernel: disk sdb refused the write request politely\n",
    "ghost": "ghost error appeared in the machine\n",
}


def unknown_sig(name: str) -> signatures.Signature:
    return signatures.signature("unknown", "", UNKNOWN_OUTPUTS[name])


def fill(s: OutcomeStore) -> None:
    """The fixture history: twelve live records, two expired ones, one credit."""
    def add(at: float, cls: str, pattern: str, outcome: str, project: str = "/p/one",
            recovery_ms: float | None = None, command: str = "python app.py",
            output: str = "") -> None:
        sig = signatures.signature(cls, pattern, output or f"{cls} failure")
        s.record(Outcome(project=project, signature=sig.id, template=sig.template, cls=cls,
                         pattern=pattern, outcome=outcome, recovery_ms=recovery_ms,
                         command=command, example=output), at)

    add(T0 - 31 * DAY, *MODULE, "failed", recovery_ms=9000)  # expired before NOW
    add(T0 - 30 * DAY, "unknown", "", "none", output=UNKNOWN_OUTPUTS["ghost"])  # expired too
    add(T0 + 10, *MODULE, "healed", recovery_ms=1000)
    add(T0 + 20, *MODULE, "failed", recovery_ms=3000)
    add(T0 + 30, *MODULE, "healed", recovery_ms=2000)
    add(T0 + 40, *MODULE, "suggested", command="python tool.py")
    assert s.credit("/p/one", "python tool.py", T0 + 45) is not None  # suggested → healed
    add(T0 + 50, "missing_python_module", "pip_no_module", "healed", recovery_ms=500)
    add(T0 + 60, "test_failure", "pytest_failures", "failed", recovery_ms=4000)
    add(T0 + 70, "test_failure", "pytest_failures", "skipped")
    add(T0 + 80, *MODULE, "healed", project="/p/two", recovery_ms=4000)
    for i, name in enumerate(("alpha", "beta", "gamma", "disk")):
        add(T0 + 90 + 10 * i, "unknown", "", "none", project="/p/two",
            output=UNKNOWN_OUTPUTS[name])


def figures(cls: str, pattern: str, count: int, healed: int, failed: int,
            median: float | None, last: float) -> stats.Figures:
    judged = healed + failed
    return stats.Figures(cls, pattern, count, healed, failed,
                         healed / judged if judged else None, median, T0 + last,
                         T0 + last + TTL)


# By hand. python_module_not_found: records at +10 healed 1000 ms, +20 failed 3000, +30 healed
# 2000, +40 suggested then credited (healed, no time), +80 healed 4000 (p/two) → 5 records,
# 4 healed, 1 failed, times 1000 2000 3000 4000 → median 2500. The class adds pip_no_module's
# +50 healed 500 → 6 records, 5 healed, times 500 1000 2000 3000 4000 → median 2000.
EXPECTED_CLASSES = (
    figures("missing_python_module", "", 6, 5, 1, 2000.0, 80),
    figures("unknown", "", 4, 0, 0, None, 120),
    figures("test_failure", "", 2, 0, 1, 4000.0, 70),
)
EXPECTED_PATTERNS = (
    figures(*MODULE, 5, 4, 1, 2500.0, 80),
    figures("unknown", "", 4, 0, 0, None, 120),
    figures("test_failure", "pytest_failures", 2, 0, 1, 4000.0, 70),
    figures("missing_python_module", "pip_no_module", 1, 1, 0, 500.0, 50),
)
# /p/one alone: +10 +20 +30 +40 → 4 records, 3 healed, 1 failed, median of 1000 3000 2000.
EXPECTED_PROJECT_ONE = figures(*MODULE, 4, 3, 1, 2000.0, 40)


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "store.sqlite3", ttl_seconds=TTL) as s:
        fill(s)
        yield s


def check_figures(s: OutcomeStore) -> None:
    result = stats.compute(s, NOW)
    assert result.total == 12
    assert result.classes == EXPECTED_CLASSES
    assert result.patterns == EXPECTED_PATTERNS
    one = stats.compute(s, NOW, project="/p/one")
    assert one.total == 7 and one.patterns[0] == EXPECTED_PROJECT_ONE
    late = stats.compute(s, NOW, since=T0 + 60)
    assert [(f.cls, f.count) for f in late.classes] == [
        ("unknown", 4), ("test_failure", 2), ("missing_python_module", 1)]
    # The three frobnicator variants are one recurring failure; the ghost has expired.
    alpha, beta, gamma, disk = (unknown_sig(n) for n in ("alpha", "beta", "gamma", "disk"))
    assert [(u.signature, u.template, u.count, u.last_seen, u.members)
            for u in result.unknown] == [
        (alpha.id, "frobnicator: error: shard <*> lost quorum, leader gone", 3, T0 + 110,
         (alpha.id, beta.id, gamma.id)),
        (disk.id, disk.template, 1, T0 + 120, (disk.id,)),
    ]
    assert result.unknown[0].example == UNKNOWN_OUTPUTS["alpha"].strip("\n")
    assert stats.compute(s, NOW, project="/p/one").unknown == ()
    # Later still, everything has expired: honest figures are no figures.
    assert stats.compute(s, T0 + 200 + TTL).total == 0


def test_figures_equal_the_hand_computed_ones(filled: Store) -> None:
    check_figures(filled)


def test_to_json_is_json(filled: Store) -> None:
    data = json.loads(json.dumps(stats.compute(filled, NOW).to_json()))
    assert data["total"] == 12
    assert data["patterns"][0] == {
        "class": "missing_python_module", "pattern": "python_module_not_found", "count": 5,
        "healed": 4, "failed": 1, "heal_rate": 0.8, "median_recovery_ms": 2500.0,
        "last_seen": T0 + 80, "expires_at": T0 + 80 + TTL}
    assert data["unknown"][0]["count"] == 3 and data["unknown"][0]["example"]


def check_suggest_pattern(s: OutcomeStore, tmp_path: Path) -> None:
    draft = stats.suggest_pattern(s, unknown_sig("beta").id, NOW)
    path = tmp_path / "draft.toml"
    path.write_text(draft, encoding="utf-8")
    report = patterns.LoadReport()
    loaded = pattern_files.load_file(path, report)
    assert report.errors == [] and loaded is not None, (report.errors, draft)
    (pattern,), _ = loaded
    assert pattern.id == "draft_" + unknown_sig("alpha").id[:8]
    assert len(pattern.examples) == 3 and all(pattern.matches(e) for e in pattern.examples)
    # The draft names a fourth variant it has never seen.
    event = Event(command="frob run", cwd=str(tmp_path), exit_code=1, kind="failure",
                  source="generic",
                  output="frobnicator: error: shard delta lost quorum, leader gone")
    result = classify(event, patterns.build([pattern], report))
    assert result.pattern == pattern.id
    with pytest.raises(StoreError, match="already names"):
        stats.suggest_pattern(s, signatures.signature(*MODULE, "missing_python_module "
                                                      "failure").id, NOW)
    with pytest.raises(StoreError, match="no unexpired record"):
        stats.suggest_pattern(s, unknown_sig("ghost").id, NOW)


def test_suggest_pattern_drafts_an_entry_that_loads_and_matches(filled: Store,
                                                                tmp_path: Path) -> None:
    check_suggest_pattern(filled, tmp_path)


def test_a_draft_with_paths_lines_and_quotes_loads(tmp_path: Path) -> None:
    output = 'compiling\nerror: /src/a/b.c:12:5: widget "left pad" exploded after 30ms\n'
    with Store.open(tmp_path / "s.sqlite3") as s:
        sig = signatures.signature("unknown", "", output)
        s.record(Outcome(project="/p", signature=sig.id, template=sig.template, cls="unknown",
                         outcome="none", example=output), NOW)
        path = tmp_path / "draft.toml"
        path.write_text(stats.suggest_pattern(s, sig.id, NOW), encoding="utf-8")
    report = patterns.LoadReport()
    loaded = pattern_files.load_file(path, report)
    assert loaded is not None, report.errors
    (pattern,), _ = loaded
    assert set(pattern.captures) == {"file", "line", "col", "subject"}
    assert pattern.matches(patterns.Example(output, expect={
        "file": "/src/a/b.c", "line": "12", "col": "5", "subject": "left pad"}))


def test_toml_string_escapes_what_toml_requires() -> None:
    import tomllib

    text = 'a "q" \\ back\nline\ttab \x01 \x7f ünï'
    assert tomllib.loads(f"v = {stats.toml_string(text)}")["v"] == text
    for regex in (r"^a\s+'(?P<subject>[^'\n]*)'", r"^[ \t]*x\d+"):
        assert tomllib.loads(f"v = {stats.toml_literal(regex)}")["v"] == regex
