"""The Redis backend against a real redis-server, started here on 127.0.0.1 at a random port
(no persistence) and stopped in finally. It passes the SQLite store's scenarios and gives the
same stats. Without redis-server the tests skip, unless RECOVERD_REQUIRE_REDIS=1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import test_stats
import test_store

from recoverd import stats
from recoverd.outcomes import Outcome, OutcomeStore, StoreError
from recoverd.store import Store

REQUIRED = os.environ.get("RECOVERD_REQUIRE_REDIS") == "1"
try:
    import redis

    from recoverd.redis_store import RedisStore
except ImportError:
    if REQUIRED:
        raise
    pytest.skip("the redis client is not installed", allow_module_level=True)

TTL = 30 * 86400.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        if REQUIRED:
            pytest.fail("redis-server is not installed and RECOVERD_REQUIRE_REDIS=1")
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    for _ in range(3):  # the port may be taken between probing and binding
        port = _free_port()
        server = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
            deadline = time.monotonic() + 10
            while server.poll() is None and time.monotonic() < deadline:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.02)
            else:
                continue  # exited (port taken) or never answered: try another port
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
            return
        finally:
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait()
            assert server.stdout is not None
            server.stdout.close()
    pytest.fail("redis-server did not start")


def redis_store_url(s: RedisStore) -> str:
    kwargs = s._redis.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisStore]:
    # A fresh namespace per test: no test sees another's keys.
    with RedisStore.open(redis_url, ttl_seconds=TTL, namespace=f"t{uuid.uuid4().hex}") as s:
        yield s


@pytest.mark.parametrize("scenario", [test_store.check_ttl, test_store.check_loop_breaker,
                                      test_store.check_credit, test_store.check_finish,
                                      test_store.check_redaction])
def test_scenario(redis_store: RedisStore, scenario: Callable[[OutcomeStore], None]) -> None:
    scenario(redis_store)


def test_figures_equal_the_hand_computed_ones(redis_store: RedisStore) -> None:
    test_stats.fill(redis_store)
    test_stats.check_figures(redis_store)


def test_suggest_pattern(redis_store: RedisStore, tmp_path: Path) -> None:
    test_stats.fill(redis_store)
    test_stats.check_suggest_pattern(redis_store, tmp_path)


def test_same_answers_as_sqlite(redis_store: RedisStore, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite3", ttl_seconds=TTL) as sqlite_store:
        for s in (sqlite_store, redis_store):
            test_stats.fill(s)
        for now in (test_stats.NOW, test_stats.T0 + 50 + TTL):
            for project in (None, "/p/one", "/p/two"):
                assert (stats.compute(redis_store, now, project=project).to_json()
                        == stats.compute(sqlite_store, now, project=project).to_json())
        assert ([r.id for r in redis_store.history(test_stats.NOW)]
                == [r.id for r in sqlite_store.history(test_stats.NOW)])


def test_records_expire_in_redis_itself(redis_store: RedisStore) -> None:
    client = redis.Redis.from_url(redis_store_url(redis_store), decode_responses=True)
    rid = redis_store.record(Outcome(project="/p", signature="s", cls="unknown",
                                     outcome="none"), time.time())
    ttl = client.ttl(f"{redis_store.ns}:o:{rid}")
    assert 0 < ttl <= TTL
    client.close()


def test_purge_cleans_every_index(redis_store: RedisStore) -> None:
    t0 = test_stats.T0
    redis_store.record(Outcome(project="/p", signature="s", cls="unknown", outcome="failed",
                               action="a", command="c"), t0)
    assert redis_store.purge(t0 + TTL) == 1
    client = redis.Redis.from_url(redis_store_url(redis_store), decode_responses=True)
    left = [k for k in client.scan_iter(f"{redis_store.ns}:*")
            if k != f"{redis_store.ns}:next" and client.type(k) != "none"
            and (client.type(k) != "zset" or client.zcard(k))]
    client.close()
    assert left == []


def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="redis store"):
        RedisStore.open(f"redis://127.0.0.1:{_free_port()}/0", timeout=0.5)
