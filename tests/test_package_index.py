"""Tests of tests/package_index.py: real pip, uv and npm installs from local servers only.

Every child process runs with a ``*_env`` environment wired to a :class:`TrapProxy`: a request
for any host other than 127.0.0.1 would land in the trap (and be refused) instead of leaving the
machine, and the autouse ``no_outbound_requests`` fixture fails the test if the trap saw anything.
``test_trap_proxy_catches_*`` prove the trap really is in the path of pip, uv and npm.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from package_index import (
    NpmRegistry,
    PackageIndex,
    TrapProxy,
    build_npm_tarball,
    build_wheel,
    find_uv,
    normalize_name,
    npm_env,
    npm_integrity,
    pip_env,
    uv_env,
    write_npmrc,
)

LIFETIME_S = 90.0
CMD_TIMEOUT_S = 60.0
NPM = shutil.which("npm")
NODE = shutil.which("node")
UV = find_uv()

needs_npm = pytest.mark.skipif(NPM is None or NODE is None, reason="node/npm not on PATH")
needs_uv = pytest.mark.skipif(
    UV is None, reason="uv not installed (pip install uv, or the 'test' extra)"
)


def run(
    cmd: list[str], *, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=CMD_TIMEOUT_S
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def trap() -> Iterator[TrapProxy]:
    proxy = TrapProxy(lifetime_s=LIFETIME_S * 2).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(autouse=True)
def no_outbound_requests(trap: TrapProxy) -> Iterator[None]:
    trap.clear_log()
    yield
    assert trap.requests() == [], "a request tried to leave the machine"


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real venv (with pip) for the module; tests install distinct packages into it."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    return venv / "bin" / "python"


@pytest.fixture
def index(tmp_path: Path) -> Iterator[PackageIndex]:
    server = PackageIndex(tmp_path / "wheels", lifetime_s=LIFETIME_S).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[NpmRegistry]:
    server = NpmRegistry(tmp_path / "tarballs", lifetime_s=LIFETIME_S).start()
    try:
        yield server
    finally:
        server.stop()


def python_in(venv_python: Path, code: str) -> str:
    result = subprocess.run(
        [str(venv_python), "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=CMD_TIMEOUT_S,
    )
    assert result.returncode == 0, output(result)
    return result.stdout.strip()


# ---------------------------------------------------------------------------------------------
# Wheels


def test_build_wheel_is_a_valid_pep427_wheel(tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path,
        "Fancy-YAML",
        "1.2.0",
        {"fancy_yaml/__init__.py": "VALUE = 1\n", "fancy_yaml/sub/x.py": "", "solo.py": "S=1"},
        requires=["dep-a>=1"],
        extras={"Fast": ["speedy>=2", "cy; python_version >= '3.8'"]},
        console_scripts={"fancy": "fancy_yaml:main"},
    )
    assert wheel.name == "fancy_yaml-1.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        files = {name: archive.read(name) for name in names}
    info = "fancy_yaml-1.2.0.dist-info"
    assert {f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD", f"{info}/top_level.txt"} <= set(
        names
    )
    metadata = files[f"{info}/METADATA"].decode()
    assert metadata.startswith("Metadata-Version: 2.1\nName: Fancy-YAML\nVersion: 1.2.0\n")
    assert "Requires-Dist: dep-a>=1\n" in metadata
    assert "Provides-Extra: fast\n" in metadata
    assert 'Requires-Dist: speedy>=2; extra == "fast"\n' in metadata
    assert "Requires-Dist: cy; (python_version >= '3.8') and extra == \"fast\"\n" in metadata
    wheel_file = files[f"{info}/WHEEL"].decode()
    assert "Wheel-Version: 1.0\n" in wheel_file and "Tag: py3-none-any\n" in wheel_file
    assert "Root-Is-Purelib: true\n" in wheel_file
    assert files[f"{info}/top_level.txt"].decode().split() == ["fancy_yaml", "solo"]
    assert (
        "[console_scripts]\nfancy = fancy_yaml:main\n" in files[f"{info}/entry_points.txt"].decode()
    )

    rows = list(csv.reader(io.StringIO(files[f"{info}/RECORD"].decode())))
    recorded = {row[0]: (row[1], row[2]) for row in rows}
    assert set(recorded) == set(names)
    assert recorded[f"{info}/RECORD"] == ("", "")
    for name, (digest, size) in recorded.items():
        if name.endswith("RECORD"):
            continue
        expected = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=")
        assert digest == "sha256=" + expected.decode()
        assert int(size) == len(files[name])

    # Reproducible bytes: stable sha256 across builds.
    again = build_wheel(
        tmp_path / "again",
        "Fancy-YAML",
        "1.2.0",
        {"fancy_yaml/__init__.py": "VALUE = 1\n", "fancy_yaml/sub/x.py": "", "solo.py": "S=1"},
        requires=["dep-a>=1"],
        extras={"Fast": ["speedy>=2", "cy; python_version >= '3.8'"]},
        console_scripts={"fancy": "fancy_yaml:main"},
    )
    assert again.read_bytes() == wheel.read_bytes()


def test_simple_index_pages_follow_pep503(index: PackageIndex) -> None:
    wheel = index.add_wheel(
        "Fancy-YAML", "1.0", {"fancy_yaml/__init__.py": "VALUE = 1"}, requires_python=">=3.8"
    )
    index.add_wheel("dep_pkg", "0.1", {"dep_mod.py": ""})

    root = urllib.request.urlopen(index.url, timeout=10).read().decode()
    assert '<a href="/simple/fancy-yaml/">fancy-yaml</a>' in root
    assert '<a href="/simple/dep-pkg/">dep-pkg</a>' in root

    # Any spelling of the name reaches the normalized project.
    page = urllib.request.urlopen(index.url + "Fancy_YAML/", timeout=10).read().decode()
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f'href="/files/{wheel.name}#sha256={sha256}"' in page
    assert 'data-requires-python="&gt;=3.8"' in page
    meta_hash = re.search(r'data-core-metadata="sha256=([0-9a-f]+)"', page)
    assert meta_hash is not None

    data = urllib.request.urlopen(f"{index.base_url}/files/{wheel.name}", timeout=10).read()
    assert data == wheel.read_bytes()
    meta = urllib.request.urlopen(
        f"{index.base_url}/files/{wheel.name}.metadata", timeout=10
    ).read()
    assert hashlib.sha256(meta).hexdigest() == meta_hash.group(1)
    assert b"Name: Fancy-YAML" in meta

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(index.url + "no-such-project/", timeout=10)
    assert missing.value.code == 404

    assert index.page_fetches("FANCY.yaml") == 1
    assert index.file_downloads("fancy-yaml") == 1
    assert index.file_downloads() == 1
    assert index.metadata_fetches("fancy-yaml") == 1
    assert index.count("/simple/") == 1
    assert ("GET", "/simple/no-such-project/") in index.request_log()
    assert index.count("/simple/no-such-project/", status=404) == 1


def test_pip_installs_dist_whose_import_name_differs(
    index: PackageIndex, venv_python: Path, trap: TrapProxy
) -> None:
    index.add_wheel(
        "Fancy-YAML",
        "1.0",
        {"fancy_yaml/__init__.py": "from dep_mod import X\nVALUE = 1\n"},
        requires=["Dep.Pkg>=1"],
        extras={"fast": ["speedy"]},
    )
    index.add_wheel("dep-pkg", "1.2", {"dep_mod.py": "X = 2\n"})
    index.add_wheel("speedy", "3.0", {"speedy/__init__.py": ""})

    result = run(
        [str(venv_python), "-m", "pip", "install", "Fancy-YAML[fast]"],
        env=pip_env(index.url, trap_proxy=trap.url),
    )
    assert result.returncode == 0, output(result)
    assert f"Looking in indexes: {index.url}" in result.stdout

    seen = python_in(
        venv_python,
        "import fancy_yaml, importlib.metadata as m; "
        "print(fancy_yaml.VALUE, fancy_yaml.X, m.version('Fancy-YAML'), m.version('fancy_yaml'), "
        "m.packages_distributions()['fancy_yaml'])",
    )
    assert seen == "1 2 1.0 1.0 ['Fancy-YAML']"

    assert index.page_fetches("fancy-yaml") >= 1
    assert index.file_downloads("fancy-yaml") == 1
    assert index.file_downloads("dep-pkg") == 1
    assert index.file_downloads("speedy") == 1
    assert ("GET", "/files/fancy_yaml-1.0-py3-none-any.whl") in index.request_log()
    assert all(r.status == 200 for r in index.requests())


def test_pip_env_ignores_machine_and_user_pip_config(
    index: PackageIndex, tmp_path: Path, trap: TrapProxy
) -> None:
    """Poison every pip config source; pip_env must use only the local index."""
    index.add_wheel("good-pkg", "1.0", {"good_pkg.py": ""})
    poison = tmp_path / "poison"
    build_wheel(poison, "poison-pkg", "6.6.6", {"poison_pkg.py": ""})
    xdg = tmp_path / "xdg"
    (xdg / "pip").mkdir(parents=True)
    (xdg / "pip" / "pip.conf").write_text(f"[global]\nfind-links = {poison}\n")
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text(f"[global]\nfind-links = {poison}\nno-index = true\n")
    poisoned = dict(os.environ)
    poisoned.update(
        XDG_CONFIG_HOME=str(xdg),
        PIP_CONFIG_FILE=str(pip_conf),
        PIP_FIND_LINKS=str(poison),
        PIP_EXTRA_INDEX_URL=poison.as_uri(),
        PIP_NO_INDEX="1",
        HTTPS_PROXY="http://127.0.0.1:9/",
    )
    download = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path / "d")]

    # Control: the poison is effective when pip_env is not in the way.
    control = run([*download, "poison-pkg"], env=poisoned)
    assert control.returncode == 0, output(control)

    env = pip_env(index.url, base=poisoned, trap_proxy=trap.url)
    assert env["PIP_CONFIG_FILE"] == os.devnull
    assert env["PIP_INDEX_URL"] == index.url
    for var in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        assert var not in env
    assert env["HTTPS_PROXY"] == trap.url and "127.0.0.1" in env["NO_PROXY"]

    blocked = run([*download, "poison-pkg"], env=env)
    assert blocked.returncode != 0, output(blocked)
    assert "No matching distribution found for poison-pkg" in blocked.stderr
    good = run([*download, "good-pkg"], env=env)
    assert good.returncode == 0, output(good)
    assert index.file_downloads("good-pkg") == 1


def test_transient_503_then_success(index: PackageIndex, tmp_path: Path, trap: TrapProxy) -> None:
    index.add_wheel("flaky-pkg", "1.0", {"flaky_pkg.py": ""})
    index.fail_first(2, status=503)
    download = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path / "d")]

    first = run([*download, "flaky-pkg"], env=pip_env(index.url, retries=0, trap_proxy=trap.url))
    assert first.returncode != 0, output(first)
    # Pitfall: pip reports an index page that answered 503 (or a reset) exactly like a project
    # that does not exist: "from versions: none", with no trace of the 503, even with -v.
    assert "No matching distribution found for flaky-pkg" in first.stderr
    assert index.faults_left == 1

    # pip's own retry (urllib3, status_forcelist includes 503) absorbs the second failure.
    second = run([*download, "flaky-pkg"], env=pip_env(index.url, retries=2, trap_proxy=trap.url))
    assert second.returncode == 0, output(second)
    assert index.faults_left == 0
    statuses = [r.status for r in index.requests() if r.path == "/simple/flaky-pkg/"]
    assert statuses[:3] == [503, 503, 200]
    assert index.file_downloads("flaky-pkg") == 1


def test_connection_reset_mode_then_success(
    index: PackageIndex, tmp_path: Path, trap: TrapProxy
) -> None:
    index.add_wheel("flaky-pkg", "1.0", {"flaky_pkg.py": ""})
    index.fail_first(1, mode="reset", match="/simple/")
    with pytest.raises((ConnectionError, urllib.error.URLError, OSError)):
        urllib.request.urlopen(index.url + "flaky-pkg/", timeout=10).read()
    assert index.requests()[-1].status == 0  # logged as a reset

    # Reset the wheel download once (not its .metadata sidecar).
    index.fail_first(1, mode="reset", match=re.compile(r"\.whl$"))
    download = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path / "d")]
    result = run([*download, "flaky-pkg"], env=pip_env(index.url, retries=2, trap_proxy=trap.url))
    assert result.returncode == 0, output(result)
    wheel_statuses = [
        r.status for r in index.requests() if r.path == "/files/flaky_pkg-1.0-py3-none-any.whl"
    ]
    assert wheel_statuses == [0, 200]


def test_concurrent_downloads_are_all_logged(index: PackageIndex) -> None:
    wheel = index.add_wheel("busy-pkg", "1.0", {"busy_pkg.py": "X = 1\n" * 1000})
    url = f"{index.base_url}/files/{wheel.name}"
    with ThreadPoolExecutor(max_workers=16) as pool:
        bodies = list(pool.map(lambda _: urllib.request.urlopen(url, timeout=10).read(), range(16)))
    assert all(body == wheel.read_bytes() for body in bodies)
    assert index.file_downloads("busy-pkg") == 16
    assert index.count(f"/files/{wheel.name}", status=200) == 16


def test_server_stops_after_its_lifetime(tmp_path: Path) -> None:
    server = PackageIndex(tmp_path / "wheels", lifetime_s=0.3).start()
    port = server.port
    try:
        deadline = time.monotonic() + 5
        while not server.stopped and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.stopped

        def refused() -> bool:  # `stopped` is set as stop() begins; the close follows
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            except OSError:
                return True
            return False

        while not refused() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert refused()
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# uv


@needs_uv
def test_uv_pip_install_into_venv(
    index: PackageIndex, venv_python: Path, tmp_path: Path, trap: TrapProxy
) -> None:
    assert UV is not None
    index.add_wheel("UV-Thing", "2.0", {"uvthing/__init__.py": "NAME = 'uv'"}, requires=["uv-dep"])
    index.add_wheel("uv_dep", "1.0", {"uv_dep.py": ""})
    env = uv_env(index.url, cache_dir=tmp_path / "uv-cache", trap_proxy=trap.url)
    assert env["UV_NO_CONFIG"] == "1" and env["UV_DEFAULT_INDEX"] == index.url
    result = run([UV, "pip", "install", "--python", str(venv_python), "UV-Thing"], env=env)
    assert result.returncode == 0, output(result)
    assert (
        python_in(
            venv_python,
            "import uvthing, importlib.metadata as m; print(uvthing.NAME, m.version('uv-thing'))",
        )
        == "uv 2.0"
    )
    assert index.file_downloads("uv-thing") == 1
    assert index.file_downloads("uv-dep") == 1


@needs_uv
def test_uv_sync_with_project_index(index: PackageIndex, tmp_path: Path, trap: TrapProxy) -> None:
    assert UV is not None
    index.add_wheel("Fancy-YAML", "1.0", {"fancy_yaml/__init__.py": "VALUE = 7"})
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["Fancy-YAML"]\n\n'
        f'[[tool.uv.index]]\nname = "local"\nurl = "{index.url}"\ndefault = true\n'
    )
    # index_url=None: the project's [[tool.uv.index]] must apply (so no UV_NO_CONFIG).
    env = uv_env(None, cache_dir=tmp_path / "uv-cache", trap_proxy=trap.url, retries=0)
    assert "UV_NO_CONFIG" not in env and "UV_DEFAULT_INDEX" not in env
    env["UV_PYTHON"] = sys.executable
    result = run([UV, "sync"], env=env, cwd=project)
    assert result.returncode == 0, output(result)
    assert index.url in (project / "uv.lock").read_text()
    assert (
        python_in(
            project / ".venv" / "bin" / "python", "import fancy_yaml; print(fancy_yaml.VALUE)"
        )
        == "7"
    )
    assert index.file_downloads("fancy-yaml") == 1

    # The same project without a declared index, index given by UV_DEFAULT_INDEX.
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["Fancy-YAML"]\n'
    )
    shutil.rmtree(project / ".venv")
    (project / "uv.lock").unlink()
    env = uv_env(index.url, trap_proxy=trap.url, retries=0)
    env["UV_PYTHON"] = sys.executable
    result = run([UV, "sync"], env=env, cwd=project)
    assert result.returncode == 0, output(result)
    assert index.file_downloads("fancy-yaml") == 2


# ---------------------------------------------------------------------------------------------
# npm


def test_build_npm_tarball_layout(tmp_path: Path) -> None:
    tarball = build_npm_tarball(
        tmp_path,
        "@acme/hello",
        "1.0.0",
        {"bin/hello.js": "#!/usr/bin/env node\n", "index.js": "module.exports = 1\n"},
        bin={"hello": "bin/hello.js"},
        dependencies={"left": "^1.0.0"},
    )
    assert tarball.name == "acme-hello-1.0.0.tgz"
    data = tarball.read_bytes()
    assert data[:2] == b"\x1f\x8b"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        member = tar.extractfile("package/package.json")
        assert member is not None
        manifest = json.loads(member.read())
    assert set(members) == {"package/package.json", "package/bin/hello.js", "package/index.js"}
    assert members["package/bin/hello.js"].mode & 0o111
    assert manifest == {
        "name": "@acme/hello",
        "version": "1.0.0",
        "bin": {"hello": "bin/hello.js"},
        "dependencies": {"left": "^1.0.0"},
    }
    assert npm_integrity(data).startswith("sha512-")
    with pytest.raises(ValueError):
        build_npm_tarball(tmp_path, "x", "1.0.0", {"a.js": ""}, bin={"x": "missing.js"})


def test_packument_for_plain_and_scoped_names(registry: NpmRegistry) -> None:
    tarball = registry.add_package("@acme/util", "2.0.0", {"index.js": ""}, dependencies={"a": "1"})
    registry.add_package("@acme/util", "2.1.0-beta.1", {"index.js": ""})
    registry.add_package("@acme/util", "1.9.0", {"index.js": ""})
    for path in ("@acme%2futil", "@acme%2Futil", "@acme/util"):
        doc = json.loads(urllib.request.urlopen(registry.url + path, timeout=10).read())
        assert doc["name"] == "@acme/util"
        assert doc["dist-tags"]["latest"] == "2.0.0"
        assert set(doc["versions"]) == {"1.9.0", "2.0.0", "2.1.0-beta.1"}
    version = doc["versions"]["2.0.0"]
    data = tarball.read_bytes()
    assert version["dependencies"] == {"a": "1"}
    assert version["dist"]["tarball"] == f"{registry.base_url}/@acme/util/-/util-2.0.0.tgz"
    assert version["dist"]["integrity"] == npm_integrity(data)
    assert version["dist"]["shasum"] == hashlib.sha1(data).hexdigest()
    assert urllib.request.urlopen(version["dist"]["tarball"], timeout=10).read() == data
    assert registry.packument_fetches("@acme/util") == 3
    assert registry.tarball_downloads("@acme/util") == 1

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(registry.url + "nope", timeout=10)
    assert missing.value.code == 404
    assert json.loads(missing.value.read()) == {"error": "Not found"}


def _npm_project(path: Path, **fields: object) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "proj", "version": "1.0.0", "private": True, **fields}
    (path / "package.json").write_text(json.dumps(manifest, indent=2))
    return path


def _add_hello_cli(registry: NpmRegistry) -> None:
    registry.add_package(
        "hello-cli",
        "1.0.0",
        {
            "cli.js": "#!/usr/bin/env node\nconsole.log('hello from cli ' + require('./index'));\n",
            "index.js": "module.exports = 42;\n",
        },
        bin={"hello-cli": "cli.js"},
        extra_fields={"main": "index.js"},
    )


@needs_npm
def test_npm_install_and_ci_from_local_registry(
    registry: NpmRegistry, tmp_path: Path, trap: TrapProxy
) -> None:
    assert NPM is not None and NODE is not None
    _add_hello_cli(registry)
    registry.add_package(
        "@acme/util",
        "2.0.0",
        {"index.js": "module.exports = 'acme';\n"},
        extra_fields={"main": "index.js"},
    )
    project = _npm_project(
        tmp_path / "proj",
        dependencies={"@acme/util": "^2.0.0"},
        devDependencies={"hello-cli": "^1.0.0"},
        scripts={"test": "hello-cli"},
    )
    env = npm_env(registry.url, tmp_path / "npm-cache", trap_proxy=trap.url)

    result = run([NPM, "install"], env=env, cwd=project)
    assert result.returncode == 0, output(result)
    assert (project / "node_modules" / "hello-cli" / "package.json").is_file()
    assert (project / "node_modules" / "@acme" / "util" / "index.js").is_file()
    bin_path = project / "node_modules" / ".bin" / "hello-cli"
    assert bin_path.exists()
    ran = subprocess.run(
        [str(bin_path)], check=False, capture_output=True, text=True, timeout=CMD_TIMEOUT_S
    )
    assert ran.stdout.strip() == "hello from cli 42", ran.stderr
    npm_test = run([NPM, "test"], env=env, cwd=project)
    assert npm_test.returncode == 0 and "hello from cli 42" in npm_test.stdout, output(npm_test)
    required = subprocess.run(
        [NODE, "-e", "console.log(require('@acme/util'))"],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=CMD_TIMEOUT_S,
    )
    assert required.stdout.strip() == "acme", required.stderr

    lock = json.loads((project / "package-lock.json").read_text())
    resolved = lock["packages"]["node_modules/hello-cli"]["resolved"]
    assert resolved == registry.tarball_url("hello-cli", "1.0.0")
    assert registry.tarball_downloads("hello-cli") == 1
    assert registry.tarball_downloads("@acme/util") == 1
    assert registry.packument_fetches("@acme/util") == 1

    # npm ci from the lockfile, with a fresh cache: the tarballs are downloaded again.
    shutil.rmtree(project / "node_modules")
    env = npm_env(registry.url, tmp_path / "npm-cache-2", trap_proxy=trap.url)
    result = run([NPM, "ci"], env=env, cwd=project)
    assert result.returncode == 0, output(result)
    assert (project / "node_modules" / ".bin" / "hello-cli").exists()
    assert registry.tarball_downloads("hello-cli") == 2


@needs_npm
def test_npm_ci_with_lockfile_from_another_registry_port(tmp_path: Path, trap: TrapProxy) -> None:
    """replace-registry-host=always (npm_env's default) rewrites a stale lockfile host."""
    assert NPM is not None
    project = _npm_project(tmp_path / "proj", dependencies={"hello-cli": "1.0.0"})
    with NpmRegistry(tmp_path / "tarballs", lifetime_s=LIFETIME_S) as first:
        _add_hello_cli(first)
        env = npm_env(first.url, tmp_path / "cache-1", trap_proxy=trap.url)
        result = run([NPM, "install", "--package-lock-only"], env=env, cwd=project)
        assert result.returncode == 0, output(result)
        assert first.tarball_downloads() == 0  # a lockfile only needs packuments
    assert first.url in (project / "package-lock.json").read_text()

    with NpmRegistry(tmp_path / "tarballs", lifetime_s=LIFETIME_S) as second:
        assert second.port != first.port
        env = npm_env(second.url, tmp_path / "cache-2", trap_proxy=trap.url)
        result = run([NPM, "ci"], env=env, cwd=project)
        assert result.returncode == 0, output(result)
        assert second.tarball_downloads("hello-cli") == 1
    assert (project / "node_modules" / "hello-cli" / "cli.js").is_file()


@needs_npm
def test_npm_project_npmrc_registry(registry: NpmRegistry, tmp_path: Path, trap: TrapProxy) -> None:
    assert NPM is not None
    _add_hello_cli(registry)
    project = _npm_project(tmp_path / "proj")
    write_npmrc(project, registry.url)
    env = npm_env(registry.url, tmp_path / "npm-cache", trap_proxy=trap.url)
    del env["npm_config_registry"]  # only the project's .npmrc names the registry now
    result = run([NPM, "install", "hello-cli"], env=env, cwd=project)
    assert result.returncode == 0, output(result)
    assert registry.tarball_downloads("hello-cli") == 1


@needs_npm
def test_npm_unknown_package_is_e404(
    registry: NpmRegistry, tmp_path: Path, trap: TrapProxy
) -> None:
    assert NPM is not None
    project = _npm_project(tmp_path / "proj")
    env = npm_env(registry.url, tmp_path / "npm-cache", trap_proxy=trap.url)
    result = run([NPM, "install", "no-such-package-xyz"], env=env, cwd=project)
    assert result.returncode != 0
    assert "E404" in result.stdout + result.stderr, output(result)
    assert registry.count("/no-such-package-xyz", status=404) >= 1


@needs_npm
def test_npm_transient_failures(registry: NpmRegistry, tmp_path: Path, trap: TrapProxy) -> None:
    assert NPM is not None
    _add_hello_cli(registry)
    project = _npm_project(tmp_path / "proj")
    registry.fail_first(2, status=503, match=lambda method, path: path == "/hello-cli")

    env = npm_env(registry.url, tmp_path / "cache-1", retries=0, trap_proxy=trap.url)
    first = run([NPM, "install", "hello-cli"], env=env, cwd=project)
    assert first.returncode != 0, output(first)
    assert registry.faults_left == 1

    env = npm_env(registry.url, tmp_path / "cache-2", retries=2, trap_proxy=trap.url)
    second = run([NPM, "install", "hello-cli"], env=env, cwd=project)
    assert second.returncode == 0, output(second)
    statuses = [r.status for r in registry.requests() if r.path == "/hello-cli"]
    assert statuses == [503, 503, 200]
    assert registry.tarball_downloads("hello-cli") == 1


# ---------------------------------------------------------------------------------------------
# The trap itself: it must be in the path of every tool, or "the trap saw nothing" means nothing.


@pytest.fixture
def own_trap() -> Iterator[TrapProxy]:
    proxy = TrapProxy(lifetime_s=LIFETIME_S).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def test_trap_proxy_catches_pip(own_trap: TrapProxy, tmp_path: Path) -> None:
    env = pip_env("https://pypi.org/simple/", retries=0, trap_proxy=own_trap.url)
    result = run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path), "six"], env=env
    )
    assert result.returncode != 0
    assert ("CONNECT", "pypi.org:443") in own_trap.request_log()


