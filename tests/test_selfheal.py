"""`recoverd analyze` and `recoverd fix`: references found with the documented severity,
strategy and confidence; fixes shown as a diff, applied with everything around them kept."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from selfheal_projects import (
    MODEL,
    NEW_MODEL,
    REFERENCE_PROJECT,
    git_init,
    snapshot,
    write_tree,
)

from recoverd import cli, references, selfheal

Row = tuple[str, str, str, str, float]  # where, severity, context, strategy, confidence

MODEL_ROWS: list[Row] = [
    ("config.yaml:1", "info", "comment", "replace", 0.8),
    ("config.yaml:2", "critical", "config_value", "replace", 0.9),
    ("config.yaml:4", "critical", "list_entry", "replace", 0.9),
    (".env:1", "critical", "config_value", "replace", 0.9),
    ("docker-compose.yml:4", "critical", "argument", "replace", 0.7),
    ("Dockerfile:2", "critical", "argument", "replace", 0.7),
    ("settings.json:3", "critical", "config_value", "replace", 0.9),
    ("settings.json:4", "critical", "literal", "replace", 0.85),
    ("app.py:1", "info", "docstring", "replace", 0.8),
    ("app.py:4", "critical", "literal", "replace", 0.85),
    ("app.py:5", "critical", "interpolated", "review", 0.3),
    ("app.py:6", "critical", "interpolated", "review", 0.3),
    ("app.py:7", "critical", "argument", "replace", 0.7),
    ("app.py:8", "critical", "embedded", "replace", 0.5),
    ("src/assistant/client.py:1", "high", "literal", "replace", 0.85),
    ("src/assistant/client.py:5", "info", "docstring", "replace", 0.8),
    ("scripts/pull.sh:3", "medium", "argument", "replace", 0.7),
    ("README.md:3", "low", "prose", "replace", 0.8),
    ("docs/models.md:1", "low", "prose", "replace", 0.6),  # upper case: -0.2
    ("legacy/old_client.py:1", "low", "literal", "replace", 0.85),
]

PACKAGE_PROJECT = {
    "requirements.txt": "requests>=2.31\nrich\n",
    "pyproject.toml": ('[project]\nname = "svc"\ndependencies = [\n    "requests>=2.31",\n'
                       '    "rich",\n]\n'),
    "app.py": "import requests\n",
    "src/svc/net.py": ("from requests.adapters import HTTPAdapter\nimport grequests\n"
                       "import requests_oauthlib\n\n\ndef get(url):\n"
                       "    return requests.get(url)\n"),
    "tests/test_net.py": "import requests\n",
    "scripts/setup.sh": "pip install requests\n",
    "docs/usage.md": "Install Requests first.\n",
    ".github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: pip install requests\n",
}
PACKAGE_ROWS: list[Row] = [
    ("requirements.txt:1", "critical", "list_entry", "replace", 0.7),  # >=2.31 was for requests
    ("pyproject.toml:4", "critical", "list_entry", "replace", 0.7),
    ("app.py:1", "critical", "import", "review", 0.4),
    ("src/svc/net.py:1", "high", "import", "review", 0.4),
    ("src/svc/net.py:7", "high", "code", "review", 0.3),
    ("tests/test_net.py:1", "medium", "import", "review", 0.4),
    ("scripts/setup.sh:1", "medium", "argument", "replace", 0.7),
    (".github/workflows/ci.yml:4", "medium", "argument", "replace", 0.7),
    ("docs/usage.md:1", "low", "prose", "replace", 0.6),
]

NODE_PROJECT = {
    "package.json": ('{\n  "name": "web",\n  "main": "lib/start.js",\n  "dependencies": {\n'
                     '    "left-pad": "^1.3.0",\n    "chalk": "^5.0.0"\n  }\n}\n'),
    "lib/start.js": "const pad = require('left-pad');\n// left-pad pads strings\n",
    "lib/util.js": "/* uses\n   left-pad */\nconst name = 'left-pad';\n",
}
NODE_ROWS: list[Row] = [
    ("package.json:5", "critical", "list_entry", "replace", 0.7),
    ("lib/start.js:1", "critical", "import", "review", 0.4),
    ("lib/util.js:3", "high", "literal", "replace", 0.85),
    ("lib/start.js:2", "info", "comment", "replace", 0.8),
    ("lib/util.js:2", "info", "comment", "replace", 0.8),
]


def _rows(analysis: references.Analysis) -> set[Row]:
    return {(f"{r.path}:{r.line}", r.severity, r.context, r.strategy, r.confidence)
            for r in analysis.references}


@pytest.mark.parametrize(("files", "resource", "replacement", "rows"), [
    (REFERENCE_PROJECT, MODEL, NEW_MODEL, MODEL_ROWS),
    (PACKAGE_PROJECT, "requests", "httpx", PACKAGE_ROWS),
    (NODE_PROJECT, "left-pad", "pad-left", NODE_ROWS),
], ids=["model", "python-package", "npm-package"])
def test_every_reference_with_its_severity_strategy_and_confidence(
        tmp_path: Path, files: dict[str, str], resource: str, replacement: str,
        rows: list[Row]) -> None:
    analysis = references.analyze(write_tree(tmp_path, files), resource, replacement)
    assert _rows(analysis) == set(rows)
    order = ["critical", "high", "medium", "low", "info"]
    severities = [order.index(r.severity) for r in analysis.references]
    assert severities == sorted(severities)  # most severe first


# One line each: (file, its text, expected context, confidence with the replacement).
PLACES = [
    ("a.yaml", f"  - {MODEL}  # the main one", "list_entry", 0.9),
    ("a.yaml", f'  - "{MODEL}"', "list_entry", 0.9),
    ("a.toml", f'model = "{MODEL}"  # default', "config_value", 0.9),
    ("a.toml", f'models = ["{MODEL}", "llama3:8b"]', "literal", 0.85),
    ("a.ini", f"model = {MODEL}", "config_value", 0.9),
    ("a.env", f'export OLLAMA_MODEL="{MODEL}"', "config_value", 0.9),
    ("a.yaml", f"prompt: use {MODEL} for code", "argument", 0.7),
    ("a.yaml", f"url: http://host/{MODEL}/x", "embedded", 0.5),
    ("a.yaml", f"cmd: ollama run ${{MODEL:-{MODEL}}}", "interpolated", 0.3),
    ("a.py", f'    "{MODEL}",  # kept', "list_entry", 0.9),
    ("a.py", f'x = "{{}}".format("{MODEL}")', "interpolated", 0.3),
    ("a.py", f'x = "%s" % "{MODEL}"', "interpolated", 0.3),
    ("a.py", f'x = importlib.import_module("{MODEL}")', "import", 0.4),
    ("a.js", f"const m = `${{base}}/{MODEL}`;", "interpolated", 0.3),
    ("a.js", f'const m = "{MODEL}";  // default', "literal", 0.85),
    ("a.js", f"import m from '{MODEL}';", "import", 0.4),
    ("a.ts", f"// {MODEL}", "comment", 0.8),
    ("a.sh", f"MODEL={MODEL}", "config_value", 0.9),
    ("a.sh", f'ollama pull "{MODEL}"', "literal", 0.85),
    ("Makefile", f"\tollama pull {MODEL}", "argument", 0.7),
    ("notes.unknown", f"uses {MODEL}", "argument", 0.6),  # no known type: -0.1
]


@pytest.mark.parametrize(("name", "line", "context", "confidence"), PLACES,
                         ids=[f"{n}:{c}:{i}" for i, (n, _, c, _) in enumerate(PLACES)])
def test_where_a_reference_stands(tmp_path: Path, name: str, line: str, context: str,
                                  confidence: float) -> None:
    write_tree(tmp_path, {name: line + "\n"})
    [ref] = references.analyze(tmp_path, MODEL, NEW_MODEL).references
    assert (ref.context, ref.confidence) == (context, confidence)


def test_a_module_marked_deprecated_is_low(tmp_path: Path) -> None:
    write_tree(tmp_path, {"src/old.py": f'# Deprecated: use new.py\nM = "{MODEL}"\n',
                          "src/new.py": f'import warnings\nM = "{MODEL}"  # not deprecated\n'})
    found = {r.path: r.severity for r in references.analyze(tmp_path, MODEL).references}
    assert found == {"src/old.py": "low", "src/new.py": "high"}


def test_a_large_file_with_many_references_is_quick(tmp_path: Path) -> None:
    lines = [f'X{i} = "{MODEL}"  # {MODEL}\n' for i in range(5000)]
    write_tree(tmp_path, {"big.py": "".join(lines)})
    started = time.monotonic()
    found = references.analyze(tmp_path, MODEL, NEW_MODEL).references
    assert len(found) == 10000 and time.monotonic() - started < 10


def test_without_a_replacement_list_entries_are_removed_and_the_rest_reviewed(
        tmp_path: Path) -> None:
    analysis = references.analyze(write_tree(tmp_path, PACKAGE_PROJECT), "requests")
    by_where = {f"{r.path}:{r.line}": (r.strategy, r.confidence) for r in analysis.references}
    assert by_where["requirements.txt:1"] == ("remove", 0.8)
    assert by_where["pyproject.toml:4"] == ("remove", 0.8)
    assert by_where["scripts/setup.sh:1"] == ("review", 0.0)
    assert by_where["app.py:1"] == ("review", 0.0)


def test_longer_names_are_not_references(tmp_path: Path) -> None:
    write_tree(tmp_path, {"models.yaml": f"a: {MODEL}-instruct\nb: deepseek-coder:33b\n"
                                         f"c: my-{MODEL}\nd: deepseek-coder\n"})
    assert references.analyze(tmp_path, MODEL).references == ()
    found = references.analyze(tmp_path, "deepseek-coder").references
    assert [(r.line, r.matched) for r in found] == [(4, "deepseek-coder")]  # not `:6.7b`, `:33b`


def test_binary_files_symlinks_vendored_trees_and_lockfiles_are_left_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"model: {MODEL}\n")
    project = write_tree(tmp_path / "p", {
        "model.bin": b"\x00\x01GGUF" + MODEL.encode() + b"\x00",
        "node_modules/x/index.js": f"'{MODEL}'\n",
        ".venv/lib/site.py": f"'{MODEL}'\n",
        "env2/pyvenv.cfg": "home = /usr\n", "env2/lib/a.py": f"'{MODEL}'\n",
        "vendor/lib.py": f"'{MODEL}'\n",
        "package-lock.json": f'{{"m": "{MODEL}"}}\n',
        "config.yaml": f"model: {MODEL}\n",
    })
    (project / "linked.yaml").symlink_to(outside)
    found = references.analyze(project, MODEL).references
    assert [r.path for r in found] == ["config.yaml"]


def test_git_tracked_files_by_default_every_file_on_request(tmp_path: Path) -> None:
    write_tree(tmp_path, {"config.yaml": f"model: {MODEL}\n"})
    git_init(tmp_path)
    write_tree(tmp_path, {"untracked.yaml": f"model: {MODEL}\n"})
    assert [r.path for r in references.analyze(tmp_path, MODEL).references] == ["config.yaml"]
    every = references.analyze(tmp_path, MODEL, tracked_only=False).references
    assert sorted(r.path for r in every) == ["config.yaml", "untracked.yaml"]


def test_analyze_command_json_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RECOVERD_HOME", str(tmp_path / "home"))
    project = write_tree(tmp_path / "p", REFERENCE_PROJECT)
    assert cli.main(["analyze", MODEL, NEW_MODEL, "--project", str(project), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["resource"] == MODEL and data["replacement"] == NEW_MODEL
    assert data["severity_counts"] == {"critical": 12, "high": 1, "medium": 1, "low": 3,
                                       "info": 3}
    assert {"path", "line", "severity", "context", "strategy", "confidence", "reason"} <= set(
        data["references"][0])
    assert cli.main(["analyze", MODEL, "--project", str(project)]) == 0
    table = capsys.readouterr().out
    assert f"{MODEL}: 20 references in 11 files" in table
    assert "config.yaml:2" in table and "config_value" in table
    assert not (tmp_path / "home").exists()  # analyze writes nothing


def test_fix_is_a_dry_run_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RECOVERD_HOME", str(tmp_path / "home"))
    project = write_tree(tmp_path / "p", REFERENCE_PROJECT)
    before = snapshot(project)
    assert cli.main(["fix", MODEL, NEW_MODEL, "--project", str(project)]) == 0
    out = capsys.readouterr().out
    assert "--- a/config.yaml\n+++ b/config.yaml\n" in out
    assert f"\n-model: {MODEL}\n" in out and f"\n+model: {NEW_MODEL}\n" in out
    assert "Would change 11 files (18 edits); 2 references skipped." in out
    assert "app.py:5 (interpolated): confidence 0.3 is below 0.5" in out
    assert snapshot(project) == before and not (tmp_path / "home").exists()


def test_fix_applies_only_what_is_sure_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RECOVERD_HOME", str(tmp_path / "home"))
    project = write_tree(tmp_path / "p", REFERENCE_PROJECT)
    assert cli.main(["fix", MODEL, NEW_MODEL, "--project", str(project), "--apply",
                     "--min-confidence", "0.6", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    app = (project / "app.py").read_text()
    assert f'MODEL = "{NEW_MODEL}"' in app and f'RUN = "ollama run {NEW_MODEL}"' in app
    assert f"library/{MODEL}/blobs" in app  # embedded, 0.5 < 0.6: skipped
    assert f'PROMPT = f"ask {MODEL}' in app  # interpolated: review by hand
    skipped = {(s["path"], s["line"]) for s in result["skipped"]}
    assert skipped == {("app.py", 5), ("app.py", 6), ("app.py", 8)}
    assert (project / "config.yaml").read_text().count(NEW_MODEL) == 3
    assert (project / "docs/models.md").read_text().startswith(NEW_MODEL)  # case 0.6 ≥ 0.6
    assert result["backup"] and sorted(result["applied"]) == sorted(REFERENCE_PROJECT)


def test_fix_keeps_encoding_line_endings_and_mode(tmp_path: Path) -> None:
    latin = f"# caf\xe9 config\r\nmodel: {MODEL}\r\nnote: d\xe9j\xe0 vu\r\n".encode("latin-1")
    bom = b"\xef\xbb\xbf" + f"model: {MODEL}\nna\u00efve: \u2713\n".encode()
    utf16 = "\ufeff" + f"model: {MODEL}\r\n"
    project = write_tree(tmp_path, {"latin.yaml": latin, "bom.yaml": bom,
                                    "utf16.yaml": utf16.encode("utf-16-le"),
                                    "run.sh": f"#!/bin/sh\nollama run {MODEL}\n"},
                         modes={"run.sh": 0o755, "latin.yaml": 0o600})
    fix_plan = selfheal.plan(project, MODEL, NEW_MODEL)
    result = selfheal.apply(fix_plan, tmp_path / "backups")
    assert sorted(result.applied) == ["bom.yaml", "latin.yaml", "run.sh", "utf16.yaml"]
    swap = (MODEL.encode(), NEW_MODEL.encode())
    assert (project / "latin.yaml").read_bytes() == latin.replace(*swap)
    assert (project / "bom.yaml").read_bytes() == bom.replace(*swap)
    assert (project / "utf16.yaml").read_bytes() == utf16.replace(MODEL, NEW_MODEL).encode(
        "utf-16-le")
    assert os.stat(project / "run.sh").st_mode & 0o7777 == 0o755
    assert os.stat(project / "latin.yaml").st_mode & 0o7777 == 0o600


def test_a_file_the_replacement_cannot_be_written_in_is_left_alone(tmp_path: Path) -> None:
    latin = f"model: {MODEL}\nname: caf\xe9\n".encode("latin-1")
    write_tree(tmp_path, {"latin.yaml": latin, "utf8.yaml": f"model: {MODEL}\n"})
    fix_plan = selfheal.plan(tmp_path, MODEL, "modèle:1b")
    assert [f.path for f in fix_plan.changes] == ["utf8.yaml"]
    assert [s.why for s in fix_plan.skipped] == [
        "'modèle:1b' cannot be written in this latin-1 file"]


def test_an_edit_that_would_break_the_syntax_is_skipped(tmp_path: Path) -> None:
    package = ('{\n  "dependencies": {\n    "chalk": "^5.0.0",\n    "left-pad": "^1.3.0"\n'
               '  }\n}\n')
    requirements = "left-pad-tools\nleft-pad==1.0\n"
    write_tree(tmp_path, {"package.json": package, "requirements.txt": requirements})
    fix_plan = selfheal.plan(tmp_path, "left-pad", None)  # no replacement: remove list entries
    assert [f.path for f in fix_plan.changes] == ["requirements.txt"]
    assert fix_plan.changes[0].new_text == "left-pad-tools\n"
    why = {s.reference.path: s.why for s in fix_plan.skipped}
    assert why == {"package.json": "the edited file would no longer parse as json"}


def test_removal_keeps_valid_json_when_it_can(tmp_path: Path) -> None:
    package = ('{\n  "dependencies": {\n    "left-pad": "^1.3.0",\n    "chalk": "^5.0.0"\n'
               '  }\n}\n')
    write_tree(tmp_path, {"package.json": package})
    selfheal.apply(selfheal.plan(tmp_path, "left-pad", None), tmp_path / "b")
    assert json.loads((tmp_path / "package.json").read_text()) == {
        "dependencies": {"chalk": "^5.0.0"}}
