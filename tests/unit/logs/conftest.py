"""A run driven by hand over a real SQLite store and the in-memory driver, with injected
time; the tests write the attempts' logs (and time indexes) themselves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cubestudio.drivers.local import attempt_dir
from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.launcher import AttemptKey
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.logs import append_index
from cubestudio.logs.view import LogRequest, LogStream, open_logs
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store.db import Database
from tests.conftest import open_database

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def epoch(seconds: float) -> float:
    """Unix time ``seconds`` after T0."""
    return T0.timestamp() + seconds


class LoggedRun:
    def __init__(self, db: Database, runs_dir: Path, yaml_text: str) -> None:
        self.db = db
        self.runs_dir = runs_dir
        self.now = T0
        self.driver = MemoryDriver()
        self.run_id = create_run(db, spec=load_pipeline_text(yaml_text), params={}, now=T0)
        self.ctl = load_controller(db, self.driver, self.run_id, kill_grace=5)
        self.ctl.start(self.now)

    def tick(self, seconds: float = 0.0) -> None:
        self.now += timedelta(seconds=seconds)
        self.ctl.tick(self.now)

    def finish(self, task: str, code: int = 0) -> None:
        self.driver.finish(task, code)
        self.tick()

    def folder(self, task: str, attempt: int = 1) -> Path:
        return attempt_dir(self.runs_dir, AttemptKey(self.run_id, task, attempt))

    def write(self, task: str, data: bytes, *, at: float | None = None, attempt: int = 1) -> None:
        """Append to the attempt's log; with ``at`` (seconds after T0), index it then."""
        folder = self.folder(task, attempt)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "log", "ab") as log:
            log.write(data)
        if at is not None:
            append_index(folder, epoch(at), (folder / "log").stat().st_size)

    def secrets(self, *values: str) -> None:
        """What the engine writes for a run with secrets."""
        folder = self.runs_dir / self.run_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "secrets.json").write_text(json.dumps(list(values)))

    def open(self, *, sleep: Any = None, clock: Any = None, **request: Any) -> LogStream:
        timing = {"sleep": sleep, "clock": clock} if sleep else {}
        return open_logs(
            self.db, self.runs_dir, LogRequest(run_id=self.run_id, **request), **timing
        )

    def shown(self, **request: Any) -> list[str]:
        return b"".join(self.open(**request).chunks()).decode().splitlines()


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    yield from open_database(sqlite_url)


@pytest.fixture
def make_run(db: Database, tmp_path: Path) -> Iterator[Any]:
    def make(yaml_text: str) -> LoggedRun:
        return LoggedRun(db, tmp_path / "runs", yaml_text)

    yield make
