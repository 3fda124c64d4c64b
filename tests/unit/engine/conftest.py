"""A controller over a real database (every backend) and the in-memory driver, driven by
hand with injected time: no processes, no sleeping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.controller import RunController
from cubestudio.engine.lifecycle import create_run, load_controller, summary
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store.db import Database

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class Harness:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.driver = MemoryDriver()
        self.now = T0
        self.ctl: RunController

    def start(self, yaml_text: str, params: dict[str, object] | None = None) -> RunController:
        spec = load_pipeline_text(yaml_text)
        resolved = {name: p.default for name, p in spec.params.items()}
        resolved.update(params or {})
        run_id = create_run(self.db, spec=spec, params=resolved, now=self.now)
        self.ctl = load_controller(self.db, self.driver, run_id, kill_grace=5)
        self.ctl.start(self.now)
        return self.ctl

    def reload(self, driver: MemoryDriver | None = None) -> RunController:
        """A new engine over the same store: what `cube resume` does after a crash."""
        self.driver = driver or MemoryDriver()
        self.ctl = load_controller(self.db, self.driver, self.ctl.run_id, kill_grace=5)
        return self.ctl

    def tick(self, seconds: float = 0.0) -> None:
        self.now += timedelta(seconds=seconds)
        self.ctl.tick(self.now)

    def finish(self, task: str, code: int | None = 0, **outputs: str) -> None:
        self.driver.finish(task, code, outputs or None)
        self.tick()

    def status(self) -> dict[str, str]:
        return {name: t["status"] for name, t in summary(self.db, self.ctl.run_id)["tasks"].items()}

    def summary(self) -> dict[str, object]:
        return summary(self.db, self.ctl.run_id)

    def launched(self) -> list[str]:
        return [r.key.task for r in self.driver.launched]


@pytest.fixture
def harness(db: Database) -> Harness:
    return Harness(db)


@pytest.fixture
def sqlite_harness(sqlite_url: str) -> Iterator[Harness]:
    db = Database(sqlite_url)
    db.ensure_schema()
    yield Harness(db)
    db.dispose()


HarnessFactory = Callable[[], Harness]
