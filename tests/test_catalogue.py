"""Every bundled entry's examples match and its near-misses do not; the loader names culprits."""

from __future__ import annotations

from pathlib import Path

import pytest

from recoverd import paths
from recoverd.pattern_files import load_file, load_layers
from recoverd.patterns import LoadReport

BUNDLED = paths.bundled_patterns_dir()
assert BUNDLED is not None, "the bundled patterns/ folder was not found"
CATALOGUE = load_layers([BUNDLED])
ENTRIES = {p.id: p for p in CATALOGUE.patterns}


def test_bundled_catalogue_loads_cleanly() -> None:
    assert CATALOGUE.report.errors == []
    assert len(ENTRIES) >= 15


@pytest.mark.parametrize("ident", sorted(ENTRIES))
def test_entry_examples_match(ident: str) -> None:
    pattern = ENTRIES[ident]
    assert pattern.examples, f"{ident} has no examples"
    for example in pattern.examples:
        assert pattern.matches(example), f"{ident}: example does not match: {example.output!r}"
    for miss in pattern.near_misses:
        assert not pattern.matches(miss), f"{ident}: near miss matches: {miss.output!r}"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = '''
[[pattern]]
id = "widget_broke"
class = "runtime_error"
regex = 'widget (?P<subject>\\w+) broke'
captures = { subject = "the widget" }
action = "report"
examples = [{ output = "widget gear broke", subject = "gear" }]
near_misses = ["widget broke"]
'''


def test_bad_entries_are_named_file_entry_key(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", '''
[[pattern]]
id = "bad_regex"
class = "runtime_error"
regex = "(unclosed"
action = "report"
examples = ["x"]

[[pattern]]
id = "bad_class"
class = "not_a_class"
regex = "x"
action = "report"
examples = ["x"]

[[pattern]]
id = "undocumented_group"
class = "runtime_error"
regex = "(?P<subject>x)"
action = "teleport"
examples = ["x"]

[[pattern]]
id = "example_fails"
class = "runtime_error"
regex = "abc"
action = "report"
examples = ["xyz"]
near_misses = ["abc"]
''')
    report = LoadReport()
    assert load_file(path, report) is None
    joined = "\n".join(report.errors)
    assert f"{path}:bad_regex:regex: invalid RE2 regex" in joined
    assert f"{path}:bad_class:class:" in joined
    assert f"{path}:undocumented_group:captures: group 'subject'" in joined
    assert f"{path}:undocumented_group:action:" in joined
    assert f"{path}:example_fails:examples: example 1 does not match" in joined
    assert f"{path}:example_fails:near_misses: near miss 1 matches" in joined


def test_unparseable_file_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.toml", "[[pattern]\nid = ")
    report = LoadReport()
    assert load_file(path, report) is None
    assert report.errors and report.errors[0].startswith(f"{path}: cannot read")


def test_catastrophic_regex_is_linear(tmp_path: Path) -> None:
    """`(a+)+$` takes Python's re minutes on 31 characters; RE2 must answer at once."""
    write(tmp_path, "evil.toml", '''
[[pattern]]
id = "evil"
class = "runtime_error"
regex = '(a+)+$'
action = "report"
examples = ["aaa"]
''')
    catalogue = load_layers([tmp_path])
    assert catalogue.report.errors == []
    assert catalogue.candidates("a" * 100_000 + "b") == []


def test_layers_override_by_id_and_disable(tmp_path: Path) -> None:
    bundled, user, project = tmp_path / "b", tmp_path / "u", tmp_path / "p"
    write(bundled, "base.toml", GOOD + GOOD.replace("widget_broke", "widget_other")
          .replace("broke'", "failed'").replace("gear broke", "gear failed")
          .replace('"widget broke"', '"widget failed"'))
    write(user, "mine.toml", GOOD.replace('class = "runtime_error"', 'class = "timeout"'))
    write(project, "proj.toml", 'disable = ["widget_other"]\n')
    merged = load_layers([bundled, user, project])
    assert merged.report.errors == []
    assert {p.id for p in merged.patterns} == {"widget_broke"}
    assert merged.by_id("widget_broke").cls == "timeout"  # type: ignore[union-attr]


def test_command_only_entries_need_their_exit_code(tmp_path: Path) -> None:
    write(tmp_path, "cmd.toml", '''
[[pattern]]
id = "grep_nothing"
class = "benign_nonzero_exit"
command = '(?:^|[|;&]\\s*)grep\\s'
exit_codes = [1]
action = "none"
examples = [{ output = "", command = "grep x f", exit_code = 1 }]
near_misses = [{ output = "", command = "grep x f", exit_code = 2 }]
''')
    assert load_layers([tmp_path]).report.errors == []
