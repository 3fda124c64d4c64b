"""The PostgreSQL wake-up listener across an outage: its fd (a pipe, not the connection's
socket) wakes the engine on NOTIFY, stays quiet while the database is away, and works again
once the database is back (the listener reconnects by itself)."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cubestudio.engine.wakeup import CHANNEL, PgListener
from tests.conftest import make_db_url
from tests.integration.engine_helpers import TcpProxy


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_db_url("postgresql", tmp_path)


def _readable(fd: int, within: float) -> bool:
    return bool(select.select([fd], [], [], within)[0])


def _notify(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"NOTIFY {CHANNEL}")


def test_the_listener_wakes_after_a_database_outage(pg_url: str) -> None:
    proxy = TcpProxy(("127.0.0.1", 5432))
    listener = PgListener(pg_url.replace(":5432/", f":{proxy.port}/"))
    try:
        assert _readable(listener.fileno(), 10)  # connected (a first wake-up) ...
        listener.drain()
        _notify(pg_url)
        assert _readable(listener.fileno(), 5)  # ... and listening
        listener.drain()

        proxy.cut()
        time.sleep(0.5)
        listener.drain()
        assert not _readable(listener.fileno(), 1.5)  # no busy wake-ups while it is away

        proxy.restore()
        assert _readable(listener.fileno(), 15)  # reconnected: what was missed, look now
        listener.drain()
        deadline = time.monotonic() + 10
        while not _readable(listener.fileno(), 0.5):  # LISTEN may lag the reconnect a little
            assert time.monotonic() < deadline, "no wake-up after the database came back"
            _notify(pg_url)
    finally:
        listener.close()
        proxy.close()
