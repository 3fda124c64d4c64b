"""Helpers for the engine-service tests: real `cube engine` replicas (their JSON event logs in
files), runs submitted in bulk through the real `cube submit` code in one process, counter
files, the store read directly, a TCP proxy that can cut the database away, and clean-up of
every process a test started (paused ones included) and of the task processes left behind."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from cubestudio.engine.lifecycle import summary
from cubestudio.procinfo import start_time
from cubestudio.store.db import Database
from cubestudio.store.tables import attempts, run_leases, runs
from tests.conftest import CUBE, Cube

LEASE = 3.0  # CUBE_ENGINE_LEASE for these tests: fail-over waits for this
POLL = 2.0  # the engine's slow poll (ServiceConfig.poll_seconds): a claim waits at most this
TERMINAL = {"succeeded", "failed", "stopped"}

# Every task appends its attempt number to <counters>/<run>.<task>: a task process that
# started twice for one attempt shows as a repeated line.
COUNT = 'echo "$CUBE_ATTEMPT" >> {counters}/"$CUBE_RUN_ID.$CUBE_TASK_NAME"'

# Submits every pipeline file named on stdin (one per line, `FILE [NAME=VALUE...]`) through
# the real `cube submit` code, in one process: 60 `cube submit` processes would cost a minute.
_SUBMIT_MANY = """
import sys
from pathlib import Path
from cubestudio.cli.engine import submit
for line in sys.stdin:
    file, *params = line.split()
    submit(Path(file), param=params, json_out=True)
"""


def now() -> datetime:
    return datetime.now(UTC)


def wait_until(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.05)


class EngineProc:
    """One `cube engine` process; its stderr (one JSON event a line) goes to a file."""

    def __init__(self, engine_id: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.engine_id = engine_id
        self.proc = proc
        self.log = log
        self.stopped = False  # SIGSTOPped: clean-up must SIGCONT it before the kill

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def events(self, kind: str | None = None, run: str | None = None) -> list[dict[str, Any]]:
        """The JSON events logged so far (a line that is not JSON fails the test: an engine
        logs events, never a traceback)."""
        found = []
        for line in self.text().splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                raise AssertionError(f"{self.engine_id} logged a non-event: {line}") from None
            if (kind is None or event["event"] == kind) and (run is None or event["run"] == run):
                found.append(event)
        return found

    def runs_of(self, kind: str) -> set[str]:
        return {e["run"] for e in self.events(kind)}

    def instance(self) -> str:
        started = wait_until(lambda: self.events("engine_started"), f"{self.engine_id} start")
        return str(started[-1]["instance"])

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)
        if signum == signal.SIGSTOP:
            self.stopped = True
        elif signum == signal.SIGCONT:
            self.stopped = False

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout=timeout)


class Replicas:
    """Starts `cube engine` processes for one test and ends all of them afterwards."""

    def __init__(self, cube: Cube, folder: Path) -> None:
        self.cube = cube
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.started: list[EngineProc] = []

    def start(
        self,
        engine_id: str,
        *args: str,
        host: str | None = None,
        env: dict[str, str] | None = None,
        ready: bool = True,
    ) -> EngineProc:
        """``host``: run it in a UTS namespace of its own with that hostname (another host
        over the same database, as far as the engine can tell)."""
        command = [CUBE, "engine", "--id", engine_id, *args]
        if host is not None:
            command = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "sh"]
            command += [CUBE, "engine", "--id", engine_id, *args]
        log = self.folder / f"{engine_id}.{len(self.started)}.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                command,
                env={**self.cube.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        engine = EngineProc(engine_id, proc, log)
        self.started.append(engine)
        if ready:
            engine.instance()
        return engine

    def close(self) -> None:
        for engine in self.started:
            if engine.proc.poll() is None:
                if engine.stopped:
                    os.kill(engine.pid, signal.SIGCONT)
                engine.proc.kill()
                engine.proc.wait(timeout=30)
        kill_tasks(self.cube.home)


def kill_tasks(home: Path) -> None:
    """SIGKILL the process group of every attempt still running under ``home``: a failed
    test must not leave its `sleep`s behind."""
    for started in (home / "runs").glob("*/*/*/started"):
        try:
            pid, began = started.read_text().split()
        except (OSError, ValueError):
            continue
        if start_time(int(pid)) == began:
            try:
                os.killpg(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def replicas_for(cube: Cube, tmp_path: Path) -> Iterator[Replicas]:
    """The body of each test file's `replicas` fixture: engines with a short lease, all
    ended when the test ends."""
    cube.env["CUBE_ENGINE_LEASE"] = str(LEASE)
    group = Replicas(cube, tmp_path / "engines")
    try:
        yield group
    finally:
        group.close()


def store_for(cube: Cube) -> Iterator[Database]:
    """The body of each test file's `store` fixture: the test's database, read directly
    (disposed before the database is dropped)."""
    db = Database(cube.env["CUBE_DATABASE_URL"])
    try:
        yield db
    finally:
        db.dispose()


def submit_many(cube: Cube, lines: Iterable[str]) -> list[str]:
    """Submit each `FILE [NAME=VALUE...]` line; the run ids, in order."""
    result = subprocess.run(
        [sys.executable, "-c", _SUBMIT_MANY],
        input="\n".join(lines) + "\n",
        env=cube.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["run_id"] for line in result.stdout.splitlines()]


# -- the store ---------------------------------------------------------------------------------
def run_statuses(db: Database, ids: Iterable[str]) -> dict[str, str]:
    with db.begin() as conn:
        rows = conn.execute(select(runs.c.id, runs.c.status).where(runs.c.id.in_(list(ids))))
        return {row.id: row.status for row in rows}


def wait_ended(db: Database, ids: list[str], timeout: float = 60.0) -> dict[str, str]:
    def ended() -> dict[str, str] | None:
        found = run_statuses(db, ids)
        return found if all(s in TERMINAL for s in found.values()) else None

    try:
        return dict(wait_until(ended, "every run ended", timeout))
    except AssertionError:
        left = {k: v for k, v in run_statuses(db, ids).items() if v not in TERMINAL}
        raise AssertionError(f"{len(left)} runs did not end within {timeout}s: {left}") from None


def held_by(db: Database, instance: str) -> set[str]:
    """The active runs whose lease the engine instance holds now."""
    with db.begin() as conn:
        query = select(runs.c.id).where(
            runs.c.lease_owner == instance, runs.c.status.in_(["pending", "running"])
        )
        return set(conn.execute(query).scalars())


def lease_expiry(db: Database, run_id: str) -> datetime:
    with db.begin() as conn:
        query = select(runs.c.lease_expires_at).where(runs.c.id == run_id)
        return conn.execute(query).scalar_one()  # type: ignore[no-any-return]


def lease_history(db: Database, run_id: str) -> list[dict[str, Any]]:
    with db.begin() as conn:
        query = select(run_leases).where(run_leases.c.run_id == run_id).order_by(run_leases.c.epoch)
        return [dict(row) for row in conn.execute(query).mappings()]


def attempt_rows(db: Database, run_id: str) -> list[dict[str, Any]]:
    with db.begin() as conn:
        query = select(attempts).where(attempts.c.run_id == run_id)
        return [dict(row) for row in conn.execute(query).mappings()]


def check_counters(db: Database, counters: Path, run_id: str) -> dict[str, dict[str, Any]]:
    """Each attempt of each task started its process exactly once: the task's counter file
    holds 1, 2, ..., attempts; a task that never ran has none. The run's tasks."""
    tasks: dict[str, dict[str, Any]] = summary(db, run_id)["tasks"]
    for name, task in tasks.items():
        path = counters / f"{run_id}.{name}"
        lines = path.read_text().split() if path.exists() else []
        expected = [str(n) for n in range(1, task["attempts"] + 1)]
        assert lines == expected, (run_id, name, task, lines)
    return tasks


