"""The real app under uvicorn on a free port, in a thread of the test process, for tests that
need real HTTP (Server-Sent Events, streamed downloads): FastAPI's TestClient collects a
whole response before returning it, so an endless stream would never return.

``serve(app)`` and ``serve_api(api)`` (over the ``api`` fixture's store and settings) are
context managers; ``live_server`` is the fixture (a test module that wants it as an argument
wraps ``serve_api`` in a fixture of its own, or conftest imports it). ``SseReader`` parses
a text/event-stream response as a browser does; ``DrivenRun`` is a run driven turn by turn
with the in-memory driver, whose changes (and events) are the engine's own.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import insert, select, text

from cubestudio.api.app import create_app
from cubestudio.api.streams import StreamConfig
from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store import accounts
from cubestudio.store.db import Database
from cubestudio.store.tables import events
from tests.api.conftest import Api

# Fast polls and pings, so tests wait milliseconds, not the production intervals.
FAST = StreamConfig(poll=0.05, keepalive=1.0, log_poll=0.02, log_check=0.05, retry=0.1)
START_TIMEOUT = 20.0


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    app: FastAPI

    def client(self, token: str | None = None, read_timeout: float = 10.0) -> httpx.Client:
        """A client of /api/v1; a stream that sends nothing for ``read_timeout`` fails."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        timeout = httpx.Timeout(10.0, read=read_timeout)
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=timeout)


@contextmanager
def serve(app: FastAPI) -> Iterator[LiveServer]:
    """Serve ``app`` until the block ends; the socket is bound before the server starts, so
    no other process can take the port in between."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        # uvicorn has no event to wait on: its `started` flag is looked at until it is set.
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@contextmanager
def serve_api(api: Api) -> Iterator[LiveServer]:
    """A second app over the ``api`` fixture's store, served for real, with fast streams."""
    app = create_app(api.settings, api.db)
    app.state.stream_config = FAST
    with serve(app) as live:
        yield live


@pytest.fixture
def live_server(api: Api) -> Iterator[LiveServer]:
    with serve_api(api) as live:
        yield live


@dataclass
class Event:
    event: str
    data: str
    id: str | None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class SseReader:
    """The events of one open text/event-stream response, read as they arrive."""

    response: httpx.Response
    last_id: str | None = None  # as EventSource keeps it for Last-Event-ID
    comments: list[str] = field(default_factory=list)
    _lines: Iterator[str] | None = None

    def next(self) -> Event:
        """The next event (comments are kept aside); fails when the stream ends."""
        if self._lines is None:
            self._lines = self.response.iter_lines()
        name, event_id = "message", None
        data: list[str] = []
        for line in self._lines:
            if line == "":
                if data:
                    if event_id is not None:
                        self.last_id = event_id
                    return Event(name, "\n".join(data), event_id)
                continue
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "":
                self.comments.append(value)
            elif key == "event":
                name = value
            elif key == "data":
                data.append(value)
            elif key == "id":
                event_id = value
        raise AssertionError("the event stream ended")

    def until(self, done: Callable[[Event], bool]) -> list[Event]:
        """Events up to and including the first for which ``done(event)`` is true."""
        events = []
        while True:
            events.append(self.next())
            if done(events[-1]):
                return events

    def next_comment(self) -> str:
        """Read on until a comment (a keep-alive) arrives; fails on an event."""
        if self._lines is None:
            self._lines = self.response.iter_lines()
        for line in self._lines:
            if line.startswith(":"):
                return line[1:].strip()
            assert line == "", f"an event arrived on an idle stream: {line}"
        raise AssertionError("the event stream ended")


# -- runs driven by hand (the in-memory driver, the real controller and store) -------------

CHAIN = """
name: chain
tasks:
  - {name: a, command: "true"}
  - {name: b, command: "true", depends: [a]}
"""


class DrivenRun:
    """A run of ``yaml_text`` in ``project``, driven one turn at a time: every change it
    makes is written with its events as the engine writes them."""

    def __init__(self, api: Api, project: str, yaml_text: str = CHAIN) -> None:
        self.db = api.db
        self.runs_dir = api.settings.runs_dir
        self.now = datetime.now(UTC)
        self.driver = MemoryDriver()
        with self.db.begin() as conn:
            found = accounts.get_project(conn, name=project)
        assert found is not None, f"no project {project}"
        spec = load_pipeline_text(yaml_text)
        self.run_id = create_run(
            self.db, spec=spec, params={}, now=self.now, project_id=found["id"]
        )
        self.ctl = load_controller(self.db, self.driver, self.run_id, kill_grace=5)

    def start(self) -> None:
        self.ctl.start(self.now)

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)
        self.ctl.tick(self.now)

    def finish(self, task: str, code: int = 0) -> None:
        self.driver.finish(task, code, run_id=self.run_id)
        self.tick()

    def event_ids(self) -> list[int]:
        """The ids of the run's events in the store, ascending."""
        with self.db.begin() as conn:
            query = select(events.c.id).where(events.c.run_id == self.run_id).order_by(events.c.id)
            return [int(i) for i in conn.execute(query).scalars()]

    def folder(self, task: str, attempt: int = 1) -> Path:
        return self.runs_dir / self.run_id / task / str(attempt)

    def write_log(self, task: str, data: bytes, attempt: int = 1) -> Path:
        """Append to the attempt's log, as the task's process would."""
        folder = self.folder(task, attempt)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "log", "ab") as log:
            log.write(data)
        return folder / "log"

    def secrets(self, *values: str) -> None:
        """What the engine keeps for a run with secrets: the values logs are masked with."""
        folder = self.runs_dir / self.run_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "secrets.json").write_text(json.dumps(list(values)))


def insert_event(db: Database, *, run_id: str, event_id: int, status: str = "running") -> None:
    """An event row with a chosen id, as a transaction that took ``event_id`` would commit
    it; PostgreSQL's sequence is moved past it, so later ids stay above every id used."""
    payload = json.dumps({"name": "a", "status": status}, sort_keys=True)
    row = {"id": event_id, "run_id": run_id, "kind": "task", "payload": payload}
    with db.begin() as conn:
        conn.execute(insert(events).values(**row, created_at=datetime.now(UTC)))
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('events', 'id'), max(id)) FROM events")
            )
