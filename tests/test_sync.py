"""`recoverd sync` and broken_references: a real virtualenv with a wheel installed from a local
file, a node_modules folder, and a stand-in Ollama server on 127.0.0.1 (or none at all)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fake_ollama import FakeOllama
from package_index import build_wheel
from selfheal_projects import MODEL, write_tree

from recoverd import cli, ollama, resources
from recoverd.paths import StatePaths

PYTHON_PROJECT = {
    "requirements.txt": "Fancy-YAML>=1.0\nmissing-dist==2.0\n",
    "app.py": ("import json\nimport fancy_yaml\nimport helpers\nimport not_installed_mod\n"
               "from . import sibling\n\ntry:\n    import optional_speedup\n"
               "except ImportError:\n    optional_speedup = None\n"),
    "helpers.py": "VALUE = 1\n",
}
NODE_PROJECT = {
    "package.json": ('{"name": "web", "dependencies": {"left-pad": "^1.3.0", '
                     '"absent-pkg": "^1.0.0"}, "devDependencies": {"@scope/tool": "^2.0.0"}}'),
    "index.js": ("const pad = require('left-pad');\nconst fs = require('fs');\n"
                 "const gone = require('gone-pkg/sub/path');\nconst local = require('./local');\n"
                 "import tool from '@scope/tool';\nimport 'node:path';\n"),
    "node_modules/left-pad/package.json": '{"name": "left-pad", "version": "1.3.0"}',
    "node_modules/@scope/tool/package.json": '{"name": "@scope/tool", "version": "2.1.0"}',
}
OLLAMA_PROJECT = {
    "config.yaml": f"model: {MODEL}\nembedding_model: nomic-embed-text:v1.5\n",
    ".env": "OLLAMA_MODEL=llama3:8b\n",
    "scripts/pull.sh": "ollama pull mistral\n",
    "docs/models.md": "model: not-a-real-model:1b\n",  # docs are not read for uses
}


def _broken(found: list[resources.BrokenReference]) -> dict[tuple[str, str], str]:
    return {(b.kind, b.name): b.why for b in found}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def python_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose .venv has Fancy-YAML 1.0 installed from a wheel built here."""
    root = write_tree(tmp_path_factory.mktemp("py"), PYTHON_PROJECT)
    wheel = build_wheel(root.parent / "wheels", "Fancy-YAML", "1.0",
                        {"fancy_yaml/__init__.py": "VALUE = 1\n"})
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")],
                   check=True)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(root / ".venv/bin/python"),
                    "install", "--no-index", "--quiet", str(wheel)], check=True, env=env)
    return root


def test_python_declared_and_imported_but_missing(python_project: Path) -> None:
    found = resources.broken_references(python_project, environ={})
    venv = str(python_project / ".venv")
    assert _broken(found) == {
        ("python", "missing-dist"): f"declared, but not installed in {venv}",
        ("python-module", "not_installed_mod"):
            f"imported, but no distribution in {venv} provides it",
    }
    where = {(b.kind, b.name): b.where for b in found}
    assert where[("python", "missing-dist")] == ("requirements.txt:2",)
    assert where[("python-module", "not_installed_mod")] == ("app.py:4",)


def test_sync_records_what_the_environment_has_and_where_it_is_used(
        python_project: Path, tmp_path: Path) -> None:
    state = StatePaths(tmp_path / "home")
    survey, record = resources.sync(python_project, state, environ={}, now=1000.0)
    assert survey.python is not None and survey.python.versions["Fancy-YAML"] == "1.0"
    registry = resources.load_registry(state)
    assert registry["projects"][str(python_project)] == record
    assert record["synced_at"] == 1000.0 and record["python"] == str(python_project / ".venv")
    entries = {(e["kind"], e["name"]): e for e in record["resources"]}
    fancy = entries[("python", "Fancy-YAML")]
    assert fancy["installed"] is True and fancy["version"] == "1.0"
    assert fancy["used_in"] == ["requirements.txt:1", "app.py:2"]
    assert entries[("python", "missing-dist")]["installed"] is False
    assert os.stat(state.root / "resources.json").st_mode & 0o777 == 0o600


