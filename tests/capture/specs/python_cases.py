"""CPython 3.11 / 3.12 / 3.13: missing modules, import errors, syntax errors, run-time errors,
data files read by Python, pip offline."""

from _kit import (
    PY311,
    PY312,
    PY313,
    case,
    file,
    loc,
    none,
    pip_install,
    python_version,
    raw,
    report,
    report_location,
    venv,
)

LOC_FIX = report_location("Show the file/line/column and the message; fix the code there.")


def missing(id, command, setup, description, subject, dist, python="python", *, fix=None,
            variant=None, **more):
    expected = {"class": "missing_python_module", "subject": subject, "dist": dist,
                "fix": fix or pip_install(python, dist)}
    if dist is None:  # nothing to install from PyPI
        del expected["dist"]
    if variant:
        expected = {"class": expected["class"], "variant": variant, **{
            k: v for k, v in expected.items() if k != "class"}}
    expected.update(more.pop("expected", {}))
    return case(id, "python", command, setup, description, expected, **more)


# A tiny wheel, built by hand (a wheel is a zip with METADATA, WHEEL and RECORD).
WHEEL_MAKER = r'''
import os, zipfile
os.makedirs("wheels", exist_ok=True)
def wheel(name, version, requires=()):
    path = f"wheels/{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/__init__.py", f"VERSION = {version!r}\n")
        z.writestr(f"{info}/METADATA", meta)
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
'''

