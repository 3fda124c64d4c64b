"""Waking the engines when a run is submitted, stopped or retried.

The store is the truth and each engine also looks at it every couple of seconds, so a lost
wake-up only delays a request. What is sent carries no data: an engine that wakes claims
free runs and reads its stop requests.

- On one host (every backend): a Unix datagram socket per engine process under
  ``$CUBE_HOME/engines/``; ``poke`` sends one byte to each.
- PostgreSQL, across hosts: ``NOTIFY cube_engine``; each engine LISTENs on a connection of
  its own, in a thread that reconnects after an outage and wakes the selector through a pipe.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

CHANNEL = "cube_engine"


def sockets_dir(home: Path) -> Path:
    return home / "engines"


class WakeSocket:
    """The socket one engine process is woken through."""

    def __init__(self, home: Path, instance: str) -> None:
        folder = sockets_dir(home)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Socket paths are short (108 bytes): name it after the instance's random part.
        self.path = folder / f"{instance.rsplit('/', 1)[-1]}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self.sock.bind(str(self.path))

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def poke(home: Path) -> int:
    """Wake every engine on this host; returns how many were reached. A socket nobody
    listens on any more (its engine was killed) is removed."""
    folder = sockets_dir(home)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return 0
    reached = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for name in names:
            if not name.endswith(".sock"):
                continue
            path = folder / name
            try:
                sock.sendto(b"w", str(path))
                reached += 1
            except ConnectionRefusedError:
                path.unlink(missing_ok=True)
            except (BlockingIOError, FileNotFoundError):
                reached += 1  # its queue is full: it has wake-ups waiting already
            except OSError:
                continue
    return reached


class PgListener:
    """LISTEN cube_engine (PostgreSQL only) in a thread of its own that reconnects after the
    database went away; each notification writes a byte to a pipe whose read end sits in the
    engine's selector. The pipe outlives every connection, so an outage never leaves a dead
    socket in the selector (readable for ever, or failing each read)."""

    def __init__(self, url: str) -> None:
        self.url = _libpq_url(url)
        self._read, self._write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="pg-listen", daemon=True)
        self._thread.start()

    def fileno(self) -> int:
        return self._read

    def drain(self) -> None:
        """Read what arrived without blocking (the fd was readable)."""
        try:
            while os.read(self._read, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=_LISTEN_TICK * 2)
        if self._thread.is_alive():
            # Still connecting (5 s at most): closing the pipe under it could let it write
            # into a file that reuses the number. The process is ending anyway.
            return
        os.close(self._read)
        os.close(self._write)

    def _listen(self) -> None:
        import psycopg

        delay = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._poke()  # (re)connected: what was notified meanwhile was missed
                    delay = 0.5
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=_LISTEN_TICK, stop_after=1):
                            self._poke()
            except psycopg.Error:
                # The engine's own turns report the outage; this only tries again.
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _poke(self) -> None:
        try:
            os.write(self._write, b"w")
        except (BlockingIOError, OSError):
            pass  # full: a wake-up is pending already; closed: the engine is stopping


_LISTEN_TICK = 1.0  # seconds between looks at the stop flag while listening


def notify_sql() -> str:
    return f"NOTIFY {CHANNEL}"


def _libpq_url(url: str) -> str:
    """SQLAlchemy's postgresql+psycopg://... as libpq wants it."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else url
