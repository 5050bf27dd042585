"""The server a network error is about, as host:port (the port left out when it is the
scheme's default)."""

from __future__ import annotations

import re2

_HOST_PORT = re2.compile(r"host='([^'\s]+)', port=(\d+)")
_INDEX_URL = re2.compile(r"(?m)^Looking in indexes: (\S+)")
# `connect ECONNREFUSED 127.0.0.1:5432`, `Cannot connect to host localhost:8080`
_SOCKET = re2.compile(r"(?:E[A-Z]+|[Cc]onnect to(?: host)?) (\S+):(\d+)\b")
_URL = re2.compile(r"\b[a-z][a-z0-9+.-]*://([^/\s'\"`)>]+)")


def endpoint(groups: dict[str, str], text: str, matched: str) -> str:
    """host:port (or host) of the server a network error is about."""
    if groups.get("host"):
        return _host_port(groups["host"], groups.get("port", ""))
    if groups.get("url"):
        found = _URL.search(groups["url"])
        return _strip_default_port(found.group(1) if found else groups["url"])
    pairs = _HOST_PORT.findall(text)
    if pairs:
        return _host_port(pairs[-1][0], pairs[-1][1])
    index = _INDEX_URL.search(text)
    url = _URL.search(index.group(1)) if index else _URL.search(matched)
    if url is None:
        socket = _SOCKET.search(text)
        if socket is not None:
            return _host_port(socket.group(1), socket.group(2))
        url = _URL.search(text)
    return _strip_default_port(url.group(1)) if url else ""


def _host_port(host: str, port: str) -> str:
    return _strip_default_port(f"{host}:{port}" if port else host)


def _strip_default_port(netloc: str) -> str:
    """`pypi.org:443` → `pypi.org`: the scheme's own port says nothing."""
    netloc = netloc.rsplit("@", 1)[-1]
    for default in (":443", ":80"):
        if netloc.endswith(default):
            return netloc[: -len(default)]
    return netloc
