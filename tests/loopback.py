"""A test HTTP server's lifecycle on 127.0.0.1: start, a bounded lifetime, stop.

Every server the tests run (the fake Messages API, the package indexes, the trap proxy)
inherits this, so none can outlive its test: each stops by itself after `lifetime_s`.
"""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self

LOCALHOST = "127.0.0.1"
DEFAULT_LIFETIME_S = 120.0


class LoopbackServer:
    name = "loopback-server"

    def __init__(self, *, lifetime_s: float = DEFAULT_LIFETIME_S) -> None:
        self.lifetime_s = lifetime_s
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._deadline_timer: threading.Timer | None = None
        self._stopped = threading.Event()

    def _make_server(self) -> ThreadingHTTPServer:
        """The bound server (on LOCALHOST, port 0); subclasses say which handler it uses."""
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, name=self.name,
                                        daemon=True)
        self._thread.start()
        # Bounded lifetime: a test that forgets stop() (or hangs) cannot leave a server behind.
        self._deadline_timer = threading.Timer(self.lifetime_s, self.stop)
        self._deadline_timer.daemon = True
        self._deadline_timer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped.is_set() or self._server is None:
                return
            self._stopped.set()
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{LOCALHOST}:{self.port}"
