"""The project around a command: found by its markers, read once, read again when it changes."""

from __future__ import annotations

import os
from pathlib import Path

from recoverd import project


def bump(path: Path) -> None:
    """Move the file's time on, as an edit a moment later would (coarse clocks tie)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def age(top: Path, seconds: float = 60.0) -> None:
    """Move the times of a whole tree into the past: settled files, which load() trusts."""
    for path in [top, *top.rglob("*")]:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def names(proj: project.Project) -> set[str]:
    return {d.name for d in proj.python}


def test_declarations_follow_every_kind_of_change(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["requests"]\n')
    sub = tmp_path / "pkg" / "deep"
    sub.mkdir(parents=True)
    age(tmp_path)
    assert names(project.load(sub)) == {"requests"}
    assert project.load(sub) is project.load(tmp_path)  # one read, shared by the whole tree

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["requests", "PyYAML"]\n')
    bump(tmp_path / "pyproject.toml")
    assert names(project.load(sub)) == {"requests", "PyYAML"}  # edited in place

    (tmp_path / "requirements-dev.txt").write_text("pytest\n")
    assert "pytest" in names(project.load(sub))  # a new file at the root

    (tmp_path / "requirements-dev.txt").write_text("pytest\nhypothesis\n")
    bump(tmp_path / "requirements-dev.txt")
    assert "hypothesis" in names(project.load(sub))  # a requirements file edited in place

    (tmp_path / "requirements-dev.txt").unlink()
    assert names(project.load(sub)) == {"requests", "PyYAML"}  # removed


def test_local_packages_at_the_root_and_under_src(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "my-app"\n')
    (tmp_path / "src" / "engine").mkdir(parents=True)
    (tmp_path / "src" / "engine" / "__init__.py").write_text("")
    (tmp_path / "helpers.py").write_text("")
    proj = project.load(tmp_path)
    assert proj.has_local_package("engine")
    assert proj.has_local_package("helpers")
    assert proj.has_local_package("my_app")  # the project itself
    assert not proj.has_local_package("yaml")


def test_local_packages_made_after_the_first_look_are_seen(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "my-app"\n')
    (tmp_path / "src").mkdir()
    assert not project.load(tmp_path).has_local_package("later")
    (tmp_path / "src" / "later").mkdir()
    (tmp_path / "src" / "later" / "__init__.py").write_text("")
    assert project.load(tmp_path).has_local_package("later")
    assert not project.load(tmp_path).has_local_package("single")
    (tmp_path / "single.py").write_text("")
    assert project.load(tmp_path).has_local_package("single")


def test_a_change_in_the_same_clock_tick_as_the_read_is_seen(tmp_path: Path) -> None:
    """File times are coarse: an edit right after a read may leave them as they were."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "app"\ndependencies = ["requests"]\n')
    assert names(project.load(tmp_path)) == {"requests"}
    before = pyproject.stat()
    pyproject.write_text('[project]\nname = "app"\ndependencies = ["rich"]\n')
    os.utime(pyproject, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same tick
    assert names(project.load(tmp_path)) == {"rich"}
    # Settled files are trusted: the same trick then goes unseen, and nothing is read again.
    age(tmp_path)
    settled = project.load(tmp_path)
    assert project.load(tmp_path) is settled