def pause_idle(engine: EngineProc, db: Database, run_ids: Iterable[str]) -> None:
    """SIGSTOP the engine between two of its transactions: paused inside one, it would hold
    the SQLite write lock (or the runs' row locks) and every engine would wait for it, which
    is right but not what a fencing test is about."""
    for _ in range(50):
        engine.signal(signal.SIGSTOP)
        if not _locked(db, list(run_ids)):
            return
        engine.signal(signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError(f"{engine.engine_id} was inside a transaction at each of 50 tries")


def _locked(db: Database, run_ids: list[str]) -> bool:
    if db.backend == "sqlite":
        path = db.engine.url.database
        probe = sqlite3.connect(str(path), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    query = select(runs.c.id).where(runs.c.id.in_(run_ids)).with_for_update(nowait=True)
    try:
        with db.begin() as conn:
            conn.execute(query).all()
        return False
    except DBAPIError:
        return True


# -- a database that goes away -------------------------------------------------------------------
class TcpProxy:
    """127.0.0.1:<port> forwarded to a target; ``cut`` closes every connection and refuses new
    ones (as a stopped server does), ``restore`` accepts again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._closed = False
        self._open = True
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
        return sock

    def _loop(self) -> None:
        while not self._closed:
            for key, _ in self._selector.select(timeout=0.5):
                with self._lock:
                    if key.data == "wake":
                        self._wake_r.recv(64)
                    elif key.data is None and key.fileobj is self._listener:
                        self._accept()
                    elif key.data is not None:
                        self._pump(key.fileobj, key.data)  # type: ignore[arg-type]

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self._pairs.append((client, server))
        self._selector.register(client, selectors.EVENT_READ, server)
        self._selector.register(server, selectors.EVENT_READ, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            data = source.recv(65536)
            if data:
                sink.sendall(data)
                return
        except OSError:
            pass
        self._drop(source)

    def _drop(self, one: socket.socket) -> None:
        for pair in [p for p in self._pairs if one in p]:
            self._pairs.remove(pair)
            for sock in pair:
                self._selector.unregister(sock)
                sock.close()

    def _poke(self) -> None:
        self._wake_w.send(b"w")

    def cut(self) -> None:
        with self._lock:
            if not self._open:
                return
            self._open = False
            self._selector.unregister(self._listener)
            self._listener.close()
            for client, _server in list(self._pairs):
                self._drop(client)
        self._poke()

    def restore(self) -> None:
        with self._lock:
            self._open = True
            self._listener = self._listen(self.port)
            self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._poke()

    def close(self) -> None:
        self.cut()
        self._closed = True
        self._thread.join(timeout=5)