def test_node_packages_required_but_absent(tmp_path: Path) -> None:
    root = write_tree(tmp_path, NODE_PROJECT)
    found = resources.broken_references(root, environ={})
    modules = str(root / "node_modules")
    assert _broken(found) == {
        ("node", "absent-pkg"): f"required, but absent from {modules}",
        ("node", "gone-pkg"): f"required, but absent from {modules}",
    }
    survey = resources.survey(root, environ={})
    assert survey.node is not None
    assert survey.node.versions == {"left-pad": "1.3.0", "@scope/tool": "2.1.0"}
    assert any("no virtualenv" in note for note in survey.notes)


def test_ollama_models_the_server_does_not_list(tmp_path: Path) -> None:
    root = write_tree(tmp_path, OLLAMA_PROJECT)
    with FakeOllama([MODEL, "mistral:latest"]) as server:
        found = resources.broken_references(root, environ={ollama.URL_VARIABLE: server.base_url})
        assert server.paths == ["/api/tags"]
    missing = f"named, but the Ollama server at {server.base_url} does not list it"
    assert _broken(found) == {("ollama", "llama3:8b"): missing,
                              ("ollama", "nomic-embed-text:v1.5"): missing}


def test_sync_says_plainly_when_no_ollama_server_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = write_tree(tmp_path / "p", OLLAMA_PROJECT)
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("RECOVERD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(ollama.URL_VARIABLE, url)
    assert cli.main(["sync", "--project", str(root)]) == 0
    out = capsys.readouterr().out
    assert (f"no Ollama server answers at {url} (Connection refused); models were not checked"
            in out)
    assert "BROKEN" not in out  # nothing is guessed
    assert cli.main(["sync", "--project", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ollama"] == {"url": url, "running": False, "error": "Connection refused"}
    models = [e for e in data["resources"] if e["kind"] == "ollama"]
    assert {m["name"] for m in models} == {MODEL, "nomic-embed-text:v1.5", "llama3:8b",
                                           "mistral"}
    assert all(m["installed"] is None for m in models)  # unknown, not missing


def test_sync_lists_the_models_of_a_running_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = write_tree(tmp_path / "p", {"config.yaml": f"model: {MODEL}\n"})
    monkeypatch.setenv("RECOVERD_HOME", str(tmp_path / "home"))
    with FakeOllama([MODEL]) as server:
        monkeypatch.setenv(ollama.URL_VARIABLE, server.base_url)
        assert cli.main(["sync", "--project", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    entry = next(e for e in data["resources"] if e["kind"] == "ollama")
    assert entry["name"] == MODEL and entry["installed"] is True
    assert entry["location"] == server.base_url and entry["used_in"] == ["config.yaml:1"]
    assert data["broken"] == []


@pytest.mark.parametrize("url", ["http://example.com:11434", "http://10.0.0.5:11434",
                                 "file:///etc/passwd"])
def test_only_a_server_on_this_machine_is_asked(url: str, tmp_path: Path) -> None:
    with pytest.raises(ollama.OllamaURLError, match="only a server on this machine"):
        ollama.server_url({ollama.URL_VARIABLE: url})
    survey = resources.survey(write_tree(tmp_path, OLLAMA_PROJECT),
                              environ={ollama.URL_VARIABLE: url})
    assert survey.models is None
    assert any("only a server on this machine" in note for note in survey.notes)


def test_the_registry_starts_empty_and_round_trips(tmp_path: Path) -> None:
    state = StatePaths(tmp_path / "home")
    assert resources.load_registry(state) == {"version": 1, "projects": {}}
    resources.save_registry(state, {"version": 1, "projects": {"/p": {"resources": []}}})
    assert resources.load_registry(state)["projects"] == {"/p": {"resources": []}}
