"""Benign non-zero exits, negatives (exit 0 with error-like text), long outputs around
Claude Code's 10,000/30,000-character cuts, non-UTF-8 and ANSI output, loopback network
failures."""

from _kit import (
                  INI_PYTEST,
                  PY312,
                  case,
                  file,
                  git_repo,
                  install_command,
                  none,
                  python_version,
                  raw,
                  rerun,
                  tests,
)

NONE = none()

CASES = [
    # --- benign non-zero exits --------------------------------------------------------------
    case("own-benign-grep-count-zero", "shell", "grep -c FIXME src/app.py",
         file("src/app.py", "print('clean')"),
         "grep -c prints 0 and exits 1 when nothing matches.",
         {"class": "benign_nonzero_exit", "variant": "grep_no_match", "fix": NONE},
         tags=["negative"]),
    case("own-benign-diff-differs", "shell", "diff -u expected.txt actual.txt",
         file("expected.txt", "alpha\nbeta\ngamma\n", dedent=False)
         + file("actual.txt", "alpha\nBETA\ngamma\n", dedent=False),
         "diff exits 1 because the files differ (its output is the answer).",
         {"class": "benign_nonzero_exit", "variant": "diff_differs", "fix": NONE},
         tags=["negative"]),
    case("own-benign-test-f", "shell", "test -f dist/bundle.js", file("README.md", "# app"),
         "test -f on a file that is not there: exit 1, no output.",
         {"class": "benign_nonzero_exit", "variant": "test_false", "fix": NONE},
         tags=["negative", "empty_output"]),
    case("own-benign-diff-latin1", "data", "diff old.csv new.csv",
         raw("old.csv", b"id;name\n1;Jos\xe9\n2;Ana\n")
         + raw("new.csv", b"id;name\n1;Jos\xe9\n2;Ana\n3;Fran\xe7ois\n"),
         "diff of two Latin-1 files: non-UTF-8 bytes in a benign exit 1.",
         {"class": "benign_nonzero_exit", "variant": "diff_differs", "fix": NONE},
         tags=["negative", "non_utf8"]),
    case("own-benign-grep-zsh-no-match", "shell", "grep -rn 'console.log' src",
         file("src/index.js", "export const x = 1;"),
         "grep with no match under zsh.",
         {"class": "benign_nonzero_exit", "variant": "grep_no_match", "fix": NONE},
         shell="zsh", tags=["negative", "empty_output"]),

    # --- negatives: exit 0 ------------------------------------------------------------------
    case("own-neg-pytest-logs-traceback", "python", "python -m pytest -q -s",
         INI_PYTEST + file("worker.py", """
             import logging
             import traceback

             log = logging.getLogger("worker")


             def run(job):
                 try:
                     return job()
                 except Exception:
                     traceback.print_exc()
                     return "failed"
         """) + file("tests/test_worker.py", """
             from worker import run


             def boom():
                 raise ModuleNotFoundError("No module named 'redis'")


             def test_run_reports_failure():
                 assert run(boom) == "failed"
         """),
         "A passing suite whose code under test prints a ModuleNotFoundError traceback.",
         {"class": "no_error", "variant": "tests_pass", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-pytest-failed-in-name", "python", "python -m pytest -v",
         INI_PYTEST + file("tests/test_jobs.py", """
             def test_marks_job_FAILED_when_worker_dies():
                 status = "FAILED"
                 assert status == "FAILED"


             def test_error_message_mentions_syntax_error():
                 message = "SyntaxError: invalid syntax"
                 assert "SyntaxError" in message
         """),
         "Passing tests whose names contain FAILED and SyntaxError (pytest -v).",
         {"class": "no_error", "variant": "tests_pass", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-pytest-warnings", "python", "python -m pytest -q",
         INI_PYTEST + file("tests/test_legacy.py", """
             import warnings


             def old_api():
                 warnings.warn("old_api() is deprecated; use new_api()", DeprecationWarning)
                 return 1


             def test_old_api():
                 assert old_api() == 1
         """),
         "A passing run with a warnings summary.",
         {"class": "no_error", "variant": "tests_pass_with_warnings", "fix": NONE},
         tags=["negative"]),
    case("own-neg-script-logs-errors", "python", "python sync.py",
         python_version(PY312) + file("sync.py", """
             import sys

             for attempt in range(1, 4):
                 if attempt < 3:
                     print(f"ERROR: connection refused (attempt {attempt}/3), retrying", file=sys.stderr)
                 else:
                     print("synced 42 records")
         """),
         "A script that logs errors and retries, then succeeds.",
         {"class": "no_error", "variant": "logged_errors", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-grep-docs-error-text", "shell", "grep -rn 'command not found' docs/",
         file("docs/troubleshooting.md", """
             # Troubleshooting

             If you see `bash: line 1: rg: command not found`, install ripgrep.
             If you see `ModuleNotFoundError: No module named 'yaml'`, install PyYAML.
         """),
         "grep finds error messages quoted in the documentation.",
         {"class": "no_error", "variant": "error_text_in_data", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-cat-build-log", "shell", "tail -n 5 build.log",
         file("build.log", """
             [12:00:01] compiling 120 files
             [12:00:04] src/a.ts(3,5): error TS2322: Type 'string' is not assignable to type 'number'.
             [12:00:04] build failed
             [12:05:10] compiling 120 files
             [12:05:14] build succeeded in 4.1s
         """),
         "Reading an old log that contains a compiler error.",
         {"class": "no_error", "variant": "error_text_in_data", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-git-log-messages", "git", "git log --oneline",
         git_repo() + file("a.txt", "1") + "git add a.txt\n"
         + "git commit -q -m 'fix: bash: line 1: jq: command not found in deploy script'\n"
         + file("b.txt", "2") + "git add b.txt\n"
         + "git commit -q -m 'Revert \"ModuleNotFoundError: No module named yaml\"'\n",
         "git log whose commit messages quote error messages.",
         {"class": "no_error", "variant": "error_text_in_data", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-node-test-pass", "node", "node --test",
         file("package.json", '{"name": "app", "version": "1.0.0"}')
         + file("test/errors.test.js", """
             const test = require('node:test');
             const assert = require('node:assert');

             test('reports "not ok" lines from the child as failures', () => {
               assert.match('not ok 1 - child', /not ok/);
             });

             test('throws TypeError for bad input', () => {
               assert.throws(() => null.x, TypeError);
             });
         """),
         "Passing node:test tests whose names say 'not ok' and TypeError.",
         {"class": "no_error", "variant": "tests_pass", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-unittest-expected-failure", "python", "python -m unittest -v",
         file("test_known.py", """
             import unittest


             class Known(unittest.TestCase):
                 @unittest.expectedFailure
                 def test_bug_1234(self):
                     self.assertEqual(1, 2)

                 def test_ok(self):
                     self.assertTrue(True)
         """),
         "unittest with an expected failure: OK (expected failures=1).",
         {"class": "no_error", "variant": "tests_pass_xfail", "fix": NONE},
         tags=["negative"]),
    case("own-neg-make-ignored-error", "make", "make clean",
         file("Makefile", """
             clean:
             \t-rm build/*.o
             \t@echo cleaned
         """),
         "A recipe line prefixed '-': make ignores its failure and exits 0.",
         {"class": "no_error", "variant": "ignored_error", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-go-test-pass-logs", "go", "go test -v ./...",
         "go mod init example.com/calc 2>/dev/null\n" + file("calc_test.go", """
             package calc

             import (
             	"errors"
             	"testing"
             )

             func TestErrorPath(t *testing.T) {
             	err := errors.New("panic: runtime error: index out of range")
             	t.Logf("got expected error: %v", err)
             }
         """),
         "go test -v passes; a log line quotes a panic message.",
         {"class": "no_error", "variant": "tests_pass", "fix": NONE},
         tags=["negative", "tricky"]),
    case("own-neg-cargo-build-warnings", "rust", "cargo build --offline",
         "cargo new --vcs none --quiet app\n" + file("app/src/main.rs", """
             fn main() {
                 let unused = 42;
                 let mut count = 0;
                 println!("{}", count);
             }
         """),
         "cargo build succeeds with warnings.",
         {"class": "no_error", "variant": "compiler_warning", "fix": NONE},
         cwd="app", tags=["negative"]),
    case("own-neg-python-deprecation-warning", "python", "python -W default report.py",
         python_version(PY312) + file("report.py", """
             import datetime

             print(datetime.datetime.utcnow().date().isoformat() > "2000")
         """),
         "A DeprecationWarning on stderr, exit 0.",
         {"class": "no_error", "variant": "warning", "fix": NONE},
         tags=["negative"]),
    case("own-neg-non-utf8-python-print", "shell", "python dump.py",
         file("dump.py", """
             import sys

             sys.stdout.buffer.write(b"name;city\\nJos\\xe9;S\\xe3o Paulo\\n")
         """),
         "A script prints Latin-1 bytes and exits 0.",
         {"class": "no_error", "variant": "non_utf8_output", "fix": NONE},
         tags=["negative", "non_utf8"]),
    case("own-neg-grep-color-errors", "shell", "grep --color=always -n ERROR logs/app.log",
         file("logs/app.log", """
             2024-01-01 INFO started
             2024-01-01 ERROR Traceback (most recent call last): see sentry #123
             2024-01-01 INFO recovered
         """),
         "grep --color=always over a log that has ERROR lines; exit 0.",
         {"class": "no_error", "variant": "error_text_in_data", "fix": NONE},
         tags=["negative", "ansi", "tricky"]),
    case("own-neg-npm-run-list", "node", "npm run",
         file("package.json", """
             {
               "name": "app",
               "version": "1.0.0",
               "scripts": {
                 "build": "tsc -p .",
                 "test": "node --test",
                 "lint": "eslint . || echo 'lint failed'"
               }
             }
         """),
         "`npm run` with no name lists the scripts (exit 0).",
         {"class": "no_error", "variant": "listing", "fix": NONE},
         tags=["negative"]),

    # --- long outputs ----------------------------------------------------------------------------
    case("own-long-pytest-verbose-fail-tail", "python", "python -m pytest -v -p no:cacheprovider",
         INI_PYTEST + file("tests/test_many.py", """
             import pytest


             @pytest.mark.parametrize("n", range(200))
             def test_square_is_non_negative(n):
                 assert n * n >= 0


             def test_checksum():
                 assert sum(range(10)) == 46
         """),
         "pytest -v with 201 tests (about 20,000 characters); the failure report is in the tail.",
         {"class": "test_failure", "variant": "pytest",
          "failing_tests": tests("tests/test_many.py::test_checksum"),
          "fix": rerun(["python", "-m", "pytest", "-v", "-p", "no:cacheprovider",
                        "tests/test_many.py::test_checksum"])},
         tags=["long_output"],
         notes="Over 10,000 characters: the hook gets the first and last 5,000 around a "
               "marker; the FAILURES section survives in the tail."),
    case("own-long-pytest-over-30k-head", "python", "python -m pytest -v -p no:cacheprovider",
         INI_PYTEST + file("tests/test_big.py", """
             import pytest


             def test_000_manifest_checksum():
                 assert sum(range(10)) == 46


             @pytest.mark.parametrize("n", range(600))
             def test_roundtrip(n):
                 assert int(str(n)) == n
         """),
         "pytest -v with 601 tests (over 30,000 characters); only the head shows the failure.",
         {"class": "test_failure", "variant": "pytest",
          "failing_tests": tests("tests/test_big.py::test_000_manifest_checksum"),
          "fix": rerun(["python", "-m", "pytest", "-v", "-p", "no:cacheprovider",
                        "tests/test_big.py::test_000_manifest_checksum"])},
         tags=["long_output", "tricky"],
         notes="Past the 30,000-character window the summary is lost; the first 5,000 "
               "characters still carry 'tests/test_big.py::test_000_manifest_checksum FAILED'."),
    case("own-long-make-missing-tool-tail", "make", "make docs",
         file("Makefile", """
             docs: gen
             \tsphinx-build -b html docs build/html

             gen:
             \t@python3 -c 'import sys; [print(f"generating docs/api/module_{i:04d}.rst ... ok") for i in range(400)]'
         """),
         "A recipe prints ~20,000 characters, then the next recipe's tool is missing.",
         {"class": "missing_command", "variant": "make_recipe", "subject": "sphinx-build",
          "fix": install_command({"manager": "pip",
                                  "argv": ["python", "-m", "pip", "install", "sphinx"]}),
          "acceptable_classes": ["make_error"]},
         tags=["long_output", "cmd_name_differs"],
         notes="The error is in the tail that survives the head-and-tail cut; sphinx-build "
               "comes from the sphinx package."),
    case("own-long-cargo-over-30k-head", "rust", "cargo test --offline",
         "cargo new --vcs none --quiet --lib calc\n"
         + "python3 - <<'__PY__'\n"
           "tests = ''.join(f'    #[test]\\n    fn check_value_{i:04d}() {{ assert_eq!({i} + 0, {i}); }}\\n' for i in range(900))\n"
           "open('calc/src/lib.rs', 'w').write('#[cfg(test)]\\nmod tests {\\n    #[test]\\n    fn a_parses_empty_input() { assert_eq!(\"\".len(), 1); }\\n' + tests + '}\\n')\n"
           "__PY__\n",
         "cargo test with 901 tests (over 30,000 characters); the failing one sorts first.",
         {"class": "test_failure", "variant": "cargo_test",
          "failing_tests": [{"id": "tests::a_parses_empty_input", "file": "src/lib.rs",
                             "name": "a_parses_empty_input"}],
          "fix": rerun(["cargo", "test", "--offline", "tests::a_parses_empty_input"])},
         cwd="calc", tags=["long_output", "tricky"], setup_timeout=600,
         notes="The failure details come after 900 'ok' lines, past the capture window; "
               "the head keeps 'test tests::a_parses_empty_input ... FAILED'."),
    case("own-neg-long-build-log-exit0", "shell", "python3 build.py",
         file("build.py", """
             for i in range(1, 1501):
                 level = "warning" if i % 97 == 0 else "info"
                 print(f"[{level}] bundling chunk {i:05d} ... ok (0 errors, 0 failed)")
             print("Build finished: 0 errors")
         """),
         "A long build log (over 30,000 characters) that mentions errors and warnings; exit 0.",
         {"class": "no_error", "variant": "long_log", "fix": NONE},
         tags=["negative", "long_output"]),

    # --- loopback network failures (nothing listens on port 9) --------------------------------
    case("own-net-curl-refused", "shell", "curl -sS http://127.0.0.1:9/api/health",
         file("README.md", "# app"), "curl to a local port where nothing listens.",
         {"class": "network_error", "subject": "127.0.0.1:9",
          "acceptable_subjects": ["127.0.0.1"],
          "fix": {"kind": "retry", "description": "Nothing listens on 127.0.0.1:9."}},
         tags=["network"], notes="curl: (7) Failed to connect, exit 7."),
    case("own-net-python-urllib-refused", "python", "python fetch.py",
         python_version(PY312) + file("fetch.py", """
             import urllib.request

             with urllib.request.urlopen("http://127.0.0.1:9/health", timeout=3) as resp:
                 print(resp.status)
         """),
         "urllib to a local port where nothing listens (chained traceback).",
         {"class": "network_error", "subject": "127.0.0.1:9",
          "acceptable_subjects": ["127.0.0.1"],
          "fix": {"kind": "retry", "description": "Connection refused by 127.0.0.1:9."}},
         tags=["network", "chained_traceback"]),
    case("own-net-node-fetch-refused", "node", "node ping.mjs",
         file("package.json", '{"name": "app", "version": "1.0.0"}') + file("ping.mjs", """
             const res = await fetch('http://127.0.0.1:39999/health');
             console.log(res.status);
         """),
         "Node's fetch to a local port where nothing listens.",
         {"class": "network_error", "subject": "127.0.0.1:39999",
          "acceptable_subjects": ["127.0.0.1"],
          "fix": {"kind": "retry", "description": "ECONNREFUSED 127.0.0.1:39999"}},
         tags=["network", "tricky"],
         notes="Node says 'TypeError: fetch failed' with the cause ECONNREFUSED below."),
    case("own-net-npm-registry-refused", "node",
         "npm install --registry http://127.0.0.1:9/ --fetch-retries 0 left-pad",
         file("package.json", '{"name": "app", "version": "1.0.0"}'),
         "npm install against a registry URL where nothing listens.",
         {"class": "network_error", "subject": "127.0.0.1:9",
          "acceptable_subjects": ["127.0.0.1"],
          "fix": {"kind": "retry", "description": "The registry at 127.0.0.1:9 refused."},
          "wrong_fixes": [{"kind": "npm_install"}]},
         env={"npm_config_offline": "false"}, tags=["network", "registry"]),
]
