"""The classifier's behaviours: how the best entry is chosen, what survives Claude Code's
delivery (colour, CRLF, the head-and-tail cut, lossy decoding), and what captures become
(locations, failing tests, npm packages, Python distributions, fixes)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from corpus import error_text

from recoverd import commands, events, paths
from recoverd.classifier import classify
from recoverd.pattern_files import load_layers
from recoverd.patterns import PatternSet


@pytest.fixture(scope="module")
def catalogue() -> PatternSet:
    loaded = load_layers([paths.bundled_patterns_dir()])
    assert not loaded.report.errors, loaded.report.errors
    return loaded


def failure(output: str, command: str = "run", exit_code: int = 1,
            cwd: str | Path = "") -> events.Event:
    """A failed Bash call exactly as Claude Code reports it (cut included)."""
    return events.from_mapping({
        "hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "cwd": str(cwd),
        "tool_input": {"command": command}, "error": error_text(exit_code, output),
    }, {})


def success(output: str, command: str = "run") -> events.Event:
    return events.from_mapping({
        "hook_event_name": "PostToolUse", "tool_name": "Bash", "cwd": "",
        "tool_input": {"command": command}, "tool_response": {"stdout": output, "stderr": ""},
    }, {})


def judge(catalogue: PatternSet, output: str, **kwargs: Any) -> dict[str, Any]:
    return classify(failure(output, **kwargs), catalogue).to_json()


def custom(tmp_path: Path, text: str) -> PatternSet:
    folder = tmp_path / "patterns"
    folder.mkdir(exist_ok=True)
    (folder / "t.toml").write_text(textwrap.dedent(text), encoding="utf-8")
    loaded = load_layers([folder])
    assert not loaded.report.errors, loaded.report.errors
    return loaded


MISSING_YAML = ("Traceback (most recent call last):\n  File \"/w/app.py\", line 1, in <module>\n"
                "    import yaml\nModuleNotFoundError: No module named 'yaml'\n")


# --- choosing the entry ------------------------------------------------------------------

TWO_ENTRIES = """
    [[pattern]]
    id = "low"
    class = "runtime_error"
    regex = '''^boom (?P<subject>\\w+)$'''
    captures = { subject = "x" }
    priority = %d
    [[pattern.examples]]
    output = "boom a"

    [[pattern]]
    id = "high"
    class = "file_not_found"
    regex = '''^gone (?P<subject>\\w+)$'''
    captures = { subject = "x" }
    priority = 50
    [[pattern.examples]]
    output = "gone a"
