"""The warm daemon: an asyncio Unix-socket server that answers hook events.

Lifecycle: one instance per state directory (an flock), the socket bound 0600 inside the 0700
directory, the pidfile written atomically; signal handlers only queue, the loop handles
(`handle_term`, `handle_hup`); on exit the socket and pidfile are removed only if still ours.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import time
from pathlib import Path
from typing import Any, BinaryIO

from recoverd import __version__, journal, paths, pidfile, protocol, spool
from recoverd.catalogue import Catalogue, Watcher
from recoverd.classifier import classify
from recoverd.config import Config
from recoverd.ledger import Ledger
from recoverd.recoveries import Recoveries
from recoverd.responder import Responder

SPOOL_POLL_SECONDS = 1.0


class AlreadyRunning(RuntimeError):
    """Another daemon holds this state directory."""


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.paths = config.paths
        self.log = journal.get()
        self.catalogue: Catalogue | None = None
        self.recoveries: Recoveries | None = None
        self.responder: Responder | None = None
        self.ledger = Ledger(config, self.log)
        self.started = time.time()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reload_handle: asyncio.TimerHandle | None = None
        self._lock_file: BinaryIO | None = None
        self._socket_id: tuple[int, int] | None = None
        self._active: set[asyncio.Task[Any]] = set()
        self.requests = 0

    # -- lifecycle -------------------------------------------------------------------------

    def acquire(self) -> None:
        self.paths.ensure()
        fd = os.open(self.paths.lockfile, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(fd, "a+b")  # held for the daemon's life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunning(str(pidfile.read(self.paths.pidfile) or "?")) from None
        self._lock_file = handle

    def release(self) -> None:
        sock = self.paths.socket
        try:
            st = sock.lstat()
            if (st.st_dev, st.st_ino) == self._socket_id:
                sock.unlink()
        except FileNotFoundError:
            pass
        pidfile.remove_if_ours(self.paths.pidfile, os.getpid())
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        for signum, name in ((signal.SIGTERM, "term"), (signal.SIGINT, "term"),
                             (signal.SIGHUP, "hup")):
            loop.add_signal_handler(signum, self._queue_signal, name)
        self.catalogue = Catalogue(user_dir=self._user_patterns_dir())
        catalogue = self.catalogue
        self.recoveries = Recoveries(
            self.config, self.log,
            reclassify=lambda event: classify(event, catalogue.for_cwd(event.cwd)),
            breaker=self.ledger.breaker if self.ledger.open() else None,
            flag=self.paths.late_results)
        self.responder = Responder(self.log, catalogue, self.recoveries, self.ledger)
        sock_path = self.paths.socket
        if len(os.fsencode(sock_path)) > 103:
            raise OSError(f"socket path too long for AF_UNIX: {sock_path}")
        sock_path.unlink(missing_ok=True)  # we hold the lock: any socket file here is stale
        old_umask = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(self._serve_connection, path=str(sock_path),
                                                     limit=protocol.MAX_HEADER * 4, backlog=512)
        finally:
            os.umask(old_umask)
        os.chmod(sock_path, 0o600)
        st = sock_path.lstat()
        self._socket_id = (st.st_dev, st.st_ino)
        pidfile.write(self.paths.pidfile, os.getpid())
        try:  # a plugin's hook (a bare python3) starts the daemon with this interpreter
            from recoverd.install import record_interpreter

            record_interpreter(self.paths.root)
        except OSError as exc:
            self.log.warning("daemon.interpreter_not_recorded", error=str(exc))
        watcher = self._start_watcher()
        self.log.info("daemon.started", pid=os.getpid(), version=__version__,
                      socket=str(sock_path), patterns=len(self.catalogue.base.patterns))
        loop.call_soon(self._poll_spool)
        try:
            async with server:
                await self._stop.wait()
        finally:
            if watcher is not None:
                watcher.stop()
            for task in list(self._active):
                task.cancel()
            self.ledger.close()
            self.log.info("daemon.stopped", pid=os.getpid(), requests=self.requests)

    def _user_patterns_dir(self) -> Path:
        """Created up front so that the watcher sees the user's first pattern file arrive."""
        folder = paths.user_patterns_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            pass
        return folder

    def _start_watcher(self) -> Watcher | None:
        if not self.config.watch_patterns or self.catalogue is None:
            return None
        loop = self._loop
        assert loop is not None
        try:
            def changed() -> None:
                loop.call_soon_threadsafe(self._schedule_reload)

            watcher = Watcher(self.catalogue.folders(), changed)
            watcher.start()
        except OSError as exc:  # inotify limits, unreadable folder: run without hot reload
            self.log.warning("pattern.watch_failed", error=str(exc))
            return None
        return watcher

    # -- signals: the handler queues, the loop handles -------------------------------------

    def _queue_signal(self, name: str) -> None:
        assert self._loop is not None
        self._loop.call_soon(getattr(self, f"handle_{name}"))

    def handle_term(self) -> None:
        self.log.info("daemon.stopping", reason="signal")
        assert self._stop is not None
        self._stop.set()

    def handle_hup(self) -> None:
        self.log.info("pattern.reload_requested", reason="SIGHUP")
        self.reload()

    def _schedule_reload(self) -> None:
        """Debounce: one reload after a burst of file events has been quiet for a moment."""
        assert self._loop is not None
        if self._reload_handle is not None:
            self._reload_handle.cancel()
        self._reload_handle = self._loop.call_later(self.config.reload_debounce_seconds,
                                                    self.reload)

    def reload(self) -> bool:
        self._reload_handle = None
        return self.catalogue.reload() if self.catalogue is not None else False

    # -- requests ----------------------------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._active.add(task)
        try:
            await self._answer(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.log.info("request.disconnected")
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one bad request must never take the daemon down
            self.log.exception("request.failed")
        finally:
            if task is not None:
                self._active.discard(task)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        uid = protocol.peer_uid(sock) if sock is not None else None
        if uid is not None and uid != os.getuid():
            self.log.warning("request.rejected_peer", peer_uid=uid)
            return
        self.requests += 1
        body = b""
        payload: bytes | None = None
        env: dict[str, str] = {}
        header: protocol.Header | None = None
        try:
            # One deadline for the whole request (asyncio.wait_for would cost a task per read).
            async with asyncio.timeout(self.config.read_timeout_seconds):
                header = protocol.parse_header(await reader.readuntil(b"\n"))
                writer.write(protocol.ACK)
                env = protocol.parse_env(await reader.readexactly(header.env_len))
                payload = await protocol.read_payload(reader)
                if payload is None:
                    self.log.warning("request.too_large", limit=protocol.MAX_PAYLOAD)
        except (asyncio.LimitOverrunError, asyncio.IncompleteReadError,
                protocol.ProtocolError, TimeoutError) as exc:
            self.log.warning("request.malformed", reason=str(exc) or type(exc).__name__)
            if header is None:
                return
        assert header is not None
        record: dict[str, Any] | None = None
        if payload is None:
            pass
        elif header.kind == "ping":
            body = json.dumps(self.status()).encode()
        else:
            self._drain_spool()  # what came before this event is booked before it
            assert self.responder is not None
            body, record = await self.responder.respond(payload, env)
        writer.write(protocol.encode_body(body))
        await writer.drain()
        if record is not None:  # after the reply: Claude waits for the reply, not for these
            after = record.pop("_after", None)
            self.log.info("event.classified", **record)
            if after is not None:
                after()

    def _drain_spool(self) -> None:
        """Classify, log and book every spooled event (a success credits the failure it
        ends); none is lost, and one that fails does not stop the rest."""
        if self.responder is None:
            return
        for name, payload in spool.take(self.paths.spool, self.log):
            try:
                self.responder.book_spooled(payload)
            except Exception:  # noqa: BLE001 - one bad event must not stop the rest
                self.log.exception("spool.failed", file=name, size=len(payload))

    def _poll_spool(self) -> None:
        """Drain the spool now and every SPOOL_POLL_SECONDS. Polled, not watched: a watcher
        would wake the daemon while the hook that wrote the file is still finishing, on the
        same CPU, and the hook exists to cost nothing. Nothing waits for these events: the
        log shows them within a poll, and a request drains the spool before it is answered."""
        assert self._loop is not None
        try:
            self._drain_spool()
        finally:
            self._loop.call_later(SPOOL_POLL_SECONDS, self._poll_spool)

    def status(self) -> dict[str, Any]:
        base = self.catalogue.base if self.catalogue is not None else None
        return {
            "ok": True, "pid": os.getpid(), "version": __version__,
            "uptime_s": round(time.time() - self.started, 3), "home": str(self.config.home),
            "requests": self.requests,
            "patterns": len(base.patterns) if base else 0,
            "pattern_errors": list(base.report.errors) if base else [],
            "generation": self.catalogue.generation if self.catalogue else 0,
            "recoveries_run": self.recoveries.runs if self.recoveries else 0,
            "spooled": spool.waiting(self.paths.spool),
        }


def serve(config: Config) -> int:
    """Run in the foreground until SIGTERM/SIGINT; 0 on a clean exit."""
    journal.configure(config.paths.log if config.home else None, config.log_max_bytes,
                      config.log_backups)
    daemon = Daemon(config)
    daemon.acquire()
    try:
        asyncio.run(daemon.run())
    finally:
        daemon.release()
    return 0