@needs_uv
def test_trap_proxy_catches_uv(own_trap: TrapProxy, venv_python: Path) -> None:
    assert UV is not None
    env = uv_env("https://pypi.org/simple/", retries=0, trap_proxy=own_trap.url)
    result = run([UV, "pip", "install", "--dry-run", "--python", str(venv_python), "six"], env=env)
    assert result.returncode != 0
    assert ("CONNECT", "pypi.org:443") in own_trap.request_log()


@needs_npm
def test_trap_proxy_catches_npm(own_trap: TrapProxy, tmp_path: Path) -> None:
    assert NPM is not None
    project = _npm_project(tmp_path / "proj")
    env = npm_env(
        "https://registry.npmjs.org/", tmp_path / "cache", retries=0, trap_proxy=own_trap.url
    )
    result = run([NPM, "install", "left-pad"], env=env, cwd=project)
    assert result.returncode != 0
    assert ("CONNECT", "registry.npmjs.org:443") in own_trap.request_log()


def test_env_helpers_strip_inherited_settings(tmp_path: Path) -> None:
    base = {
        "PATH": "/usr/bin",
        "PIP_FIND_LINKS": "/opt/wheels",
        "pip_extra_index_url": "file:///opt/pypi/simple",
        "UV_INDEX": "https://example.org/simple",
        "UV_EXTRA_INDEX_URL": "https://example.org/simple",
        "npm_config_registry": "https://registry.npmjs.org/",
        "NPM_CONFIG_USERCONFIG": "/root/.npmrc",
        "HTTPS_PROXY": "http://corp-proxy:3128",
        "https_proxy": "http://corp-proxy:3128",
    }
    pip = pip_env("http://127.0.0.1:1/simple/", base=base)
    assert not any(
        k.lower().startswith("pip_")
        and k
        not in {
            "PIP_CONFIG_FILE",
            "PIP_INDEX_URL",
            "PIP_DISABLE_PIP_VERSION_CHECK",
            "PIP_NO_INPUT",
            "PIP_PROGRESS_BAR",
            "PIP_ROOT_USER_ACTION",
            "PIP_DEFAULT_TIMEOUT",
            "PIP_KEYRING_PROVIDER",
            "PIP_NO_CACHE_DIR",
        }
        for k in pip
    )
    assert pip["PATH"] == "/usr/bin" and "HTTPS_PROXY" not in pip and "https_proxy" not in pip
    uv = uv_env("http://127.0.0.1:1/simple/", base=base, cache_dir=tmp_path / "uvc")
    assert "UV_INDEX" not in uv and "UV_EXTRA_INDEX_URL" not in uv
    assert uv["UV_CACHE_DIR"] == str(tmp_path / "uvc") and uv["UV_PYTHON_DOWNLOADS"] == "never"
    npm = npm_env("http://127.0.0.1:1/", tmp_path / "npmc", base=base)
    assert "NPM_CONFIG_USERCONFIG" not in npm
    assert npm["npm_config_registry"] == "http://127.0.0.1:1/"
    assert Path(npm["npm_config_userconfig"]).read_text() == ""
    assert npm["npm_config_userconfig"] != npm["npm_config_globalconfig"]
    assert normalize_name("Fancy_YAML.x") == "fancy-yaml-x"