CASES = [
    # --- missing modules ---------------------------------------------------------------
    missing("own-py311-missing-ruamel-dotted", "python load.py",
            file("load.py", """
                import sys
                import ruamel.yaml

                yaml = ruamel.yaml.YAML()
                print(yaml.load(open(sys.argv[1])))
            """),
            "CPython 3.11 (pyenv global); `import ruamel.yaml` without ruamel.yaml.",
            "ruamel", "ruamel.yaml", tags=["dist_name_differs"],
            notes="Python names only the top-level 'ruamel'; the import line above it has the "
                  "dotted name that maps to the ruamel.yaml distribution."),
    missing("own-py312-missing-bs4-from", "python scrape.py",
            python_version(PY312) + file("scrape.py", """
                from bs4 import BeautifulSoup

                html = "<p>hi</p>"
                print(BeautifulSoup(html, "html.parser").p.text)
            """),
            "CPython 3.12 (pyenv local); `from bs4 import BeautifulSoup`.",
            "bs4", "beautifulsoup4", tags=["dist_name_differs"]),
    missing("own-py313-missing-yaml-color", "python app.py",
            python_version(PY313) + file("app.py", """
                import yaml

                print(yaml.safe_dump({"ok": True}))
            """),
            "CPython 3.13 with FORCE_COLOR=1: the traceback is coloured without a TTY.",
            "yaml", "PyYAML", env={"FORCE_COLOR": "1"}, tags=["ansi", "dist_name_differs"]),
    missing("own-py312-venv-missing-pkg-resources", ".venv/bin/python tool.py",
            python_version(PY312) + venv() + file("tool.py", """
                import pkg_resources

                print(pkg_resources.get_distribution("pip").version)
            """),
            "A CPython 3.12 venv has no setuptools, so pkg_resources is gone.",
            "pkg_resources", "setuptools", python=".venv/bin/python",
            tags=["dist_name_differs"],
            notes="pkg_resources is part of setuptools, which 3.12 venvs no longer include."),
    missing("own-py312-missing-distutils", "python setup_helper.py",
            python_version(PY312) + file("setup_helper.py", """
                from distutils.version import LooseVersion

                print(LooseVersion("1.10") > LooseVersion("1.9"))
            """),
            "distutils was removed from the standard library in 3.12.",
            "distutils", "setuptools", tags=["tricky", "dist_name_differs"],
            expected={"acceptable_fixes": [report(
                "distutils was removed in Python 3.12: use packaging.version, or install "
                "setuptools, which provides a distutils shim.")],
                "wrong_fixes": [{"kind": "pip_install", "packages": ["distutils"]}]},
            notes="Installing setuptools brings back `import distutils` (its _distutils_hack); "
                  "there is no 'distutils' distribution to install."),
    missing("own-py311-missing-werkzeug-contrib", "python wsgi.py",
            file("wsgi.py", """
                from flask import Flask
                from werkzeug.contrib.fixers import ProxyFix

                app = Flask(__name__)
                app.wsgi_app = ProxyFix(app.wsgi_app)
            """),
            "werkzeug is installed, but werkzeug.contrib was removed in Werkzeug 1.0.",
            "werkzeug.contrib", "Werkzeug", variant="submodule_of_installed_package",
            fix=report("werkzeug.contrib was removed in Werkzeug 1.0: import ProxyFix from "
                       "werkzeug.middleware.proxy_fix (or pin Werkzeug<1)."),
            expected={"wrong_fixes": [{"kind": "pip_install", "packages": ["werkzeug.contrib"]},
                                      {"kind": "pip_install", "packages": ["Werkzeug"]}]},
            tags=["tricky"],
            notes="The parent package exists, so Python prints the full dotted name; "
                  "installing werkzeug again changes nothing."),
    missing("own-py313-venv-dash-m-black", ".venv/bin/python -m black --check .",
            python_version(PY313) + venv() + file("app.py", "print('hi')"),
            "`python -m black` in a 3.13 venv without black.",
            "black", "black", python=".venv/bin/python", variant="dash_m"),
    missing("own-py312-venv-dash-m-pytest", ".venv/bin/python -m pytest -q",
            python_version(PY312) + venv() + file("tests/test_app.py", """
                def test_ok():
                    assert 1 + 1 == 2
            """),
            "`python -m pytest` in a fresh 3.12 venv.",
            "pytest", "pytest", python=".venv/bin/python", variant="dash_m"),
    missing("own-py311-pytest-collection-freezegun", "python -m pytest -q",
            file("billing.py", """
                import datetime


                def due_date(days):
                    return datetime.date.today() + datetime.timedelta(days=days)
            """) + file("tests/test_billing.py", """
                import datetime

                from freezegun import freeze_time

                from billing import due_date


                @freeze_time("2024-01-01")
                def test_due_date():
                    assert due_date(30) == datetime.date(2024, 1, 31)
            """) + file("pytest.ini", """
                [pytest]
                pythonpath = .
            """),
            "pytest collection error: the test module imports freezegun.",
            "freezegun", "freezegun", variant="pytest_collection",
            expected={"acceptable_classes": ["test_failure"]},
            notes="Exit 2, 'ERROR collecting tests/test_billing.py', the error line prefixed 'E'."),
    missing("own-py311-pytest-conftest-faker", "python -m pytest -q tests",
            file("tests/conftest.py", """
                import pytest
                from faker import Faker


                @pytest.fixture
                def fake():
                    return Faker()
            """) + file("tests/test_users.py", """
                def test_name(fake):
                    assert fake.name()
            """),
            "conftest.py imports faker, which is not installed.",
            "faker", "Faker", variant="pytest_conftest",
            expected={"acceptable_classes": ["test_failure"]},
            notes="'ImportError while loading conftest', exit 4."),
    missing("own-py312-unittest-loader-yaml", "python -m unittest discover -s tests -v",
            python_version(PY312) + file("tests/test_config.py", """
                import unittest

                import yaml


                class TestConfig(unittest.TestCase):
                    def test_load(self):
                        self.assertEqual(yaml.safe_load("a: 1"), {"a": 1})
            """),
            "unittest discovery in 3.12: the test module imports yaml.",
            "yaml", "PyYAML", variant="unittest_loader", tags=["dist_name_differs"],
            expected={"acceptable_classes": ["test_failure"]},
            notes="unittest wraps it: 'ImportError: Failed to import test module: test_config'."),
    missing("own-py311-pytest-local-package-not-installed", "python -m pytest -q",
            file("pyproject.toml", """
                [project]
                name = "invoicing"
                version = "0.1.0"
                dependencies = []

                [build-system]
                requires = ["setuptools>=61"]
                build-backend = "setuptools.build_meta"
            """) + file("src/invoicing/__init__.py", """
                def total(lines):
                    return sum(q * p for q, p in lines)
            """) + file("tests/test_total.py", """
                from invoicing import total


                def test_total():
                    assert total([(2, 5)]) == 10
            """),
            "src layout: the project's own package is not installed, so tests cannot import it.",
            "invoicing", None, variant="local_package",
            fix={"kind": "pip_install_project",
                 "argv": ["python", "-m", "pip", "install", "-e", "."]},
            expected={"wrong_fixes": [{"kind": "pip_install", "packages": ["invoicing"]}],
                      "acceptable_classes": ["test_failure"]},
            tags=["tricky", "local_module"],
            notes="'invoicing' is this project (pyproject.toml, src/invoicing): install the "
                  "project, never a PyPI package of that name."),
    case("own-py311-relative-import-missing", "python", "python -m shop",
         file("shop/__init__.py", "") + file("shop/__main__.py", """
             from .pricing import price_with_tax

             print(price_with_tax(10))
         """),
         "A package's relative import names a module file that does not exist.",
         {"class": "missing_local_module", "subject": "shop.pricing",
          "fix": report("shop/pricing.py does not exist: create it or fix the import."),
          "acceptable_classes": ["missing_python_module"],
          "wrong_fixes": [{"kind": "pip_install"}]},
         tags=["local_module"],
         notes="ModuleNotFoundError: No module named 'shop.pricing' — a project file."),
    missing("own-py312-venv-requirements-slugify", ".venv/bin/python make_slugs.py",
            python_version(PY312) + venv() + file("requirements.txt", "python-slugify>=8")
            + file("make_slugs.py", """
                from slugify import slugify

                print(slugify("Hello World"))
            """),
            "The module is declared in requirements.txt but the venv was never synced.",
            "slugify", "python-slugify", python=".venv/bin/python",
            fix={"kind": "pip_install_requirements",
                 "argv": [".venv/bin/python", "-m", "pip", "install", "-r",
                          "requirements.txt"]},
            expected={"acceptable_fixes": [pip_install(".venv/bin/python", "python-slugify")],
                      "wrong_fixes": [{"kind": "pip_install", "packages": ["slugify"]}]},
            tags=["declared_dependency", "dist_name_differs", "tricky"],
            notes="'slugify' on PyPI is a different, unrelated distribution."),
    missing("own-py311-requests-socks-missing", "python fetch.py",
            file("fetch.py", """
                import requests

                proxies = {"http": "socks5://127.0.0.1:1080", "https": "socks5://127.0.0.1:1080"}
                print(requests.get("http://127.0.0.1:9/status", proxies=proxies, timeout=2).text)
            """),
            "requests through a SOCKS proxy without PySocks (fails before connecting).",
            "socks", "PySocks", variant="optional_dependency",
            expected={"acceptable_fixes": [pip_install("python", "requests[socks]")],
                      "acceptable_subjects": ["PySocks"]},
            tags=["tricky", "dist_name_differs"],
            notes="No ModuleNotFoundError: requests raises InvalidSchema('Missing dependencies "
                  "for SOCKS support.')."),
    missing("own-py312-missing-crypto", "python encrypt.py",
            python_version(PY312) + file("encrypt.py", """
                from Crypto.Cipher import AES

                key = b"0" * 16
                print(AES.new(key, AES.MODE_ECB).encrypt(b"1" * 16).hex())
            """),
            "PyCryptodome's `Crypto` package is missing.",
            "Crypto", "pycryptodome", tags=["dist_name_differs"],
            expected={"wrong_fixes": [{"kind": "pip_install", "packages": ["crypto"]}]},
            notes="'crypto' on PyPI is an unrelated package; Crypto comes from pycryptodome."),
    missing("own-py313-missing-dnspython", "python resolve.py example.com",
            python_version(PY313) + file("resolve.py", """
                import sys

                import dns.resolver

                for answer in dns.resolver.resolve(sys.argv[1], "A"):
                    print(answer)
            """),
            "dnspython's `dns` package is missing (3.13).",
            "dns", "dnspython", tags=["dist_name_differs"]),
    missing("own-py312-missing-google-protobuf", "python decode.py",
            python_version(PY312) + file("decode.py", """
                from google.protobuf import json_format

                print(json_format)
            """),
            "`from google.protobuf import ...` with no google package at all.",
            "google", "protobuf", tags=["dist_name_differs", "tricky"],
            expected={"acceptable_subjects": ["google.protobuf"],
                      "wrong_fixes": [{"kind": "pip_install", "packages": ["google"]}]},
            notes="Python names only 'google'; the import line has google.protobuf."),
    missing("own-py311-missing-psycopg2-buffered", "python migrate.py",
            file("migrate.py", """
                print("loading settings")
                print("connecting to the database")


                def connect():
                    import psycopg2
                    return psycopg2.connect("dbname=app")


                connect()
            """),
            "A lazy import inside a function after some prints; stdout is block-buffered.",
            "psycopg2", "psycopg2-binary",
            expected={"acceptable_dists": ["psycopg2"],
                      "acceptable_fixes": [pip_install("python", "psycopg2")]},
            tags=["dist_name_differs"],
            notes="With stdout on a pipe the traceback comes before the two prints in the "
                  "combined output."),
    case("own-py311-missing-typo-module", "python", "python client.py",
         file("client.py", """
             import reqeusts

             print(reqeusts.get("http://127.0.0.1:9").status_code)
         """),
         "A typo in an import (reqeusts for requests, which is installed).",
         {"class": "missing_python_module", "subject": "reqeusts",
          "fix": report("Typo: the module is 'requests' (installed)."),
          "wrong_fixes": [{"kind": "pip_install", "packages": ["reqeusts"]}]},
         tags=["tricky"],
         notes="pip install of a misspelled name is how typosquatting gets in: never do it."),
    missing("own-py312-non-utf8-then-missing", "python export.py",
            python_version(PY312) + file("export.py", """
                import sys

                sys.stdout.buffer.write(b"Exporting caf\\xe9 na\\xefve r\\xe9sum\\xe9\\n")
                sys.stdout.flush()
                import openpyxl
            """),
            "A script writes Latin-1 bytes, then fails to import openpyxl.",
            "openpyxl", "openpyxl", tags=["non_utf8"]),

    # --- import errors (module found, name missing) -----------------------------------------
    case("own-py311-importerror-collections-mapping", "python", "python config.py",
         file("config.py", """
             from collections import Mapping


             def merge(a, b):
                 return {**a, **b} if isinstance(b, Mapping) else a
         """),
         "Old code importing Mapping from collections (moved to collections.abc).",
         {"class": "python_import_error", "subject": "Mapping",
          "fix": report("Import Mapping from collections.abc."),
          "wrong_fixes": [{"kind": "pip_install"}]}),
    case("own-py313-importerror-local-name", "python", "python report.py",
         python_version(PY313) + file("utils.py", """
             def parse_data(text):
                 return text.split(",")
         """) + file("report.py", """
             from utils import parse_date

             print(parse_date("2024-01-01"))
         """),
         "A name imported from a project module does not exist there (typo).",
         {"class": "python_import_error", "subject": "parse_date",
          "fix": report("utils has no parse_date (did you mean parse_data?)."),
          "wrong_fixes": [{"kind": "pip_install"}]}),
    case("own-py312-importerror-circular", "python", "python -m app.main",
         python_version(PY312) + file("app/__init__.py", "") + file("app/models.py", """
             from app.services import notify


             class User:
                 def save(self):
                     notify(self)
         """) + file("app/services.py", """
             from app.models import User


             def notify(user: User) -> None:
                 print("saved", user)
         """) + file("app/main.py", """
             from app.models import User

             User().save()
         """),
         "Two project modules import each other.",
         {"class": "python_import_error", "variant": "circular_import", "subject": "User",
          "fix": report("Circular import between app.models and app.services."),
          "wrong_fixes": [{"kind": "pip_install"}]},
         tags=["import_error"]),

    # --- syntax errors ---------------------------------------------------------------------
    case("own-py311-syntax-missing-colon", "python", "python stats.py",
         file("stats.py", """
             def mean(xs)
                 return sum(xs) / len(xs)


             print(mean([1, 2, 3]))
         """),
         "A def without its colon, under CPython 3.11 (caret only, no column).",
         {"class": "syntax_error", "variant": "python", "subject": "stats.py",
          "fix": LOC_FIX, "location": loc("stats.py", 1, 13)},
         notes="3.11 prints \"expected ':'\" with a caret under the end of the line."),
    case("own-py312-syntax-never-closed", "python", "python plot.py",
         python_version(PY312) + file("plot.py", """
             values = [3, 1, 2]
             total = sum(values
             print(total)
         """),
         "An unclosed parenthesis under CPython 3.12.",
         {"class": "syntax_error", "variant": "python", "subject": "plot.py",
          "fix": LOC_FIX, "location": loc("plot.py", 2, 12)},
         notes="'(' was never closed points at the opening bracket, not where the parser "
               "gave up."),
    case("own-py313-syntax-forgot-comma", "python", "python matrix.py",
         python_version(PY313) + file("matrix.py", """
             rows = [
                 [1, 2, 3],
                 [4, 5 6],
             ]
             print(rows)
         """),
         "A missing comma inside a list, CPython 3.13.",
         {"class": "syntax_error", "variant": "python", "subject": "matrix.py",
          "fix": LOC_FIX, "location": loc("matrix.py", 3, 9)},
         notes="'invalid syntax. Perhaps you forgot a comma?'"),
    case("own-py312-print-statement", "python", "python legacy.py",
         python_version(PY312) + file("legacy.py", """
             import sys

             print "usage: legacy.py FILE"
             sys.exit(2)
         """),
         "A Python 2 print statement run by CPython 3.12.",
         {"class": "syntax_error", "variant": "python", "subject": "legacy.py",
          "fix": LOC_FIX, "location": loc("legacy.py", 3, 1)}),
    case("own-py312-indentation-unindent", "python", "python tasks.py",
         python_version(PY312) + file("tasks.py", """
             def run(tasks):
                 for task in tasks:
                     if task:
                         print(task)
                   print("done")


             run(["a"])
         """),
         "A dedent to a column that matches no outer block.",
         {"class": "syntax_error", "variant": "python_indentation", "subject": "tasks.py",
          "fix": LOC_FIX, "location": loc("tasks.py", 5, None)},
         notes="'IndentationError: unindent does not match any outer indentation level'."),
    case("own-py311-taberror", "python", "python worker.py",
         raw("worker.py", b"def work(items):\n    for item in items:\n\tprint(item)\n"
                          b"        print('done')\n\nwork([1])\n"),
         "A block that mixes a tab and spaces.",
         {"class": "syntax_error", "variant": "python_indentation", "subject": "worker.py",
          "fix": LOC_FIX, "location": loc("worker.py", 3, None)},
         notes="TabError: inconsistent use of tabs and spaces in indentation."),
    case("own-py311-syntax-in-imported-module", "python", "python main.py",
         file("main.py", """
             from helpers import greet

             greet("world")
         """) + file("helpers.py", """
             def greet(name):
                 print(f"hello {name}"
         """),
         "The syntax error is in a module that the script imports.",
         {"class": "syntax_error", "variant": "python", "subject": "helpers.py",
          "fix": LOC_FIX, "location": loc("helpers.py", 2, 10)},
         notes="The traceback starts at main.py's import line; the location is helpers.py."),
    case("own-py311-pytest-syntax-in-test", "python", "python -m pytest -q",
         file("test_math.py", """
             def test_add():
                 assert 1 + 1 == 2


             def test_sub()
                 assert 2 - 1 == 1
         """),
         "pytest collection stops on a SyntaxError in a test file.",
         {"class": "syntax_error", "variant": "python", "subject": "test_math.py",
          "fix": LOC_FIX, "location": loc("test_math.py", 5, 15),
          "acceptable_classes": ["test_failure"]},
         notes="pytest shows it as 'ERROR collecting test_math.py' with 'E' prefixes, exit 2."),

    # --- data files read by Python ------------------------------------------------------------
    case("own-py313-json-trailing-comma", "data", "python load_config.py",
         python_version(PY313) + file("load_config.py", """
             import json

             config = json.load(open("data/config.json"))
             print(config["name"])
         """) + file("data/config.json", """
             {
               "name": "app",
               "debug": true,
             }
         """),
         "A JSON file with a trailing comma, read by json.load (CPython 3.13).",
         {"class": "syntax_error", "variant": "json", "subject": "data/config.json",
          "fix": report_location("Illegal trailing comma before end of object"),
          "location": loc("data/config.json", 3, 16)},
         notes="The message gives line/column; the file name is only in the script's line."),
    case("own-py311-yaml-scanner-error", "data", "python render.py",
         file("render.py", """
             import yaml

             with open("deploy.yml") as fh:
                 spec = yaml.safe_load(fh)
             print(spec["image"])
         """) + file("deploy.yml", """
             image: app:1.2
             env:
               DEBUG: true
               URL: http://example.invalid: 8080
         """),
         "PyYAML (installed in 3.11) reads a YAML file with a stray colon.",
         {"class": "syntax_error", "variant": "yaml", "subject": "deploy.yml",
          "fix": report_location("mapping values are not allowed here"),
          "location": loc("deploy.yml", 4, 30)},
         notes="PyYAML names the file, line and column: 'in \"deploy.yml\", line 4, column 30'."),
    case("own-py311-tomllib-error", "data", "python check_version.py",
         file("check_version.py", """
             import tomllib

             with open("pyproject.toml", "rb") as fh:
                 data = tomllib.load(fh)
             print(data["project"]["version"])
         """) + file("pyproject.toml", """
             [project]
             name = "app"
             version = 0.1.0
         """),
         "tomllib reads a pyproject.toml whose version is not quoted.",
         {"class": "syntax_error", "variant": "toml", "subject": "pyproject.toml",
          "fix": report_location("Invalid value: quote the version string"),
          "location": loc("pyproject.toml", 3, 14)},
         notes="tomllib.TOMLDecodeError gives line and column but not the file."),

    # --- run-time errors ------------------------------------------------------------------------
    case("own-py312-keyerror-environ", "python", "python settings.py",
         python_version(PY312) + file("settings.py", """
             import os

             DATABASE_URL = os.environ["DATABASE_URL"]
             print(DATABASE_URL)
         """),
         "A required environment variable is not set.",
         {"class": "runtime_error", "variant": "python_KeyError", "subject": "DATABASE_URL",
          "acceptable_subjects": ["KeyError"],
          "fix": report("DATABASE_URL is not set in the environment."),
          "location": loc("settings.py", 3, None)}),
    case("own-py313-attributeerror-none", "python", "python parse_log.py",
         python_version(PY313) + file("parse_log.py", """
             import re

             line = "GET /index.html 200"
             match = re.match(r"(POST) (\\S+)", line)
             print(match.group(2))
         """),
         "A regex that does not match; .group on None.",
         {"class": "runtime_error", "variant": "python_AttributeError",
          "fix": report("re.match returned None."), "location": loc("parse_log.py", 5, None)}),
    case("own-py311-typeerror-concat", "python", "python invoice.py",
         file("invoice.py", """
             def label(number):
                 return "INV-" + number


             print(label(42))
         """),
         "str + int at run time.",
         {"class": "runtime_error", "variant": "python_TypeError",
          "fix": report("can only concatenate str (not \"int\") to str"),
          "location": loc("invoice.py", 2, None), "acceptable_classes": ["type_error"]}),
    case("own-py312-chained-exception", "python", "python load_users.py",
         python_version(PY312) + file("load_users.py", """
             import json

             raw = '{"users": [{"name": "ada"}]}'


             def first_email(text):
                 data = json.loads(text)
                 try:
                     return data["users"][0]["email"]
                 except KeyError:
                     raise ValueError("user has no email")


             print(first_email(raw))
         """),
         "An exception raised while handling another (chained traceback).",
         {"class": "runtime_error", "variant": "python_ValueError",
          "fix": report("user has no email"), "location": loc("load_users.py", 11, None)},
         tags=["chained_traceback"]),
    case("own-py312-unicode-decode-error", "python", "python count_words.py",
         python_version(PY312) + raw("notes.txt", b"caf\xe9 cr\xe8me br\xfbl\xe9e\n")
         + file("count_words.py", """
             with open("notes.txt", encoding="utf-8") as fh:
                 print(len(fh.read().split()))
         """),
         "Reading a Latin-1 file as UTF-8.",
         {"class": "runtime_error", "variant": "python_UnicodeDecodeError",
          "fix": report("notes.txt is not UTF-8 (Latin-1?): open it with the right encoding."),
          "location": loc("count_words.py", 2, None)}),
    case("own-py313-filenotfound", "python", "python import_csv.py",
         python_version(PY313) + file("import_csv.py", """
             import csv

             with open("data/input.csv", newline="") as fh:
                 rows = list(csv.reader(fh))
             print(len(rows))
         """),
         "The script opens a data file that does not exist.",
         {"class": "file_not_found", "subject": "data/input.csv",
          "fix": report("data/input.csv does not exist.")}),
    case("own-py311-script-not-found", "python", "python manage.py migrate",
         file("app/manage.py", "print('manage')"),
         "`python manage.py` one folder above where manage.py lives.",
         {"class": "file_not_found", "subject": "manage.py",
          "fix": report("manage.py is in app/: cd app first."),
          "wrong_fixes": [{"kind": "pip_install"}]},
         notes="\"python: can't open file '/…/manage.py': [Errno 2] No such file or "
               "directory\", exit 2."),
    case("own-py311-permission-error-write", "python", "python3 export.py",
         "mkdir -p out\nchmod 755 out\n" + file("export.py", """
             with open("out/report.csv", "w") as fh:
                 fh.write("a,b\\n")
         """),
         "An unprivileged user (Debian's python3) writes into a root-owned output folder.",
         {"class": "permission_denied", "variant": "write", "subject": "out/report.csv",
          "fix": report("out/ is not writable by this user.")},
         user="nobody"),
    case("own-py312-keyboard-interrupt", "python", "python crawl.py",
         python_version(PY312) + file("crawl.py", """
             import os
             import signal
             import time

             for page in range(1, 4):
                 print(f"page {page}", flush=True)
                 if page == 3:
                     os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C here
                 time.sleep(0.05)
         """),
         "A long-running script is interrupted with SIGINT.",
         {"class": "interrupted", "fix": none()},
         notes="Python prints the KeyboardInterrupt traceback, then dies of SIGINT: exit 130."),

    # --- pip, offline -----------------------------------------------------------------------
    case("own-pip-package-not-found-local", "python",
         ".venv/bin/python -m pip install --no-index --find-links wheels requets",
         python_version(PY311) + venv(pip=True) + "python3 - <<'__PY__'\n" + WHEEL_MAKER
         + "wheel('requests', '2.0.0')\n__PY__\n",
         "pip install of a misspelled name from a local wheel folder.",
         {"class": "pip_package_not_found", "subject": "requets",
          "fix": report("No distribution named requets (did you mean requests?)."),
          "wrong_fixes": [{"kind": "pip_install", "packages": ["requets"]}]},
         notes="'Could not find a version that satisfies the requirement requets (from "
               "versions: none)'."),
    case("own-pip-resolution-impossible-local", "python",
         ".venv/bin/python -m pip install --no-index --find-links wheels alpha==1.0 "
         "'beta<2'",
         python_version(PY311) + venv(pip=True) + "python3 - <<'__PY__'\n" + WHEEL_MAKER
         + "wheel('alpha', '1.0', ['beta>=2'])\nwheel('beta', '1.5')\nwheel('beta', '2.1')\n"
           "__PY__\n",
         "Two requirements that cannot both hold (alpha 1.0 needs beta>=2), local wheels.",
         {"class": "pip_resolution_conflict", "subject": "beta",
          "fix": report("alpha 1.0 requires beta>=2 but beta<2 was asked for.")},
         tags=["tricky"]),
    case("own-pip-build-error-local-sdist", "python",
         ".venv/bin/python -m pip install --no-index --no-build-isolation ./vendor/legacy_ext",
         python_version(PY311) + venv(pip=True) + file("vendor/legacy_ext/setup.py", """
             import sys
             from setuptools import setup

             if sys.version_info >= (3, 10):
                 raise RuntimeError("legacy_ext only builds on Python < 3.10")

             setup(name="legacy_ext", version="0.3")
         """),
         "pip builds a vendored sdist whose setup.py fails.",
         {"class": "pip_install_error", "subject": "legacy_ext",
          "acceptable_subjects": ["./vendor/legacy_ext", "vendor/legacy_ext"],
          "fix": report("legacy_ext's setup.py refuses Python >= 3.10.")},
         notes="'error: subprocess-exited-with-error' around the setup.py traceback.",
         setup_timeout=300),
    case("own-pip-externally-managed", "python",
         "/usr/bin/python3 -m pip install --no-index --find-links wheels requests",
         "python3 - <<'__PY__'\n" + WHEEL_MAKER + "wheel('requests', '2.0.0')\n__PY__\n",
         "pip install into Debian's system Python (PEP 668).",
         {"class": "externally_managed_environment",
          "fix": {"kind": "use_venv", "argv": ["python3", "-m", "venv", ".venv"]}},
         notes="error: externally-managed-environment, exit 1."),
    case("own-pip-permission-denied-venv", "python",
         ".venv/bin/python -m pip install --no-index --find-links wheels tinyutil",
         "/usr/bin/python3 -m venv .venv\n" + "python3 - <<'__PY__'\n" + WHEEL_MAKER
         + "wheel('tinyutil', '1.0')\n__PY__\n" + "chmod 755 .\n",
         "An unprivileged user installs into a venv that root created (Debian's python3).",
         {"class": "permission_denied", "variant": "pip_install",
          "fix": report("The venv belongs to another user.")},
         user="nobody", env={"HOME": "/tmp"},
         notes="The venv's site-packages belongs to root."),
]
