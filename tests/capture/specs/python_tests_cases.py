"""pytest (3.11 from pyenv; 3.12 and 3.13 in venvs from local wheels), unittest, mypy."""

from _kit import (
                  PY311,
                  PY312,
                  PY313,
                  WHEELS,
                  case,
                  file,
                  loc,
                  none,
                  pip_install,
                  python_version,
                  report,
                  report_location,
                  rerun,
                  tests,
                  venv,
)

INI = file("pytest.ini", """
    [pytest]
    pythonpath = .
""")

SLUG = file("slug.py", """
    import re


    def slugify(text):
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


    def ascii_only(text):
        return text.encode("ascii", "ignore").decode()
""")

CASES = [
    case("own-pytest-parametrized-fail", "python", "python -m pytest -q",
         INI + SLUG + file("tests/test_slug.py", """
             import pytest

             from slug import slugify


             @pytest.mark.parametrize("text, expected", [
                 ("Hello World", "hello-world"),
                 ("C'est la vie", "cest-la-vie"),
                 ("  spaces  ", "spaces"),
             ])
             def test_slugify(text, expected):
                 assert slugify(text) == expected
         """),
         "A parametrized test where one parameter set fails (the id has spaces and a quote).",
         {"class": "test_failure", "variant": "pytest",
          "failing_tests": tests("tests/test_slug.py::test_slugify[C'est la vie-cest-la-vie]"),
          "fix": rerun(["python", "-m", "pytest",
                        "tests/test_slug.py::test_slugify[C'est la vie-cest-la-vie]"])},
         tags=["tricky"],
         notes="The test id contains a space and a quote: a re-run must quote it."),
    case("own-pytest-unicode-param-id", "python", "python -m pytest -q -p no:cacheprovider",
         INI + SLUG + file("tests/test_ascii.py", """
             import pytest

             from slug import ascii_only


             @pytest.mark.parametrize("text", ["plain", "Déjà vu"])
             def test_ascii_only_keeps_letters(text):
                 assert len(ascii_only(text)) == len(text)
         """),
         "pytest escapes non-ASCII characters in parametrized ids.",
         {"class": "test_failure", "variant": "pytest",
          "failing_tests": tests("tests/test_ascii.py::test_ascii_only_keeps_letters"
                                 "[D\\xe9j\\xe0 vu]"),
          "fix": rerun(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/test_ascii.py::test_ascii_only_keeps_letters[D\\xe9j\\xe0 vu]"])},
         tags=["tricky"], notes="The id is printed as 'D\\xe9j\\xe0 vu' (escaped)."),
    case("own-pytest-fixture-raises", "python", "python -m pytest -q",
         INI + file("tests/conftest.py", """
             import pytest


             @pytest.fixture
             def db():
                 raise ConnectionError("database at 127.0.0.1:5432 is not reachable")
         """) + file("tests/test_orders.py", """
             def test_list_orders(db):
                 assert db.query("select 1")


             def test_total():
                 assert 2 + 2 == 4
         """),
         "A fixture raises during setup: the test is an ERROR, not a FAILED.",
         {"class": "test_failure", "variant": "pytest_fixture_error",
          "failing_tests": tests("tests/test_orders.py::test_list_orders"),
          "fix": rerun(["python", "-m", "pytest", "tests/test_orders.py::test_list_orders"]),
          "acceptable_fixes": [report("The db fixture cannot reach its database.")]}),
    case("own-pytest-x-stops-first", "python", "python -m pytest -x -q",
         INI + file("tests/test_a.py", """
             def test_one():
                 assert [1, 2] == [1, 2, 3]


             def test_two():
                 assert False
         """),
         "pytest -x stops after the first failure.",
         {"class": "test_failure", "variant": "pytest",
          "failing_tests": tests("tests/test_a.py::test_one"),
          "fix": rerun(["python", "-m", "pytest", "-x", "-q", "tests/test_a.py::test_one"])}),
    case("own-pytest-py312-class-based", "python", ".venv/bin/python -m pytest -q",
         python_version(PY312) + venv(packages=("pytest",)) + INI + file("api.py", """
             class Client:
                 def get(self, path):
                     return {"status": 404 if path == "/missing" else 200}
         """) + file("tests/test_api.py", """
             from api import Client


             class TestClient:
                 def test_get_root(self):
                     assert Client().get("/")["status"] == 200

                 def test_get_user(self):
                     assert Client().get("/missing")["status"] == 200
         """),
         "pytest 9 in a CPython 3.12 venv (wheels from a local folder); class-based tests.",
         {"class": "test_failure", "variant": "pytest",
          "failing_tests": tests("tests/test_api.py::TestClient::test_get_user"),
          "fix": rerun([".venv/bin/python", "-m", "pytest",
                        "tests/test_api.py::TestClient::test_get_user"])},
         requires=[WHEELS]),
    case("own-pytest-py313-color", "python", ".venv/bin/python -m pytest --color=yes -q",
         python_version(PY313) + venv(packages=("pytest",)) + INI + file("tests/test_cfg.py", """
             def load(text):
                 return dict(line.split("=", 1) for line in text.splitlines())


             def test_load():
                 assert load("a=1\\nb=2") == {"a": "1", "b": "3"}
         """),
         "pytest --color=yes in a CPython 3.13 venv: ANSI codes around every part.",
         {"class": "test_failure", "variant": "pytest",
          "failing_tests": tests("tests/test_cfg.py::test_load"),
          "fix": rerun([".venv/bin/python", "-m", "pytest", "tests/test_cfg.py::test_load"])},
         tags=["ansi"], requires=[WHEELS]),
    case("own-pytest-no-tests-collected", "python", "python -m pytest -q tests",
         INI + file("tests/helpers.py", """
             def make_user():
                 return {"name": "ada"}
         """),
         "pytest finds no test in tests/ (only a helper module).",
         {"class": "no_tests_collected", "fix": report("No tests found in tests/.")},
         notes="Exit 5."),
    case("own-pytest-k-deselects-all", "python", "python -m pytest -q -k test_checkout",
         INI + file("tests/test_cart.py", """
             def test_add_item():
                 assert True


             def test_remove_item():
                 assert True
         """),
         "pytest -k with an expression that matches no test.",
         {"class": "no_tests_collected", "fix": report("-k test_checkout matches no test.")},
         notes="'2 deselected', exit 5."),
    case("own-pytest-file-not-found", "python", "python -m pytest tests/test_payment.py -q",
         INI + file("tests/test_payments.py", """
             def test_pay():
                 assert True
         """),
         "pytest given a test file name that does not exist (test_payments.py does).",
         {"class": "file_not_found", "subject": "tests/test_payment.py",
          "fix": report("tests/test_payment.py does not exist (tests/test_payments.py does)."),
          "acceptable_classes": ["no_tests_collected"]},
         notes="'ERROR: file or directory not found: tests/test_payment.py', exit 4."),
    case("own-pytest-keyboard-interrupt", "python", "python -m pytest -q",
         INI + file("tests/test_slow.py", """
             import os
             import signal


             def test_fast():
                 assert True


             def test_long_download():
                 os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C here


             def test_after():
                 assert True
         """),
         "Ctrl-C during a pytest run: pytest catches it, prints a summary and exits 2.",
         {"class": "interrupted", "fix": none()},
         tags=["tricky"],
         notes="pytest reports '!!! KeyboardInterrupt !!!' and exits 2, not 130."),
    case("own-unittest-py312-fail", "python", "python -m unittest -v",
         python_version(PY312) + file("cart.py", """
             def total(prices, discount=0):
                 return sum(prices) - discount
         """) + file("test_cart.py", """
             import unittest

             from cart import total


             class TestCart(unittest.TestCase):
                 def test_total(self):
                     self.assertEqual(total([1, 2]), 3)

                 def test_discount(self):
                     self.assertEqual(total([10], discount=0.1), 9)
         """),
         "unittest (3.12) with a failing assertion.",
         {"class": "test_failure", "variant": "unittest",
          "failing_tests": [{"id": "test_cart.TestCart.test_discount", "file": "test_cart.py",
                             "name": "test_discount"}],
          "fix": rerun(["python", "-m", "unittest", "test_cart.TestCart.test_discount"])}),
    case("own-unittest-py313-error", "python", "python -m unittest discover -s tests",
         python_version(PY313) + file("tests/test_parser.py", """
             import unittest


             def parse(text):
                 key, value = text.split("=")
                 return {key: value}


             class TestParser(unittest.TestCase):
                 def test_simple(self):
                     self.assertEqual(parse("a=1"), {"a": "1"})

                 def test_no_separator(self):
                     self.assertEqual(parse("a"), {})
         """),
         "unittest (3.13): a test raises ValueError (ERROR, not FAIL).",
         {"class": "test_failure", "variant": "unittest",
          "failing_tests": [{"id": "test_parser.TestParser.test_no_separator",
                             "file": "tests/test_parser.py", "name": "test_no_separator"}],
          "fix": rerun(["python", "-m", "unittest", "test_parser.TestParser.test_no_separator"])}),
    case("own-unittest-py311-fail", "python", "python -m unittest tests.test_money",
         file("tests/__init__.py", "") + file("tests/test_money.py", """
             import unittest


             class MoneyTest(unittest.TestCase):
                 def test_rounding(self):
                     self.assertEqual(round(2.675, 2), 2.68)
         """),
         "unittest (3.11) run on a dotted module name.",
         {"class": "test_failure", "variant": "unittest",
          "failing_tests": [{"id": "tests.test_money.MoneyTest.test_rounding",
                             "file": "tests/test_money.py", "name": "test_rounding"}],
          "fix": rerun(["python", "-m", "unittest",
                        "tests.test_money.MoneyTest.test_rounding"])}),
    case("own-mypy-return-type", "python", ".venv/bin/mypy src",
         python_version(PY311) + venv(packages=("mypy",))
         + file("src/stats.py", """
             def mean(xs: list[float]) -> float:
                 if not xs:
                     return None
                 return sum(xs) / len(xs)
         """),
         "mypy (installed from local wheels into a 3.11 venv) on a wrong return type.",
         {"class": "type_error", "variant": "mypy", "subject": "return-value",
          "fix": report_location("mypy error at src/stats.py:3"),
          "location": loc("src/stats.py", 3, None)},
         requires=[WHEELS]),
    case("own-mypy-missing-stubs", "python", ".venv/bin/mypy app.py",
         python_version(PY311) + venv(packages=("mypy", "pyyaml"))
         + file("app.py", """
             import yaml


             def load(path: str) -> dict:
                 with open(path) as fh:
                     return yaml.safe_load(fh)
         """),
         "mypy: PyYAML is installed but its type stubs are not.",
         {"class": "type_error", "variant": "mypy_missing_stubs", "subject": "yaml",
          "fix": pip_install(".venv/bin/python", "types-PyYAML"),
          "location": loc("app.py", 1, None)},
         requires=[WHEELS],
         notes="mypy says 'Library stubs not installed for \"yaml\"' and hints "
               "'python3 -m pip install types-PyYAML'."),
]
