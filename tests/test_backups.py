"""Backups and rollbacks: byte-identical restores, edits after a fix detected, files that
cannot be written reported with nothing half-written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selfheal_projects import MODEL, NEW_MODEL, recoverd, snapshot, write_tree

from recoverd import backups, cli, selfheal, textfiles

# Lines a generated file is made of: plain text or a reference in one of its many places.
_REFERENCE_LINES = [
    f"model: {MODEL}", f"  - {MODEL}", f"# uses {MODEL}", f'x = "{MODEL}"',
    f"run {MODEL} now", f'p = f"{MODEL} {{x}}"', f"OLLAMA_MODEL={MODEL}",
    f"see https://ollama.com/library/{MODEL}/tags", f"{MODEL} {MODEL}",
]
_LATIN = "abcxyz =:-_#\"'()\t\xe9\xe0\xfc\xa7"  # no digits: never spells a model by chance
_NAMES = ["config.yaml", "app.py", "src/pkg/mod.py", "docs/guide.md", "scripts/run.sh",
          "notes.txt", ".env", "deep/er/still/settings.toml", "Dockerfile"]


@st.composite
def _file(draw: st.DrawFn) -> tuple[bytes, int]:
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    alphabet = _LATIN + ("\u2713\u00df" if encoding == "utf-8" else "")
    plain = st.text(alphabet=alphabet, max_size=25)
    lines = draw(st.lists(st.one_of(plain, st.sampled_from(_REFERENCE_LINES)), max_size=12))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return text.encode(encoding), draw(st.sampled_from([0o644, 0o755]))


_PROJECTS = st.dictionaries(st.sampled_from(_NAMES), _file(), min_size=1, max_size=6)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PROJECTS)
def test_apply_then_rollback_is_byte_identical(tree: dict[str, tuple[bytes, int]]) -> None:
    with tempfile.TemporaryDirectory(prefix="recoverd-heal-") as folder:
        root, store = Path(folder, "p"), Path(folder, "backups")
        write_tree(root, {name: data for name, (data, _) in tree.items()},
                   {name: mode for name, (_, mode) in tree.items()})
        before = snapshot(root)
        result = selfheal.apply(selfheal.plan(root, MODEL, NEW_MODEL), store)
        assert result.failed == ()
        for name, (data, mode) in before.items():
            after, after_mode = snapshot(root)[name]
            assert after_mode == mode
            decoded = textfiles.decode(data)
            assert decoded is not None
            # Only the references changed: the new name put back gives the very same bytes.
            text, encoding = decoded
            assert after.decode(encoding).replace(NEW_MODEL, MODEL) == text
            assert after.count(b"\r\n") == data.count(b"\r\n")
        if result.backup_id is None:
            assert snapshot(root) == before
            return
        restored = backups.rollback(store)
        assert sorted(restored.restored) == sorted(result.applied)
        assert snapshot(root) == before


class Run:
    """`recoverd ARGS` in this process, with RECOVERD_HOME set: (exit code, stdout, stderr)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                 home: Path) -> None:
        self.capsys = capsys
        monkeypatch.setenv("RECOVERD_HOME", str(home))

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def apply(self, root: Path, resource: str = MODEL, new: str = NEW_MODEL) -> Any:
        code, out, err = self("fix", resource, new, "--apply", "--json", "--project", str(root))
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> Run:
    return Run(monkeypatch, capsys, tmp_path / "home")


