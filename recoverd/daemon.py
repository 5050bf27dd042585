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
import socket
import struct
import time
from pathlib import Path
from typing import Any, BinaryIO

from recoverd import (
    __version__,
    checks,
    diagnosis,
    events,
    journal,
    paths,
    pidfile,
    protocol,
    signatures,
)
from recoverd.catalogue import Catalogue, Watcher
from recoverd.classifier import Classification, classify
from recoverd.config import Config, ConfigError
from recoverd.outcomes import StoreError, action_text, outcome_for, should_attempt
from recoverd.project import find_root
from recoverd.recoveries import Handled, Recoveries, outcome_of
from recoverd.text import shorten

# Classes for which Claude gains nothing from a note: success, harmless exits, unknowns.
SILENT_CLASSES = frozenset({"no_error", "benign_nonzero_exit", "unknown"})
SPOOL_POLL_SECONDS = 1.0


class AlreadyRunning(RuntimeError):
    """Another daemon holds this state directory."""


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (Linux SO_PEERCRED)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


def reply_for(event: events.Event, result: Classification) -> bytes:
    """The diagnosis alone, as one JSON object for Claude Code, or nothing."""
    if event.kind != events.FAILURE or result.cls in SILENT_CLASSES:
        return b""
    return context_reply(event, [diagnosis.render(result, event.command)])


def syntax_text(event: events.Event, result: Classification) -> str:
    """A syntax error with its lines read from the file, confirmed by the language's checker."""
    loc = result.location
    source = ""
    if loc is not None and loc.line is not None:
        source = checks.excerpt(Path(event.cwd or ".", loc.file), loc.line, loc.col)
    return diagnosis.render_syntax(result, event.command, source,
                                   checks.confirm_syntax(result, event))


