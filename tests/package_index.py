"""Local package registries for tests that do real installs with pip, uv and npm.

Everything here is stdlib only. Servers listen on 127.0.0.1 (ephemeral port), log every request,
can inject transient faults, and stop by themselves after a bounded lifetime. No test that uses
this module should ever reach a public registry: the ``*_env`` helpers build a complete child
environment that ignores the machine's pip/uv/npm configuration, and a :class:`TrapProxy` can be
wired in as the HTTP(S) proxy so that any request for a non-local host is caught and refused
(and shows up in ``trap.requests()``) instead of leaving the machine.

Python::

    with PackageIndex(tmp_path / "wheels") as index:
        index.add_wheel("Fancy-YAML", "1.0", {"fancy_yaml/__init__.py": "VALUE = 1"})
        subprocess.run([py, "-m", "pip", "install", "Fancy-YAML"], env=pip_env(index.url))
        assert index.file_downloads("fancy-yaml") == 1

npm::

    with NpmRegistry(tmp_path / "tarballs") as registry:
        registry.add_package("left-pad", "1.0.0", {"index.js": "module.exports = 1"})
        subprocess.run(["npm", "install", "left-pad"], cwd=project,
                       env=npm_env(registry.url, tmp_path / "npm-cache"))

The Python index serves PEP 503 HTML with ``#sha256=`` fragments and PEP 658/714 metadata
sidecars (``<wheel>.metadata``), so pip and uv resolve from the small metadata file and download
each wheel exactly once per install: ``file_downloads()`` counts real installs.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import html
import importlib
import io
import json
import os
import re
import shutil
import socket
import struct
import tarfile
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.parser import HeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import quote, unquote

from loopback import LoopbackServer

DEFAULT_LIFETIME_S = 120.0
LOCALHOST = "127.0.0.1"
# Seconds a connection may sit idle before its handler thread gives up (bounds the handler loop).
HANDLER_TIMEOUT_S = 15.0
NO_PROXY = "127.0.0.1,localhost,::1"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")

# Fixed timestamps make the built archives byte-for-byte reproducible (stable sha256/integrity).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_TAR_MTIME = 499162500  # 1985-10-26T08:15:00Z, the date npm itself stamps into packed tarballs

FaultMode = Literal["status", "reset"]


# ---------------------------------------------------------------------------------------------
# Names


def normalize_name(name: str) -> str:
    """PEP 503 normalized project name: ``Fancy_YAML`` -> ``fancy-yaml``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_escape(name: str) -> str:
    """Distribution name as written in wheel file names and ``.dist-info`` directories."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _check_version(version: str) -> None:
    if not re.fullmatch(r"[0-9A-Za-z.+!]+", version):
        raise ValueError(f"unsupported version string for a wheel: {version!r}")


# ---------------------------------------------------------------------------------------------
# Wheels


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _with_extra(requirement: str, extra: str) -> str:
    req, sep, marker = requirement.partition(";")
    condition = f'extra == "{extra}"'
    if sep and marker.strip():
        return f"{req.strip()}; ({marker.strip()}) and {condition}"
    return f"{req.strip()}; {condition}"


def wheel_metadata(
    name: str,
    version: str,
    requires: Iterable[str] = (),
    extras: Mapping[str, Iterable[str]] | None = None,
    *,
    requires_python: str | None = None,
    summary: str | None = None,
) -> str:
    """The METADATA file (core metadata 2.1) of a wheel built by :func:`build_wheel`."""
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines.append(f"Summary: {summary or f'{name} (built by the recoverd test suite)'}")
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    for requirement in requires:
        lines.append(f"Requires-Dist: {requirement.strip()}")
    for extra, extra_requires in (extras or {}).items():
        extra_name = normalize_name(extra)
        lines.append(f"Provides-Extra: {extra_name}")
        for requirement in extra_requires:
            lines.append(f"Requires-Dist: {_with_extra(requirement, extra_name)}")
    return "\n".join(lines) + "\n\n"


def build_wheel(
    out_dir: str | os.PathLike[str],
    name: str,
    version: str,
    modules: Mapping[str, str],
    requires: Iterable[str] = (),
    extras: Mapping[str, Iterable[str]] | None = None,
    *,
    console_scripts: Mapping[str, str] | None = None,
    requires_python: str | None = None,
    summary: str | None = None,
) -> Path:
    """Write a pure-Python ``py3-none-any`` wheel (PEP 427) and return its path.

    ``name`` is the distribution name (any spelling: ``Fancy-YAML``); ``modules`` maps paths
    inside site-packages to sources (``{"fancy_yaml/__init__.py": "VALUE = 1"}``), so the import
    name is independent of the distribution name. ``extras`` maps an extra to its requirements
    (emitted as ``Requires-Dist: req; extra == "x"``). ``console_scripts`` maps a command to an
    entry point (``"fancy = fancy_yaml.cli:main"`` style value ``"fancy_yaml.cli:main"``).
    """
    _check_version(version)
    if not modules:
        raise ValueError("a wheel needs at least one module")
    escaped = wheel_escape(name)
    dist_info = f"{escaped}-{version}.dist-info"
    files: dict[str, bytes] = {}
    top_level: set[str] = set()
    for path, source in modules.items():
        clean = path.replace("\\", "/").lstrip("/")
        if not clean or clean.startswith(dist_info) or ".." in clean.split("/"):
            raise ValueError(f"bad module path: {path!r}")
        files[clean] = source.encode("utf-8")
        first = clean.split("/", 1)[0]
        if "/" in clean or first.endswith(".py"):
            top_level.add(first.removesuffix(".py"))
    files[f"{dist_info}/METADATA"] = wheel_metadata(
        name, version, requires, extras, requires_python=requires_python, summary=summary
    ).encode("utf-8")
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\n"
        b"Generator: recoverd-tests (package_index.py)\n"
        b"Root-Is-Purelib: true\n"
        b"Tag: py3-none-any\n\n"
    )
    files[f"{dist_info}/top_level.txt"] = "".join(f"{t}\n" for t in sorted(top_level)).encode()
    if console_scripts:
        entry_points = "[console_scripts]\n" + "".join(
            f"{command} = {target}\n" for command, target in console_scripts.items()
        )
        files[f"{dist_info}/entry_points.txt"] = entry_points.encode("utf-8")

    record_path = f"{dist_info}/RECORD"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in files.items():
        writer.writerow([path, _record_hash(data), str(len(data))])
    writer.writerow([record_path, "", ""])
    files[record_path] = record.getvalue().encode("utf-8")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wheel_path = out / f"{escaped}-{version}-py3-none-any.whl"
    tmp_path = wheel_path.with_name(wheel_path.name + ".part")
    with zipfile.ZipFile(tmp_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    # Atomic rename: a running index never sees a half-written wheel.
    os.replace(tmp_path, wheel_path)
    return wheel_path


# ---------------------------------------------------------------------------------------------
# npm tarballs


def npm_tarball_filename(name: str, version: str) -> str:
    """File name ``npm pack`` would use: ``@scope/pkg`` 1.0.0 -> ``scope-pkg-1.0.0.tgz``."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def build_npm_tarball(
    out_dir: str | os.PathLike[str],
    name: str,
    version: str,
    files: Mapping[str, str],
    bin: Mapping[str, str] | None = None,
    dependencies: Mapping[str, str] | None = None,
    *,
    dev_dependencies: Mapping[str, str] | None = None,
    scripts: Mapping[str, str] | None = None,
    extra_fields: Mapping[str, Any] | None = None,
) -> Path:
    """Write an npm package tarball (``package/...`` entries, gzip) and return its path.

    ``package.json`` is generated from the arguments (``files`` must not contain one; pass
    extra fields through ``extra_fields``). Files named as ``bin`` targets are made executable;
    a bin target that is missing from ``files`` raises ``ValueError``.
    """
    if "package.json" in files:
        raise ValueError("package.json is generated; pass fields via extra_fields")
    manifest: dict[str, Any] = {"name": name, "version": version}
    if bin:
        for command, target in bin.items():
            if target.removeprefix("./") not in {f.removeprefix("./") for f in files}:
                raise ValueError(f"bin {command!r} points at {target!r}, which is not in files")
        manifest["bin"] = dict(bin)
    if dependencies:
        manifest["dependencies"] = dict(dependencies)
    if dev_dependencies:
        manifest["devDependencies"] = dict(dev_dependencies)
    if scripts:
        manifest["scripts"] = dict(scripts)
    if extra_fields:
        manifest.update(extra_fields)
    executables = {t.removeprefix("./") for t in (bin or {}).values()}
    entries: dict[str, bytes] = {"package.json": (json.dumps(manifest, indent=2) + "\n").encode()}
    for path, content in files.items():
        clean = path.replace("\\", "/").removeprefix("./").lstrip("/")
        if not clean or ".." in clean.split("/"):
            raise ValueError(f"bad file path: {path!r}")
        entries[clean] = content.encode("utf-8")

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in entries.items():
            info = tarfile.TarInfo(f"package/{path}")
            info.size = len(data)
            info.mtime = _TAR_MTIME
            info.mode = 0o755 if path in executables else 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tarball = out / npm_tarball_filename(name, version)
    tmp_path = tarball.with_name(tarball.name + ".part")
    # mtime=0 and no file name in the gzip header: reproducible bytes.
    with (
        open(tmp_path, "wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz,
    ):
        gz.write(raw.getvalue())
    os.replace(tmp_path, tarball)
    return tarball


def npm_integrity(data: bytes) -> str:
    """Subresource-integrity string npm records in lockfiles (``sha512-<base64>``)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _semver_key(version: str) -> tuple[Any, ...]:
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?", version)
    if not match:
        return (-1, version)
    major, minor, patch, pre = match.groups()
    # A release sorts after its prereleases.
    pre_key: tuple[Any, ...] = (1,) if pre is None else (0, pre)
    return (int(major), int(minor), int(patch), pre_key)


# ---------------------------------------------------------------------------------------------
# Servers: shared machinery


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it. ``status`` is 0 for a connection reset by fault."""

    method: str
    path: str  # URL path, percent-decoded (query string dropped)
    raw_path: str  # as sent on the request line
    status: int
    time: float
    user_agent: str


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    # npm opens up to 15 sockets at once and tests run several clients concurrently: the
    # default listen backlog (5) would drop SYNs and stall clients for a 1 s retransmit.
    request_queue_size = 128

    def __init__(self, owner: _LocalServer) -> None:
        self.owner = owner
        super().__init__((LOCALHOST, 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response (pip/uv/npm cancel speculative fetches) are normal.
        pass


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a handler thread serves exactly one request and
    # then ends (bounded handler loop); the socket timeout bounds an idle or slow client.
    protocol_version = "HTTP/1.0"
    timeout = HANDLER_TIMEOUT_S
    server: _HTTPServer

    def _dispatch(self) -> None:
        owner = self.server.owner
        raw_path = self.path
        if raw_path.startswith("/"):
            path = unquote(raw_path.split("?", 1)[0].split("#", 1)[0])
        else:  # proxy-style request: absolute URL, or host:port for CONNECT
            path = raw_path
        fault = owner._take_fault(self.command, path)
        if fault is not None:
            mode, status = fault
            if mode == "reset":
                owner._log(self, path, 0)
                self._reset()
                return
            owner._log(self, path, status)
            self._send(
                status, b"injected fault\n", "text/plain", extra_headers={"Retry-After": "0"}
            )
            return
        try:
            response = owner._respond(self.command, path, self.headers)
        except Exception as exc:  # noqa: BLE001 - a server bug must answer, not hang the client
            response = _Response(500, f"server error: {exc!r}\n".encode(), "text/plain")
        owner._log(self, path, response.status)
        self._send(response.status, response.body, response.content_type, response.headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        for key, value in (extra_headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def _reset(self) -> None:
        # SO_LINGER(on, 0) + close sends a TCP RST: the client sees "connection reset by peer".
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_GET
    do_POST = do_GET
    do_PUT = do_GET
    do_DELETE = do_GET
    do_CONNECT = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "text/plain"
    headers: dict[str, str] | None = None


def _html_response(body: str) -> _Response:
    return _Response(200, body.encode("utf-8"), "text/html; charset=utf-8")


def _json_response(status: int, doc: Any) -> _Response:
    return _Response(status, json.dumps(doc).encode("utf-8"), "application/json")


class _LocalServer(LoopbackServer):
    """Lifecycle, request log, fault injection and bounded lifetime shared by the servers."""

    name = "local-server"

    def __init__(self, *, lifetime_s: float = DEFAULT_LIFETIME_S) -> None:
        super().__init__(lifetime_s=lifetime_s)
        self._log_entries: list[LoggedRequest] = []
        self._faults_left = 0
        self._fault_mode: FaultMode = "status"
        self._fault_status = 503
        self._fault_match: Callable[[str, str], bool] | None = None

    def _make_server(self) -> _HTTPServer:
        return _HTTPServer(self)

    # Request log

    def _log(self, handler: BaseHTTPRequestHandler, path: str, status: int) -> None:
        entry = LoggedRequest(
            method=handler.command,
            path=path,
            raw_path=handler.path,
            status=status,
            time=time.time(),
            user_agent=handler.headers.get("User-Agent", ""),
        )
        with self._lock:
            self._log_entries.append(entry)

    def requests(self) -> list[LoggedRequest]:
        """Every request so far (including injected failures), oldest first."""
        with self._lock:
            return list(self._log_entries)

    def request_log(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every request so far."""
        return [(r.method, r.path) for r in self.requests()]

    def count(
        self,
        path: str | re.Pattern[str] | None = None,
        *,
        method: str | None = "GET",
        status: int | None = None,
    ) -> int:
        """Requests whose path equals ``path`` (str) or matches it (``re.Pattern``, search)."""
        total = 0
        for r in self.requests():
            if method is not None and r.method != method:
                continue
            if status is not None and r.status != status:
                continue
            if isinstance(path, str) and r.path != path:
                continue
            if isinstance(path, re.Pattern) and not path.search(r.path):
                continue
            total += 1
        return total

    def clear_log(self) -> None:
        with self._lock:
            self._log_entries.clear()

    # Fault injection

    def fail_first(
        self,
        n: int,
        status: int = 503,
        *,
        mode: FaultMode = "status",
        match: str | re.Pattern[str] | Callable[[str, str], bool] | None = None,
    ) -> Self:
        """Fail the next ``n`` requests, then serve normally.

        ``mode="status"`` answers ``status`` (default 503, with ``Retry-After: 0``);
        ``mode="reset"`` resets the TCP connection without answering ("the server is down").
        ``match`` limits the faults to some requests: a path substring, a regex (search) or a
        ``(method, path) -> bool`` predicate; non-matching requests are served and not counted.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        if mode not in ("status", "reset"):
            raise ValueError(f"unknown fault mode {mode!r}")
        predicate: Callable[[str, str], bool] | None
        if match is None:
            predicate = None
        elif isinstance(match, str):
            predicate = lambda _method, path, _s=match: _s in path
        elif isinstance(match, re.Pattern):
            predicate = lambda _method, path, _p=match: bool(_p.search(path))
        else:
            predicate = match
        with self._lock:
            self._faults_left = n
            self._fault_status = status
            self._fault_mode = mode
            self._fault_match = predicate
        return self

    def down_for_first(self, n: int, *, match: str | re.Pattern[str] | None = None) -> Self:
        """The server is "down" (connections reset, no answer) for the next ``n`` requests."""
        return self.fail_first(n, mode="reset", match=match)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults_left = 0
            self._fault_match = None

    @property
    def faults_left(self) -> int:
        with self._lock:
            return self._faults_left

    def _take_fault(self, method: str, path: str) -> tuple[FaultMode, int] | None:
        with self._lock:
            if self._faults_left <= 0:
                return None
            if self._fault_match is not None and not self._fault_match(method, path):
                return None
            self._faults_left -= 1
            return (self._fault_mode, self._fault_status)

    # Routing (subclasses)

    def _respond(self, method: str, path: str, headers: Any) -> _Response:
        raise NotImplementedError


class _FileCache:
    """Per-file derived data (hashes, metadata), invalidated when size or mtime changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[tuple[int, int], Any]] = {}

    def get(self, path: Path, compute: Callable[[Path], Any]) -> Any:
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._entries.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        value = compute(path)
        with self._lock:
            self._entries[path] = (key, value)
        return value


# ---------------------------------------------------------------------------------------------
# PEP 503 simple index


@dataclass(frozen=True)
class _DistFile:
    filename: str
    project: str  # normalized
    sha256: str
    metadata: bytes | None  # core metadata (wheels only), served as <file>.metadata (PEP 658)
    requires_python: str | None


def _read_dist_file(path: Path) -> _DistFile:
    data = path.read_bytes()
    metadata: bytes | None = None
    requires_python: str | None = None
    if path.name.endswith(".whl"):
        project = normalize_name(path.name.split("-", 1)[0])
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                parts = member.split("/")
                if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                    metadata = archive.read(member)
                    break
        if metadata is not None:
            headers = HeaderParser().parsestr(metadata.decode("utf-8", "replace"))
            requires_python = headers.get("Requires-Python")
    else:  # sdist: name-version.tar.gz / .zip
        stem = path.name.removesuffix(".tar.gz").removesuffix(".zip")
        project = normalize_name(stem.rsplit("-", 1)[0])
    return _DistFile(
        filename=path.name,
        project=project,
        sha256=hashlib.sha256(data).hexdigest(),
        metadata=metadata,
        requires_python=requires_python,
    )


class PackageIndex(_LocalServer):
    """A PEP 503 simple index over a folder of wheels (and sdists), for pip and uv.

    Routes: ``/simple/`` (project list), ``/simple/<project>/`` (links with ``#sha256=`` and
    ``data-dist-info-metadata``/``data-core-metadata``), ``/files/<file>`` and
    ``/files/<file>.metadata``. The folder is rescanned on every request, so wheels can be added
    (``add_wheel``) while the server runs. Unknown projects get 404.
    """

    name = "package-index"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        lifetime_s: float = DEFAULT_LIFETIME_S,
        serve_metadata: bool = True,
    ) -> None:
        super().__init__(lifetime_s=lifetime_s)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.serve_metadata = serve_metadata
        self._cache = _FileCache()

    @property
    def url(self) -> str:
        """The index URL to give pip/uv: ``http://127.0.0.1:PORT/simple/``."""
        return f"{self.base_url}/simple/"

    def add_wheel(
        self,
        name: str,
        version: str,
        modules: Mapping[str, str],
        requires: Iterable[str] = (),
        extras: Mapping[str, Iterable[str]] | None = None,
        **kwargs: Any,
    ) -> Path:
        """:func:`build_wheel` into the served folder."""
        return build_wheel(self.root, name, version, modules, requires, extras, **kwargs)

    # Counting helpers

    def page_fetches(self, project: str) -> int:
        """Successful GETs of ``/simple/<project>/`` (any spelling of the name)."""
        wanted = normalize_name(project)
        return sum(
            1
            for r in self.requests()
            if r.method == "GET"
            and r.status == 200
            and (m := re.fullmatch(r"/simple/([^/]+)/?", r.path))
            and normalize_name(m.group(1)) == wanted
        )

    def file_downloads(self, project: str | None = None, *, filename: str | None = None) -> int:
        """Successful GETs of distribution files (not ``.metadata``), for one project or all."""
        wanted = normalize_name(project) if project else None
        total = 0
        for r in self.requests():
            if r.method != "GET" or r.status != 200 or not r.path.startswith("/files/"):
                continue
            name = r.path.removeprefix("/files/")
            if name.endswith(".metadata"):
                continue
            if filename is not None and name != filename:
                continue
            if wanted is not None and _project_of_file(name) != wanted:
                continue
            total += 1
        return total

    def metadata_fetches(self, project: str | None = None) -> int:
        wanted = normalize_name(project) if project else None
        return sum(
            1
            for r in self.requests()
            if r.method == "GET"
            and r.status == 200
            and r.path.startswith("/files/")
            and r.path.endswith(".metadata")
            and (wanted is None or _project_of_file(r.path[7:-9]) == wanted)
        )

    # Routing

    def _dists(self) -> list[_DistFile]:
        dists = []
        for path in sorted(self.root.iterdir()):
            if path.is_file() and path.name.endswith((".whl", ".tar.gz", ".zip")):
                try:
                    dists.append(self._cache.get(path, _read_dist_file))
                except (OSError, zipfile.BadZipFile):
                    continue
        return dists

    def _respond(self, method: str, path: str, headers: Any) -> _Response:
        if path in ("/simple", "/simple/"):
            projects = sorted({d.project for d in self._dists()})
            links = "\n".join(
                f'    <a href="/simple/{quote(p)}/">{html.escape(p)}</a><br/>' for p in projects
            )
            return _html_response(_page("Simple index", links))
        match = re.fullmatch(r"/simple/([^/]+)/?", path)
        if match:
            project = normalize_name(match.group(1))
            dists = [d for d in self._dists() if d.project == project]
            if not dists:
                return _Response(404, b"Not Found\n")
            return _html_response(_page(f"Links for {project}", self._links(dists)))
        if path.startswith("/files/"):
            filename = path.removeprefix("/files/")
            want_metadata = filename.endswith(".metadata")
            filename = filename.removesuffix(".metadata") if want_metadata else filename
            file_path = self.root / filename
            if "/" in filename or not file_path.is_file():
                return _Response(404, b"Not Found\n")
            if want_metadata:
                dist = self._cache.get(file_path, _read_dist_file)
                if dist.metadata is None or not self.serve_metadata:
                    return _Response(404, b"Not Found\n")
                return _Response(200, dist.metadata, "text/plain; charset=utf-8")
            content_type = (
                "application/zip" if filename.endswith((".whl", ".zip")) else ("application/x-tar")
            )
            return _Response(200, file_path.read_bytes(), content_type)
        return _Response(404, b"Not Found\n")

    def _links(self, dists: list[_DistFile]) -> str:
        rows = []
        for d in dists:
            attrs = [f'href="/files/{quote(d.filename)}#sha256={d.sha256}"']
            if d.requires_python:
                attrs.append(f'data-requires-python="{html.escape(d.requires_python)}"')
            if d.metadata is not None and self.serve_metadata:
                digest = hashlib.sha256(d.metadata).hexdigest()
                attrs.append(f'data-dist-info-metadata="sha256={digest}"')
                attrs.append(f'data-core-metadata="sha256={digest}"')
            rows.append(f"    <a {' '.join(attrs)}>{html.escape(d.filename)}</a><br/>")
        return "\n".join(rows)


def _project_of_file(filename: str) -> str:
    if filename.endswith(".whl"):
        return normalize_name(filename.split("-", 1)[0])
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
    return normalize_name(stem.rsplit("-", 1)[0])


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.0">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{body}\n  </body>\n</html>\n"
    )


# ---------------------------------------------------------------------------------------------
# npm registry


@dataclass(frozen=True)
class _NpmTarball:
    path: Path
    manifest: dict[str, Any]
    integrity: str
    shasum: str

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def version(self) -> str:
        return str(self.manifest["version"])


def _read_npm_tarball(path: Path) -> _NpmTarball:
    data = path.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile("package/package.json")
        if member is None:
            raise ValueError(f"{path} has no package/package.json")
        manifest = json.loads(member.read().decode("utf-8"))
    return _NpmTarball(
        path=path,
        manifest=manifest,
        integrity=npm_integrity(data),
        shasum=hashlib.sha1(data).hexdigest(),
    )


class NpmRegistry(_LocalServer):
    """An npm registry stand-in over a folder of tarballs (see :func:`build_npm_tarball`).

    ``GET /<name>``, ``/@scope%2fname`` and ``/@scope/name`` answer a packument built from the
    tarballs' ``package.json`` files; ``GET /<name>/-/<base>-<version>.tgz`` answers the tarball.
    Unknown packages get npm's 404 JSON (``{"error": "Not found"}``), which npm reports as
    ``E404``. The folder is rescanned on every request.
    """

    name = "npm-registry"

    def __init__(
        self, root: str | os.PathLike[str], *, lifetime_s: float = DEFAULT_LIFETIME_S
    ) -> None:
        super().__init__(lifetime_s=lifetime_s)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._cache = _FileCache()

    @property
    def url(self) -> str:
        """The registry URL to give npm: ``http://127.0.0.1:PORT/``."""
        return f"{self.base_url}/"

    def add_package(
        self,
        name: str,
        version: str,
        files: Mapping[str, str],
        bin: Mapping[str, str] | None = None,
        dependencies: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Path:
        """:func:`build_npm_tarball` into the served folder."""
        return build_npm_tarball(self.root, name, version, files, bin, dependencies, **kwargs)

    def tarball_url(self, name: str, version: str) -> str:
        return f"{self.base_url}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"

    # Counting helpers

    def packument_fetches(self, name: str) -> int:
        """Successful GETs of the packument of ``name`` (any of its URL spellings)."""
        return sum(
            1
            for r in self.requests()
            if r.method == "GET" and r.status == 200 and r.path.strip("/") == name
        )

    def tarball_downloads(self, name: str | None = None) -> int:
        """Successful GETs of tarballs, for one package or all."""
        total = 0
        for r in self.requests():
            if r.method != "GET" or r.status != 200 or "/-/" not in r.path:
                continue
            if not r.path.endswith(".tgz"):
                continue
            if name is not None and r.path.lstrip("/").split("/-/", 1)[0] != name:
                continue
            total += 1
        return total

    # Routing

    def _packages(self) -> dict[str, dict[str, _NpmTarball]]:
        packages: dict[str, dict[str, _NpmTarball]] = {}
        for path in sorted(self.root.iterdir()):
            if not (path.is_file() and path.name.endswith(".tgz")):
                continue
            try:
                tarball = self._cache.get(path, _read_npm_tarball)
            except (OSError, ValueError, tarfile.TarError, json.JSONDecodeError):
                continue
            packages.setdefault(tarball.name, {})[tarball.version] = tarball
        return packages

    def _respond(self, method: str, path: str, headers: Any) -> _Response:
        name = path.lstrip("/")
        if name in ("-/ping", "-/ping/"):
            return _json_response(200, {})
        if name.startswith("-/") or not name:
            return _json_response(404, {"error": "Not found"})
        packages = self._packages()
        if "/-/" in name:
            pkg_name, _, filename = name.partition("/-/")
            for tarball in packages.get(pkg_name, {}).values():
                expected = f"{pkg_name.rsplit('/', 1)[-1]}-{tarball.version}.tgz"
                if filename == expected:
                    return _Response(200, tarball.path.read_bytes(), "application/octet-stream")
            return _json_response(404, {"error": "Not found"})
        versions = packages.get(name.rstrip("/"))
        if not versions:
            return _json_response(404, {"error": "Not found"})
        return _json_response(200, self._packument(name.rstrip("/"), versions))

    def _packument(self, name: str, versions: dict[str, _NpmTarball]) -> dict[str, Any]:
        ordered = sorted(versions, key=_semver_key)
        stamp = "2020-01-01T00:00:00.000Z"
        doc_versions = {}
        for version in ordered:
            tarball = versions[version]
            manifest = dict(tarball.manifest)
            manifest["_id"] = f"{name}@{version}"
            manifest["dist"] = {
                "tarball": self.tarball_url(name, version),
                "integrity": tarball.integrity,
                "shasum": tarball.shasum,
            }
            doc_versions[version] = manifest
        releases = [v for v in ordered if "-" not in v] or ordered
        return {
            "_id": name,
            "name": name,
            "dist-tags": {"latest": releases[-1]},
            "versions": doc_versions,
            "time": {"created": stamp, "modified": stamp, **{v: stamp for v in ordered}},
        }


# ---------------------------------------------------------------------------------------------
# Trap proxy: catches anything that tries to leave the machine


class TrapProxy(_LocalServer):
    """An HTTP(S) proxy that refuses everything and records it.

    Pass ``trap.url`` as ``trap_proxy=`` to the ``*_env`` helpers: requests to 127.0.0.1 bypass
    it (``NO_PROXY``), anything else (pypi.org, registry.npmjs.org, ...) lands here, gets 403,
    and is visible in ``trap.requests()`` (``CONNECT`` paths are ``host:port``).
    """

    name = "trap-proxy"

    @property
    def url(self) -> str:
        return self.base_url

    def _respond(self, method: str, path: str, headers: Any) -> _Response:
        return _Response(403, b"recoverd test trap proxy: outbound request refused\n")


# ---------------------------------------------------------------------------------------------
# Environments for child processes


def _base_env(base: Mapping[str, str] | None, drop_prefixes: tuple[str, ...]) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for key in list(env):
        lowered = key.lower()
        if lowered.startswith(drop_prefixes) or lowered in PROXY_VARS:
            del env[key]
    return env


def _set_proxy(env: dict[str, str], trap_proxy: str | None) -> None:
    env["NO_PROXY"] = env["no_proxy"] = NO_PROXY
    if trap_proxy:
        for var in ("http_proxy", "https_proxy", "all_proxy"):
            env[var] = env[var.upper()] = trap_proxy


def pip_env(
    index_url: str,
    *,
    base: Mapping[str, str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    retries: int | None = None,
    timeout_s: float = 15,
    trap_proxy: str | None = None,
) -> dict[str, str]:
    """A complete environment in which pip uses ONLY ``index_url``.

    Drops every inherited ``PIP_*`` variable (``PIP_FIND_LINKS``, ``PIP_EXTRA_INDEX_URL``,
    ``PIP_NO_INDEX``, ...) and proxy variable, and sets ``PIP_CONFIG_FILE=/dev/null`` (pip then
    loads no config file at all: not /etc/pip.conf, not ~/.config/pip/pip.conf). No cache unless
    ``cache_dir`` is given (so every install really downloads). ``retries`` sets ``PIP_RETRIES``.
    """
    env = _base_env(base, ("pip_",))
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL=index_url,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PIP_PROGRESS_BAR="off",
        PIP_ROOT_USER_ACTION="ignore",
        PIP_DEFAULT_TIMEOUT=str(timeout_s),
        PIP_KEYRING_PROVIDER="disabled",
    )
    if cache_dir is not None:
        env["PIP_CACHE_DIR"] = str(cache_dir)
    else:
        env["PIP_NO_CACHE_DIR"] = "1"
    if retries is not None:
        env["PIP_RETRIES"] = str(retries)
    _set_proxy(env, trap_proxy)
    return env


def uv_env(
    index_url: str | None,
    *,
    base: Mapping[str, str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    retries: int | None = None,
    timeout_s: float = 15,
    trap_proxy: str | None = None,
    no_config: bool | None = None,
) -> dict[str, str]:
    """A complete environment in which uv uses ONLY ``index_url``.

    Drops every inherited ``UV_*`` and proxy variable; sets ``UV_DEFAULT_INDEX`` and
    ``UV_INDEX_URL`` (same value: the former for current uv, the latter for uv < 0.4.23),
    ``UV_PYTHON_DOWNLOADS=never``, and ``UV_CACHE_DIR`` (or ``UV_NO_CACHE=1``). ``retries`` sets
    ``UV_HTTP_RETRIES`` (uv's default is 3, with back-off).

    Config files: ``UV_NO_CONFIG=1`` (and ``UV_CONFIG_FILE`` too) makes uv ignore not only
    uv.toml files but also the ``[tool.uv]`` table of the project's pyproject.toml, including
    ``[[tool.uv.index]]``. So ``no_config`` defaults to True when ``index_url`` is given, and
    to False when it is ``None`` (the project's own ``[[tool.uv.index]]`` must apply); then
    ``XDG_CONFIG_HOME`` and ``XDG_CONFIG_DIRS`` point at an empty directory so the user's
    ``~/.config/uv/uv.toml`` is still ignored (only /etc/uv/uv.toml cannot be masked that way).
    """
    env = _base_env(base, ("uv_",))
    env.update(
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        UV_KEYRING_PROVIDER="disabled",
        UV_HTTP_TIMEOUT=str(max(1, int(timeout_s))),
        UV_LINK_MODE="copy",
    )
    if no_config is None:
        no_config = index_url is not None
    if no_config:
        env["UV_NO_CONFIG"] = "1"
    else:
        if cache_dir is not None:
            empty = Path(cache_dir) / "empty-xdg-config"
            empty.mkdir(parents=True, exist_ok=True)
        else:
            empty = Path(tempfile.mkdtemp(prefix="recoverd-uv-config-"))
        env["XDG_CONFIG_HOME"] = env["XDG_CONFIG_DIRS"] = str(empty)
    if index_url is not None:
        env["UV_DEFAULT_INDEX"] = env["UV_INDEX_URL"] = index_url
    if cache_dir is not None:
        env["UV_CACHE_DIR"] = str(cache_dir)
    else:
        env["UV_NO_CACHE"] = "1"
    if retries is not None:
        env["UV_HTTP_RETRIES"] = str(retries)
    _set_proxy(env, trap_proxy)
    return env


def find_uv() -> str | None:
    """Path of a uv binary: the ``uv`` Python package's (test extra) if installed, else PATH."""
    try:
        found = str(importlib.import_module("uv").find_uv_bin())
        if found:
            return found
    except (ImportError, FileNotFoundError, AttributeError):
        pass
    return shutil.which("uv")


def npm_env(
    registry_url: str,
    cache_dir: str | os.PathLike[str],
    *,
    base: Mapping[str, str] | None = None,
    retries: int | None = None,
    trap_proxy: str | None = None,
    replace_registry_host: str = "always",
) -> dict[str, str]:
    """A complete environment in which npm uses ONLY ``registry_url`` and ``cache_dir``.

    Drops every inherited ``npm_config_*`` and proxy variable; points ``userconfig`` and
    ``globalconfig`` at empty files in ``cache_dir`` (so ~/.npmrc and $PREFIX/etc/npmrc are
    ignored; npm refuses /dev/null for both at once; a project's own ``.npmrc`` still
    applies, as it does for users); disables audit, fund and the update
    notifier; shortens npm's retry back-off (10 s by default) to 0.1-1 s. ``retries`` sets
    ``fetch-retries`` (npm's default is 2).

    ``replace-registry-host`` defaults to ``always``: ``npm ci`` then fetches every ``resolved``
    URL of a package-lock.json from ``registry_url``, even a lockfile written against another
    port or against registry.npmjs.org (npm's own default, ``npmjs``, only rewrites the latter,
    and a lockfile from a previous test server would hit a dead port: ECONNREFUSED).
    """
    env = _base_env(base, ("npm_config_",))
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    # Two distinct empty files: npm refuses to load one file (even /dev/null) as both configs.
    userconfig = cache / "recoverd-tests-user.npmrc"
    globalconfig = cache / "recoverd-tests-global.npmrc"
    for config in (userconfig, globalconfig):
        config.write_text("", encoding="utf-8")
    env.update(
        npm_config_registry=registry_url,
        npm_config_cache=str(cache),
        npm_config_userconfig=str(userconfig),
        npm_config_globalconfig=str(globalconfig),
        npm_config_audit="false",
        npm_config_fund="false",
        npm_config_update_notifier="false",
        npm_config_progress="false",
        npm_config_fetch_retry_mintimeout="100",
        npm_config_fetch_retry_maxtimeout="1000",
        npm_config_fetch_timeout="30000",
        npm_config_noproxy=NO_PROXY,
        npm_config_replace_registry_host=replace_registry_host,
    )
    if retries is not None:
        env["npm_config_fetch_retries"] = str(retries)
    _set_proxy(env, trap_proxy)
    if trap_proxy:
        env["npm_config_proxy"] = env["npm_config_https_proxy"] = trap_proxy
    return env


def write_npmrc(project_dir: str | os.PathLike[str], registry_url: str) -> Path:
    """Write ``<project>/.npmrc`` with ``registry=<registry_url>`` (project-level config)."""
    path = Path(project_dir) / ".npmrc"
    path.write_text(f"registry={registry_url}\n", encoding="utf-8")
    return path


__all__ = [
    "DEFAULT_LIFETIME_S",
    "LoggedRequest",
    "NpmRegistry",
    "PackageIndex",
    "TrapProxy",
    "build_npm_tarball",
    "build_wheel",
    "find_uv",
    "normalize_name",
    "npm_env",
    "npm_integrity",
    "npm_tarball_filename",
    "pip_env",
    "uv_env",
    "wheel_escape",
    "wheel_metadata",
    "write_npmrc",
]
