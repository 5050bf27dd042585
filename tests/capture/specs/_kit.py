"""Small builders for the case specs: setup-script fragments and common labels.

Setup fragments are written so that tests/corpus.py's `materialise` can rebuild the files
without running anything: text files as `cat > path <<'__EOF__'` here-documents, exact bytes
(CRLF, Latin-1, no final newline) through an inline `python3 -` generator."""

from __future__ import annotations

import os
import textwrap
from typing import Any

PY311, PY312, PY313 = "3.11.7", "3.12.1", "3.13.0"
WHEELS = "/opt/pypi/files"  # the machine image's local wheel folder (no index, no network)
NODE_TOOLS = "/root/rcv/js/node_modules"  # a node_modules holding typescript, offline


def file(path: str, text: str, dedent: bool = True) -> str:
    """A here-document writing `text` to `path` (parent folders first)."""
    if dedent:
        text = textwrap.dedent(text).lstrip("\n")
    if not text.endswith("\n"):
        text += "\n"
    assert "\n__EOF__\n" not in text
    folder = os.path.dirname(path)
    return (f"mkdir -p {folder}\n" if folder else "") + f"cat > {path} <<'__EOF__'\n{text}__EOF__\n"


def raw(path: str, data: bytes) -> str:
    """Exact bytes, through an inline python3 generator."""
    folder = os.path.dirname(path)
    return ((f"mkdir -p {folder}\n" if folder else "")
            + f"python3 - <<'__PY__'\nopen({path!r}, 'wb').write({data!r})\n__PY__\n")


INI_PYTEST = file("pytest.ini", """
    [pytest]
    pythonpath = .
""")


def python_version(version: str) -> str:
    """pyenv local: `python` in this folder is that CPython."""
    return file(".python-version", version)


def venv(pip: bool = False, packages: tuple[str, ...] = ()) -> str:
    """A venv of the folder's `python`; packages come from the local wheel folder only."""
    # the folder name right after `-m venv`, which is where `materialise` looks for it
    script = f"python -m venv .venv{'' if pip else ' --without-pip'}\n"
    if packages:
        installer = ".venv/bin/python -m pip" if pip else "python -m pip --python .venv/bin/python"
        script += (f"{installer} install -q --no-compile --no-index --find-links {WHEELS} "
                   + " ".join(packages) + "\n")
    return script


def git_repo() -> str:
    return ("git init -q -b main\n"
            "git config user.email dev@example.com\n"
            "git config user.name Dev\n")


def report(description: str) -> dict[str, Any]:
    return {"kind": "report", "description": description}


def report_location(description: str) -> dict[str, Any]:
    return {"kind": "report_location", "description": description}


def none() -> dict[str, Any]:
    return {"kind": "none"}


def pip_install(python: str, *packages: str) -> dict[str, Any]:
    return {"kind": "pip_install", "packages": list(packages),
            "argv": [python, "-m", "pip", "install", *packages]}


def apt(package: str) -> dict[str, Any]:
    return {"manager": "apt", "argv": ["apt-get", "install", "-y", package]}


def pip_cmd(package: str) -> dict[str, Any]:
    return {"manager": "pip", "argv": ["python", "-m", "pip", "install", package]}


def npm_cmd(package: str) -> dict[str, Any]:
    return {"manager": "npm", "argv": ["npm", "install", "-g", package]}


def install_command(*candidates: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "install_command", "candidates": list(candidates)}


def rerun(argv: list[str]) -> dict[str, Any]:
    return {"kind": "rerun_failed_tests", "argv": argv}


def loc(file: str, line: int, col: int | None = None) -> dict[str, Any]:
    return {"file": file, "line": line, "col": col}


def tests(*ids: str) -> list[dict[str, Any]]:
    """failing_tests from runner ids: pytest `path::name`, go `TestX`, cargo `mod::name` ..."""
    out = []
    for ident in ids:
        if "::" in ident and ident.split("::")[0].endswith(".py"):
            path, _, name = ident.partition("::")
            out.append({"id": ident, "file": path, "name": name})
        else:
            out.append({"id": ident, "name": ident.rsplit("::", 1)[-1].rsplit(".", 1)[-1]})
    return out


def case(id: str, ecosystem: str, command: str, setup: str, setup_description: str,
         expected: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"id": id, "ecosystem": ecosystem, "command": command, "setup": setup,
            "setup_description": setup_description, "expected": expected, **more}