def context_reply(event: events.Event, texts: list[str]) -> bytes:
    """Exactly one JSON object carrying the texts as additionalContext, or nothing."""
    if not texts:
        return b""
    context = shorten("\n\n".join(texts), diagnosis.LIMIT)
    name = event.hook_event_name or "PostToolUseFailure"
    return json.dumps(
        {"hookSpecificOutput": {"hookEventName": name, "additionalContext": context}},
        ensure_ascii=False,
    ).encode()


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.paths = config.paths
        self.log = journal.get()
        self.catalogue: Catalogue | None = None
        self.recoveries: Recoveries | None = None
        self.store: Any = None
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
        self.store = self._open_store()
        self.recoveries = Recoveries(
            self.config, self.log,
            reclassify=lambda event: classify(event, catalogue.for_cwd(event.cwd)),
            breaker=self._breaker if self.store is not None else None,
            flag=self.paths.late_results)
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
            if self.store is not None:
                self.store.close()
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
        uid = peer_uid(sock) if sock is not None else None
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
                payload = await self._read_payload(reader)
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
            body, record = await self.respond(payload, env)
        writer.write(protocol.encode_body(body))
        await writer.drain()
        if record is not None:  # after the reply: Claude waits for the reply, not for these
            after = record.pop("_after", None)
            self.log.info("event.classified", **record)
            if after is not None:
                after()

    async def _read_payload(self, reader: asyncio.StreamReader) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while chunk := await reader.read(1 << 16):
            size += len(chunk)
            if size > protocol.MAX_PAYLOAD:
                self.log.warning("request.too_large", limit=protocol.MAX_PAYLOAD)
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def handle_event(self, payload: bytes, env: dict[str, str], spooled: bool = False) -> bytes:
        """Classify one event and log it, without recovering (spooled events: too late)."""
        parsed = self._parse(payload, env)
        if parsed is None:
            return b""
        event, result, started = parsed
        reply = b"" if spooled else reply_for(event, result)
        self.log.info("event.classified", **self._record(event, result, started, reply, spooled))
        if event.kind == events.SUCCESS:
            self._credit(event)
        return reply

    def _parse(self, payload: bytes, env: dict[str, str]) -> tuple[
            events.Event, Classification, float] | None:
        started = time.perf_counter()
        try:
            event = events.parse(payload, env)
        except events.EventError as exc:
            self.log.warning("event.malformed", reason=str(exc), size=len(payload),
                             head=payload[:200].decode("utf-8", "replace"))
            return None
        if event.kind == events.IGNORED:
            return None
        assert self.catalogue is not None
        # Only failures are matched against patterns: skip the project-folder lookup otherwise.
        patterns = (self.catalogue.for_cwd(event.cwd) if event.kind == events.FAILURE
                    else self.catalogue.base)
        return event, classify(event, patterns), started

    def _record(self, event: events.Event, result: Classification, started: float,
                reply: bytes, spooled: bool = False) -> dict[str, Any]:
        return {
            "source": event.source, "kind": event.kind, "session": event.session_id,
            "cwd": event.cwd, "command": event.command[:2000], "exit_code": event.exit_code,
            "spooled": spooled, "truncated_chars": event.truncated_chars,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "replied": bool(reply), **result.to_json(),
        }

    async def respond(self, payload: bytes,
                      env: dict[str, str]) -> tuple[bytes, dict[str, Any] | None]:
        """The reply for Claude Code and the log record for one event. A recoverable failure
        is recovered within the budget; results that came later ride on the next event."""
        parsed = self._parse(payload, env)
        if parsed is None:
            return b"", None
        event, result, started = parsed
        assert self.recoveries is not None
        classify_ms = (time.perf_counter() - started) * 1000
        texts = self.recoveries.take_pending(event.session_id)
        handled: Handled | None = None
        if event.kind == events.FAILURE and result.cls == "syntax_error":
            texts.append(await asyncio.to_thread(syntax_text, event, result))
        elif event.kind == events.FAILURE and result.cls not in SILENT_CLASSES:
            handled = await self.recoveries.handle(event, result)
            texts.append(handled.text if handled else diagnosis.render(result, event.command))
        if event.kind == events.FAILURE:
            # Recorded before the reply goes out: what Claude was told is in the store.
            self._remember(event, result, handled, classify_ms)
        reply = context_reply(event, texts)
        record = self._record(event, result, started, reply)
        if event.kind == events.SUCCESS:
            record["_after"] = lambda: self._credit(event)  # nothing Claude waits for
        return reply, record

    # -- the outcome store --------------------------------------------------------------------

    def _open_store(self) -> Any:
        try:
            opened = self.config.open_store()
            purged = opened.purge(time.time())
        except (StoreError, ConfigError, OSError) as exc:
            self.log.error("store.unavailable", error=str(exc))
            return None
        self.log.info("store.opened", backend=self.config.store_backend, purged=purged)
        return opened

    def _project_of(self, event: events.Event) -> str:
        return str(find_root(event.cwd)) if event.cwd else ""

    def _remember(self, event: events.Event, result: Classification, handled: Handled | None,
                  classify_ms: float) -> None:
        if self.store is None:
            return
        outcome = handled.outcome if handled else "none"
        try:
            record_id = self.store.record(outcome_for(
                event, result, outcome, project=self._project_of(event),
                classify_ms=round(classify_ms, 3),
                recovery_ms=handled.recovery_ms if handled else None), time.time())
        except StoreError as exc:
            self.log.error("store.write_failed", error=str(exc))
            return
        if handled is not None and handled.task is not None:
            handled.task.add_done_callback(lambda t: self._settle(record_id, t))

    def _settle(self, record_id: int, task: asyncio.Task[Any]) -> None:
        """A recovery that outlasted the budget: its in_progress record gets the outcome."""
        outcome = "failed" if task.cancelled() or task.exception() else outcome_of(task.result())
        ms = None if outcome == "failed" else task.result().install and round(
            task.result().install.seconds * 1000, 3)
        try:
            self.store.finish(record_id, outcome, time.time(), ms)
        except StoreError as exc:
            self.log.error("store.write_failed", error=str(exc))

    def _credit(self, event: events.Event) -> None:
        """A later success of a command that failed: its last failure counts as healed."""
        if self.store is None or not event.command:
            return
        try:
            credited = self.store.credit(self._project_of(event), event.command, time.time(),
                                         within=self.config.loop_breaker_window_seconds)
        except StoreError as exc:
            self.log.error("store.write_failed", error=str(exc))
            return
        if credited is not None:
            self.log.info("store.credited", record=credited, command=event.command[:200])

    def _breaker(self, plan: Any, result: Classification, event: events.Event) -> tuple[bool, int]:
        sig = signatures.signature(result.cls, result.pattern, event.output).id
        try:
            attempt = should_attempt(
                self.store, self._project_of(event), sig, action_text(plan.fix.kind, plan.fix.argv),
                time.time(), max_failures=self.config.loop_breaker_failures,
                window_seconds=self.config.loop_breaker_window_seconds)
        except StoreError as exc:
            self.log.error("store.read_failed", error=str(exc))
            return True, 0
        return attempt.allowed, attempt.failures

    def _drain_spool(self) -> None:
        """The events the hook left in the spool, oldest first: every success (nobody waits
        for an answer to those) and whatever came while no daemon ran. Each is classified,
        logged and booked (a success credits the failure it ends); none is lost."""
        folder = self.paths.spool
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".event"))
        except OSError:
            return
        for name in names:
            path = folder / name
            try:
                payload = path.read_bytes()
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                self.log.warning("spool.unreadable", file=name, error=str(exc))
                continue
            try:
                self.handle_event(payload, {}, spooled=True)
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