"""


def test_higher_priority_wins_over_a_later_match(tmp_path: Path) -> None:
    patterns = custom(tmp_path, TWO_ENTRIES % 40)
    result = classify(failure("gone first\nboom second\n"), patterns)
    assert (result.pattern, result.subject) == ("high", "first")


def test_equal_priority_goes_to_the_later_match(tmp_path: Path) -> None:
    patterns = custom(tmp_path, TWO_ENTRIES % 50)
    assert classify(failure("gone first\nboom second\n"), patterns).pattern == "low"
    assert classify(failure("boom first\ngone second\n"), patterns).pattern == "high"


def test_an_entry_reads_its_last_match(catalogue: PatternSet) -> None:
    output = MISSING_YAML.replace("yaml", "attr") + "During handling\n" + MISSING_YAML
    assert judge(catalogue, output)["subject"] == "yaml"


def test_a_compiler_entry_reports_the_first_error(catalogue: PatternSet) -> None:
    output = ("src/a.ts(4,7): error TS2322: Type 'string' is not assignable to type 'number'.\n"
              "src/a.ts(9,1): error TS2345: Argument of type 'string' is not assignable.\n")
    got = judge(catalogue, output, command="npx tsc --noEmit", exit_code=2)
    assert got["subject"] == "TS2322" and got["location"]["line"] == 4


def test_exit_zero_is_judged_only_by_entries_that_list_zero(catalogue: PatternSet) -> None:
    assert classify(success(MISSING_YAML), catalogue).cls == "no_error"
    crlf = "deploy.sh: line 2: $'\\r': command not found\ndone\n"
    got = classify(success(crlf, "bash deploy.sh"), catalogue).to_json()
    assert got["class"] == "crlf_line_endings" and got["subject"] == "deploy.sh"


def test_unknown_output_is_unknown_with_a_report(catalogue: PatternSet) -> None:
    got = judge(catalogue, "something odd happened\n")
    assert got["class"] == "unknown" and got["fix"]["kind"] == "report"


def test_alternatives_name_their_subject_groups(catalogue: PatternSet) -> None:
    got = judge(catalogue, 'Usage Error: Couldn\'t find a script named "tset".\n',
                command="yarn tset")
    assert (got["class"], got["subject"]) == ("npm_missing_script", "tset")


# --- what survives delivery ----------------------------------------------------------------

def test_ansi_colour_is_ignored(catalogue: PatternSet) -> None:
    output = ("\x1b[31mFAILED\x1b[0m test_mean.py::\x1b[1mtest_mean\x1b[0m - assert 2.5 == 2\n"
              "\x1b[31m==== \x1b[31m\x1b[1m1 failed\x1b[0m\x1b[31m in 0.16s\x1b[0m\x1b[31m ====\x1b[0m\n")
    got = judge(catalogue, output, command="python -m pytest --color=yes")
    assert [t["id"] for t in got["failing_tests"]] == ["test_mean.py::test_mean"]


def test_python_313_forced_colour_traceback(catalogue: PatternSet) -> None:
    output = ("Traceback (most recent call last):\n"
              "  File \x1b[35m\"/w/clock.py\"\x1b[0m, line \x1b[35m4\x1b[0m, in \x1b[35mstamp\x1b[0m\n"
              "    return \x1b[1;31mdatetim\x1b[0m.now()\n"
              "\x1b[1;35mNameError\x1b[0m: \x1b[35mname 'datetim' is not defined. Did you mean: "
              "'datetime'?\x1b[0m\n")
    got = judge(catalogue, output, command="python clock.py", cwd="/w")
    assert (got["class"], got["subject"]) == ("runtime_error", "datetim")
    assert got["location"] == {"file": "clock.py", "line": 4, "col": None}


def test_crlf_output_reads_like_lf(catalogue: PatternSet) -> None:
    got = judge(catalogue, MISSING_YAML.replace("\n", "\r\n"), command="python app.py")
    assert (got["class"], got["subject"], got["dist"]) == ("missing_python_module", "yaml",
                                                           "PyYAML")


def test_a_carriage_return_at_a_line_end_still_means_crlf(catalogue: PatternSet) -> None:
    output = "hi\r\ncrlf.sh: 3: cd: can't cd to src\r\n"  # dash running a CRLF script
    got = judge(catalogue, output, command="sh crlf.sh", exit_code=2)
    assert (got["class"], got["subject"]) == ("crlf_line_endings", "crlf.sh")
    assert got["fix"]["argv"] == ["sed", "-i", "s/\\r$//", "crlf.sh"]


def test_deciding_line_in_the_head_of_a_cut_output(catalogue: PatternSet) -> None:
    noise = "".join(f"[info] step {i} ok (0 errors)\n" for i in range(500))
    event = failure(MISSING_YAML + noise, command="python app.py")
    assert event.truncated_chars > 0
    assert classify(event, catalogue).subject == "yaml"


def test_deciding_line_in_the_tail_of_a_cut_output(catalogue: PatternSet) -> None:
    noise = "".join(f"[warning] step {i} ok (0 errors)\n" for i in range(500))
    event = failure(noise + MISSING_YAML, command="python app.py")
    assert event.truncated_chars > 0
    assert classify(event, catalogue).subject == "yaml"


def test_block_buffered_stdout_after_the_traceback(catalogue: PatternSet) -> None:
    output = MISSING_YAML + "loading config\nstep 1 done\nstep 2 done\n"
    assert judge(catalogue, output, command="python app.py")["subject"] == "yaml"


def test_non_utf8_output_decoded_lossily(catalogue: PatternSet) -> None:
    lossy = b"Jos\xe9;S\xe3o Paulo\n".decode("utf-8", "replace")
    got = judge(catalogue, lossy + "cat: missing.csv: No such file or directory\n",
                command="cat legacy.csv missing.csv")
    assert (got["class"], got["subject"]) == ("file_not_found", "missing.csv")


# --- where ---------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "def f():\n    if x:\n        y = (1,\n    return 2\n",
    "class A:\n    def m(self):\n        return [1, 2\n",
    "x = {'a': 1 'b': 2}\n",
    "def g():\n        x = 1\n    y = 2\n",
    "def area(w, h):\n    result = w * h\n        return result\n",
])
def test_python_column_is_the_syntax_error_offset(catalogue: PatternSet, tmp_path: Path,
                                                  source: str) -> None:
    """Real output of this interpreter; the column read off the caret (3.11+ prints no
    column) must be the offset Python itself computed."""
    script = tmp_path / "bad.py"
    script.write_text(source, encoding="utf-8")
    with pytest.raises(SyntaxError) as error:
        compile(source, str(script), "exec")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=False)
    got = judge(catalogue, run.stderr, command="python bad.py", cwd=tmp_path)
    assert got["class"] == "syntax_error"
    assert got["location"] == {"file": "bad.py", "line": error.value.lineno,
                               "col": error.value.offset}


def test_pytest_collection_syntax_error_location(catalogue: PatternSet) -> None:
    output = ('E     File "/w/tests/test_c.py", line 1\nE       def test_c(:\n'
              'E                  ^\nE   SyntaxError: invalid syntax\n'
              "ERROR tests/test_c.py\n1 error in 0.25s\n")
    got = judge(catalogue, output, command="pytest", exit_code=2, cwd="/w")
    assert got["location"] == {"file": "tests/test_c.py", "line": 1, "col": 12}


def test_node_caret_and_missing_paren(catalogue: PatternSet) -> None:
    plain = "/w/m.js:4\n  b: 2\n  ^\n\nSyntaxError: Unexpected identifier 'b'\n"
    assert judge(catalogue, plain, cwd="/w")["location"] == {"file": "m.js", "line": 4,
                                                             "col": 3}
    paren = ("/w/s2.js:1\nconsole.log(a, barbaz;\n               ^^^^^^\n\n"
             "SyntaxError: missing ) after argument list\n")
    assert judge(catalogue, paren, cwd="/w")["location"]["col"] == 22  # after `barbaz`


def test_esm_file_url_becomes_a_relative_path(catalogue: PatternSet) -> None:
    output = "file:///w/src/m.mjs:3\nconsole.log(total);\n            ^\n\nReferenceError: total is not defined\n"
    got = judge(catalogue, output, command="node src/m.mjs", cwd="/w")
    assert got["variant"] == "node_ReferenceError"
    assert got["location"]["file"] == "src/m.mjs"


def test_json_offset_becomes_line_and_column(catalogue: PatternSet, tmp_path: Path) -> None:
    data = tmp_path / "config.json"
    data.write_text('{\n  "a": 1\n  "b": 2\n}\n', encoding="utf-8")
    output = f"SyntaxError: {data}: Expected ',' or '}}' after property value in JSON at position 13\n"
    got = judge(catalogue, output, command="node read.js", cwd=tmp_path)
    assert got["location"] == {"file": "config.json", "line": 3, "col": 3}


def test_json_file_named_only_in_the_command(catalogue: PatternSet) -> None:
    output = "json.decoder.JSONDecodeError: Expecting ',' delimiter: line 4 column 3 (char 36)\n"
    got = judge(catalogue, output, command="python -c \"import json; json.load(open('cfg.json'))\"")
    assert got["location"] == {"file": "cfg.json", "line": 4, "col": 3}
    assert got["subject"] == "cfg.json"


def test_runtime_error_points_at_the_project_frame(catalogue: PatternSet) -> None:
    output = ('Traceback (most recent call last):\n  File "/w/app.py", line 7, in <module>\n'
              "    main()\n"
              '  File "/w/.venv/lib/python3.12/site-packages/click/core.py", line 1157, in main\n'
              "    rv = self.invoke(ctx)\nValueError: bad value\n")
    got = judge(catalogue, output, command="python app.py", cwd="/w")
    assert (got["class"], got["variant"]) == ("runtime_error", "python_ValueError")
    assert got["location"] == {"file": "app.py", "line": 7, "col": None}


# --- which tests ---------------------------------------------------------------------------

def test_unittest_ids_are_dotted_on_every_version(catalogue: PatternSet) -> None:
    output = ("FAIL: test_add (test_calc.TestCalc)\n" + "-" * 70 + "\n"
              "Traceback (most recent call last):\n  File \"/w/test_calc.py\", line 4\n\n"
              "ERROR: test_err (test_calc.TestCalc.test_err)\n" + "-" * 70 + "\n\n"
              "FAILED (failures=1, errors=1)\n")
    got = judge(catalogue, output, command="python -m unittest", cwd="/w")
    assert [(t["id"], t["name"]) for t in got["failing_tests"]] == [
        ("test_calc.TestCalc.test_add", "test_add"), ("test_calc.TestCalc.test_err", "test_err")]
    assert got["fix"]["argv"][-2:] == ["test_calc.TestCalc.test_add", "test_calc.TestCalc.test_err"]


def test_node_tap_reports_leaves_not_their_suite(catalogue: PatternSet) -> None:
    output = ("# Subtest: suite\n    # Subtest: inner fails\n    not ok 2 - inner fails\n"
              "      ---\n      duration_ms: 0.12\n      location: '/w/t/m.test.js:8:3'\n"
              "      failureType: 'testCodeFailure'\n      ...\nnot ok 3 - suite\n  ---\n"
              "  duration_ms: 0.7\n  type: 'suite'\n  location: '/w/t/m.test.js:6:1'\n"
              "  failureType: 'subtestsFailed'\n  ...\n# pass 2\n# fail 1\n")
    got = judge(catalogue, output, command="node --test", cwd="/w")
    assert got["failing_tests"] == [{"id": "inner fails", "file": "t/m.test.js",
                                     "name": "inner fails"}]


def test_go_subtests_replace_their_parent(catalogue: PatternSet) -> None:
    output = ("--- FAIL: TestTable (0.00s)\n    --- FAIL: TestTable/bad (0.00s)\n"
              "        main_test.go:15: boom\nFAIL\nFAIL\texample.com/app\t0.003s\n")
    got = judge(catalogue, output, command="go test ./...")
    assert [t["id"] for t in got["failing_tests"]] == ["TestTable/bad"]
    assert got["fix"]["argv"] == ["go", "test", "-run", "^(TestTable)$", "./..."]


def test_a_runner_report_outranks_errors_inside_its_tests(catalogue: PatternSet) -> None:
    output = ("E       FileNotFoundError: [Errno 2] No such file or directory: 'fixtures/a.csv'\n"
              "FAILED tests/test_io.py::test_load - FileNotFoundError: [Errno 2] No such file\n"
              "1 failed, 3 passed in 0.21s\n")
    got = judge(catalogue, output, command="pytest")
    assert got["class"] == "test_failure"
    assert [t["id"] for t in got["failing_tests"]] == ["tests/test_io.py::test_load"]


def test_what_stops_tests_from_running_outranks_the_report(catalogue: PatternSet) -> None:
    output = ("E   ModuleNotFoundError: No module named 'freezegun'\n"
              "ERROR tests/test_clock.py\n1 error in 0.12s\n")
    got = judge(catalogue, output, command="pytest", exit_code=2)
    assert (got["class"], got["dist"]) == ("missing_python_module", "freezegun")


def test_cargo_test_file_comes_from_the_panic(catalogue: PatternSet) -> None:
    output = ("test tests::it_doubles ... FAILED\n\n---- tests::it_doubles stdout ----\n"
              "thread 'tests::it_doubles' panicked at src/lib.rs:20:9:\nassertion failed\n\n"
              "test result: FAILED. 1 passed; 1 failed; 0 ignored\n")
    got = judge(catalogue, output, command="cargo test", exit_code=101)
    assert got["failing_tests"] == [{"id": "tests::it_doubles", "file": "src/lib.rs",
                                     "name": "it_doubles"}]
    assert got["fix"]["argv"] == ["cargo", "test", "tests::it_doubles"]


def test_jest_names_tests_under_their_file(catalogue: PatternSet) -> None:
    output = ("FAIL src/sum.test.js\n  ● Console\n\n    console.log\n\n"
              "  ● sum › adds negatives\n\n    expect(received).toBe(expected)\n\n"
              "Tests:       1 failed, 2 passed, 3 total\n")
    got = judge(catalogue, output, command="npx jest")
    assert got["failing_tests"] == [{"id": "sum › adds negatives", "file": "src/sum.test.js",
                                     "name": "adds negatives"}]


def test_mocha_titles_over_several_lines(catalogue: PatternSet) -> None:
    output = ("  1 passing (21ms)\n  1 failing\n\n  1) Array\n       #indexOf()\n"
              "         returns -1 when absent:\n      AssertionError: 1 !== -1\n")
    got = judge(catalogue, output, command="npx mocha")
    assert [t["id"] for t in got["failing_tests"]] == ["Array #indexOf() returns -1 when absent"]


# --- npm packages --------------------------------------------------------------------------

def cjs_missing(spec: str, importer: str = "/w/index.js") -> str:
    return f"Error: Cannot find module '{spec}'\nRequire stack:\n- {importer}\n"


@pytest.mark.parametrize("spec, package", [
    ("lodash/merge", "lodash"), ("@aws-sdk/client-s3/dist-cjs", "@aws-sdk/client-s3"),
    ("express", "express"), ("@scope/pkg", "@scope/pkg"),
])
def test_subpath_dropped_scope_kept(catalogue: PatternSet, spec: str, package: str) -> None:
    got = judge(catalogue, cjs_missing(spec), command="node index.js")
    assert (got["subject"], got["fix"]["kind"], got["fix"]["packages"]) == (
        package, "npm_install", [package])


@pytest.mark.parametrize("spec", ["./config", "../lib/db", "@/utils/date"])
def test_relative_specifiers_are_local_modules(catalogue: PatternSet, spec: str) -> None:
    got = judge(catalogue, cjs_missing(spec) if spec.startswith(".") else
                f"    Cannot find module '{spec}' from 'src/a.test.js'\n", command="npm test")
    assert got["class"] == "missing_local_module" and got["fix"]["kind"] == "report"


def test_builtins_are_never_installed(catalogue: PatternSet) -> None:
    got = judge(catalogue, cjs_missing("node:fsx"), command="node index.js")
    assert got["variant"] == "unknown_builtin" and got["fix"]["kind"] == "report"


def test_esm_path_rebuilt_as_a_specifier(catalogue: PatternSet) -> None:
    output = ("Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/w/src/lib/helper' imported "
              "from /w/src/main.mjs\nDid you mean to import \"./lib/helper.js\"?\n")
    got = judge(catalogue, output, command="node src/main.mjs", cwd="/w")
    assert (got["class"], got["subject"]) == ("missing_local_module", "./lib/helper")


def write_manifest(root: Path, **sections: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"name": "t", **sections}), "utf-8")


def test_subpath_of_an_installed_package_is_not_installed_again(catalogue: PatternSet,
                                                               tmp_path: Path) -> None:
    write_manifest(tmp_path, dependencies={"ms": "2.1.3"})
    (tmp_path / "node_modules" / "ms").mkdir(parents=True)
    got = judge(catalogue, cjs_missing("ms/lib/parse"), command="node t.js", cwd=tmp_path)
    assert (got["variant"], got["subject"], got["fix"]["kind"]) == (
        "subpath_of_installed_package", "ms/lib/parse", "report")


def test_declared_but_not_installed_installs_everything(catalogue: PatternSet,
                                                        tmp_path: Path) -> None:
    write_manifest(tmp_path, dependencies={"express": "^4"})
    (tmp_path / "pnpm-lock.yaml").write_text("", "utf-8")
    got = judge(catalogue, cjs_missing("express"), command="node server.js", cwd=tmp_path)
    assert got["variant"] == "declared_not_installed"
    assert got["fix"] == {"kind": "npm_install_all", "argv": ["pnpm", "install"],
                          "description": got["fix"]["description"], "auto": False}


def test_a_test_file_import_is_a_dev_dependency(catalogue: PatternSet) -> None:
    output = "FAIL tests/app.test.js\n  ● Test suite failed to run\n\n    Cannot find module 'supertest' from 'tests/app.test.js'\n"
    got = judge(catalogue, output, command="npm test")
    assert got["fix"]["argv"] == ["npm", "install", "--save-dev", "supertest"]
    assert got["failing_tests"][0]["id"] == "tests/app.test.js"


@pytest.mark.parametrize("binary, package", [("jest", "jest"), ("tsc", "typescript"),
                                             ("ng", "@angular/cli")])
def test_npm_script_bins_are_dev_packages(catalogue: PatternSet, binary: str,
                                          package: str) -> None:
    output = f"\n> web@1.0.0 build\n> {binary}\n\nsh: 1: {binary}: not found\n"
    got = judge(catalogue, output, command="npm run build", exit_code=127)
    assert got["variant"] == "npm_script_bin"
    assert got["fix"]["argv"] == ["npm", "install", "--save-dev", package]


# --- Python modules ------------------------------------------------------------------------

def test_dist_differs_from_module(catalogue: PatternSet) -> None:
    got = judge(catalogue, MISSING_YAML.replace("yaml", "cv2"), command=".venv/bin/python app.py")
    assert got["dist"] == "opencv-python"
    assert got["fix"]["argv"] == [".venv/bin/python", "-m", "pip", "install", "opencv-python"]


def test_local_package_is_installed_as_the_project(catalogue: PatternSet, tmp_path: Path) -> None:
    (tmp_path / "src" / "myapp").mkdir(parents=True)
    (tmp_path / "src" / "myapp" / "__init__.py").write_text("", "utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "myapp"\n', "utf-8")
    output = MISSING_YAML.replace("yaml", "myapp")
    got = judge(catalogue, output, command="python -m pytest", cwd=tmp_path)
    assert got["variant"] == "local_package" and got["fix"]["kind"] == "pip_install_project"


def test_submodule_of_an_installed_package_is_reported(catalogue: PatternSet) -> None:
    got = judge(catalogue, "ModuleNotFoundError: No module named 'jsonschema.compat'\n")
    assert got["variant"] == "submodule_of_installed_package" and got["fix"]["kind"] == "report"


def test_namespace_package_part_is_installed(catalogue: PatternSet) -> None:
    got = judge(catalogue, "ModuleNotFoundError: No module named 'google.protobuf'\n")
    assert got["dist"] == "protobuf" and got["fix"]["kind"] == "pip_install"


def test_a_library_import_is_an_optional_dependency(catalogue: PatternSet) -> None:
    output = ('Traceback (most recent call last):\n  File "/w/app.py", line 3, in <module>\n'
              "    df.to_markdown()\n"
              '  File "/w/.venv/lib/python3.12/site-packages/pandas/io/formats.py", line 9, in f\n'
              "    import tabulate\nModuleNotFoundError: No module named 'tabulate'\n")
    got = judge(catalogue, output, command="python app.py", cwd="/w")
    assert got["variant"] == "optional_dependency" and got["fix"]["packages"] == ["tabulate"]


def test_declared_requirements_are_installed_from_their_file(catalogue: PatternSet,
                                                             tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("PyYAML>=6  # config\n", "utf-8")
    got = judge(catalogue, MISSING_YAML, command="python app.py", cwd=tmp_path)
    assert got["fix"]["kind"] == "pip_install_requirements"
    assert got["fix"]["argv"][-2:] == ["-r", "requirements.txt"]


def test_uv_run_adds_with_uv(catalogue: PatternSet) -> None:
    got = judge(catalogue, MISSING_YAML, command="uv run python app.py")
    assert got["variant"] == "uv" and got["fix"]["argv"] == ["uv", "add", "PyYAML"]


def test_a_name_error_is_never_a_pip_install(catalogue: PatternSet) -> None:
    got = judge(catalogue, "NameError: name 'datetime' is not defined\n")
    assert (got["class"], got["subject"], got["fix"]["kind"]) == ("runtime_error", "datetime",
                                                                  "report")


# --- commands, scripts, networks ---------------------------------------------------------------

def test_missing_commands_name_their_package(catalogue: PatternSet) -> None:
    got = judge(catalogue, "zsh:1: command not found: rg\n", command="rg TODO", exit_code=127)
    assert got["fix"]["candidates"][0] == {"manager": "apt",
                                           "argv": ["apt-get", "install", "-y", "ripgrep"]}


def test_no_install_candidate_uses_sudo() -> None:
    table = commands._table()["command"]
    for name in table:
        for candidate in commands.install_candidates(name, "x"):
            assert "sudo" not in candidate["argv"], (name, candidate)


def test_crlf_shebang_is_told_apart_from_a_missing_interpreter(catalogue: PatternSet,
                                                               tmp_path: Path) -> None:
    (tmp_path / "a.sh").write_bytes(b"#!/bin/bash\r\necho hi\r\n")
    (tmp_path / "b.sh").write_bytes(b"#!/usr/bin/env python2\nprint 1\n")
    line = "bash: line 1: ./{}: cannot execute: required file not found\n"
    crlf = judge(catalogue, line.format("a.sh"), command="./a.sh", exit_code=127, cwd=tmp_path)
    assert (crlf["class"], crlf["fix"]["kind"]) == ("crlf_line_endings", "convert_line_endings")
    other = judge(catalogue, line.format("b.sh"), command="./b.sh", exit_code=127, cwd=tmp_path)
    assert (other["class"], other["subject"]) == ("missing_command", "python2")


@pytest.mark.parametrize("output, endpoint", [
    (("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): "
      "Max retries exceeded\n"), "pypi.org"),
    ("curl: (7) Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server\n",
     "127.0.0.1:9"),
    ("TypeError: fetch failed\n  [cause]: Error: connect ECONNREFUSED 127.0.0.1:8080\n",
     "127.0.0.1:8080"),
])
def test_network_subject_is_the_endpoint(catalogue: PatternSet, output: str,
                                         endpoint: str) -> None:
    got = judge(catalogue, output)
    assert (got["class"], got["subject"]) == ("network_error", endpoint)