def test_the_manifest_records_what_was_backed_up(tmp_path: Path, run: Run) -> None:
    root = write_tree(tmp_path / "p", {"config.yaml": f"model: {MODEL}\n", "run.sh":
                                       f"ollama run {MODEL}\n"}, {"run.sh": 0o755})
    result = run.apply(root)
    folder = tmp_path / "home" / "backups" / result["backup"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {k: manifest[k] for k in ("id", "resource", "replacement", "state", "root")} == {
        "id": result["backup"], "resource": MODEL, "replacement": NEW_MODEL,
        "state": "applied", "root": str(root)}
    assert manifest["time"].endswith("Z")
    files = {f["path"]: f for f in manifest["files"]}
    assert files["run.sh"]["mode"] == 0o755 and files["config.yaml"]["mode"] == 0o644
    original = f"model: {MODEL}\n".encode()
    assert files["config.yaml"]["sha256"] == textfiles.sha256(original)
    assert files["config.yaml"]["applied_sha256"] == textfiles.sha256(
        (root / "config.yaml").read_bytes())
    assert (folder / "files" / "config.yaml").read_bytes() == original
    assert os.stat(folder).st_mode & 0o777 == 0o700


def test_rollback_refuses_when_a_file_changed_since_the_fix(tmp_path: Path, run: Run) -> None:
    root = write_tree(tmp_path / "p", {"config.yaml": f"model: {MODEL}\n",
                                       "app.py": f'MODEL = "{MODEL}"\n',
                                       "README.md": f"Uses {MODEL}.\n"})
    before = snapshot(root)
    run.apply(root)
    with (root / "config.yaml").open("a") as handle:
        handle.write("temperature: 0.2\n")
    (root / "README.md").unlink()
    edited = snapshot(root)
    code, _, refused = run("rollback")
    assert code == 1
    assert "config.yaml (edited after the fix)" in refused
    assert "README.md (deleted)" in refused and "--force" in refused
    assert "app.py" not in refused
    assert snapshot(root) == edited  # nothing restored
    code, forced, err = run("rollback", "--force", "--json")
    assert code == 0, err
    assert {o["path"] for o in json.loads(forced)["overridden"]} == {
        "config.yaml", "README.md"}
    assert snapshot(root) == before


def test_backups_are_listed_and_rolled_back_newest_first(tmp_path: Path, run: Run) -> None:
    root = write_tree(tmp_path / "p", {"config.yaml": f"model: {MODEL}\nembed: nomic\n"})
    before = snapshot(root)
    first = run.apply(root)["backup"]
    second = run.apply(root, "nomic", "mxbai")["backup"]
    listed = json.loads(run("backups", "--json")[1])
    assert [(b["id"], b["resource"], b["files"]) for b in listed] == [
        (second, "nomic", ["config.yaml"]), (first, MODEL, ["config.yaml"])]
    table = run("backups")[1]
    assert second in table and f"{MODEL} → {NEW_MODEL}" in table
    assert json.loads(run("rollback", "--json")[1])["backup"] == second
    code, _, again = run("rollback", second)
    assert code == 1 and "already rolled back" in again
    assert json.loads(run("rollback", "--json")[1])["backup"] == first
    assert snapshot(root) == before
    assert "no backup to roll back" in run("rollback")[2]
    assert "no backup 'nope'" in run("rollback", "nope")[2]


def test_binary_files_and_symlinks_are_left_alone(tmp_path: Path, run: Run) -> None:
    outside = tmp_path / "shared.yaml"
    outside.write_text(f"model: {MODEL}\n")
    root = write_tree(tmp_path / "p", {"model.bin": b"GGUF\x00" + MODEL.encode(),
                                       "config.yaml": f"model: {MODEL}\n"})
    (root / "linked.yaml").symlink_to(outside)
    before = snapshot(root)
    result = run.apply(root)
    assert result["applied"] == ["config.yaml"]
    after = snapshot(root)
    assert after["model.bin"] == before["model.bin"]
    assert after["linked.yaml"] == ("->", str(outside))
    assert outside.read_text() == f"model: {MODEL}\n"


def _unprivileged() -> tuple[str, ...]:
    """A prefix that makes file permissions bind this test's child process.

    Root ignores mode bits (CAP_DAC_OVERRIDE), so a 0444 file does not stop it. In a new user
    namespace (`unshare --user`, no root mapping) the process keeps uid 0 on the files of the
    outer namespace but has no capability over them: the kernel then checks the owner's mode
    bits, and 0444 / 0555 really refuse writes. Not root: the bits already bind."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "--user", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("running as root without user namespaces: cannot make a file read-only")
    return ("unshare", "--user")


def test_a_file_that_cannot_be_written_is_reported_and_the_rest_applied(tmp_path: Path,
                                                                         run: Run) -> None:
    home = tmp_path / "home"
    root = write_tree(tmp_path / "p", {"config.yaml": f"model: {MODEL}\n",
                                       "locked/ro.yaml": f"model: {MODEL}\n",
                                       "sealed/open.yaml": f"model: {MODEL}\n"},
                      {"locked/ro.yaml": 0o444})
    before = snapshot(root)
    os.chmod(root / "locked", 0o555)  # a read-only file in a read-only folder
    os.chmod(root / "sealed", 0o555)  # a writable file whose folder takes no temp file
    try:
        done = recoverd(["fix", MODEL, NEW_MODEL, "--apply", "--json", "--project", str(root)],
                        home, root, prefix=_unprivileged())
        assert done.returncode == 1, done.stderr
        result = json.loads(done.stdout)
        assert result["applied"] == ["config.yaml"]
        failed = {f["path"]: f["error"] for f in result["failed"]}
        assert failed == {"locked/ro.yaml": "locked/ro.yaml is read-only",
                          "sealed/open.yaml": "sealed/open.yaml: Permission denied"}
        assert sorted(os.listdir(root / "sealed")) == ["open.yaml"]  # no temp file left
        after = snapshot(root)
        assert after["locked/ro.yaml"] == before["locked/ro.yaml"]
        assert after["sealed/open.yaml"] == before["sealed/open.yaml"]
        manifest = json.loads((home / "backups" / result["backup"] / "manifest.json").read_text())
        assert manifest["state"] == "partial"
        assert {f["path"]: f["status"] for f in manifest["files"]} == {
            "config.yaml": "applied", "locked/ro.yaml": "failed", "sealed/open.yaml": "failed"}
        code, rolled, err = run("rollback", "--json")
        assert code == 0, err
        assert json.loads(rolled)["restored"] == ["config.yaml"]
        assert snapshot(root) == before
    finally:
        os.chmod(root / "locked", 0o755)
        os.chmod(root / "sealed", 0o755)
