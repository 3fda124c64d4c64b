"""A scheduler over a real database and the in-memory launcher, driven by hand with injected
time: no processes, no sleeping. Runs are "finished" by writing their status, as an engine
would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from cubestudio.schedule.launch import MemoryLauncher
from cubestudio.schedule.registry import ApplyResult, apply_schedule
from cubestudio.schedule.scheduler import Scheduler, TickReport
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.model import PipelineSpec
from cubestudio.store import schedules as store
from cubestudio.store.db import Database
from cubestudio.store.tables import runs


def at(text: str) -> datetime:
    """'2026-01-01T03:00' as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def pipeline(name: str = "nightly", **schedule: Any) -> PipelineSpec:
    schedule.setdefault("cron", "@hourly")
    schedule.setdefault("start", "2026-01-01 00:00:00")
    return pipeline_from_data(
        {"name": name, "schedule": schedule, "tasks": [{"name": "a", "command": "true"}]}
    )


class World:
    def __init__(self, db: Database, batch_size: int = 5000) -> None:
        self.db = db
        self.launcher = MemoryLauncher()
        self.scheduler = Scheduler(db, self.launcher, batch_size=batch_size)

    def apply(self, spec: PipelineSpec, now: str) -> ApplyResult:
        return apply_schedule(self.db, spec=spec, templates={}, user="ann", now=at(now))

    def tick(self, now: str) -> TickReport:
        return self.scheduler.tick(at(now))

    def records(self, name: str = "nightly") -> list[dict[str, Any]]:
        """Oldest first: {"at": "MM-DDTHH:MM", "status", "trigger", "run_id", "message"}."""
        with self.db.begin() as conn:
            pipeline_id = store.find_pipeline(conn, name=name)
            assert pipeline_id is not None
            rows = store.list_records(conn, pipeline_id=pipeline_id, oldest_first=True)
        return [
            {
                "at": row["execution_date"].strftime("%m-%dT%H:%M"),
                "status": row["status"],
                "trigger": row["trigger"],
                "run_id": row["run_id"],
                "run_status": row["run_status"],
                "message": row["message"],
            }
            for row in rows
        ]

    def statuses(self, name: str = "nightly") -> list[tuple[str, str]]:
        return [(r["at"], r["status"]) for r in self.records(name)]

    def runs(self) -> list[dict[str, Any]]:
        with self.db.begin() as conn:
            rows = conn.execute(select(runs).order_by(runs.c.execution_date)).mappings()
            return [dict(row) for row in rows]

    def finish(self, run_id: str, status: str = "succeeded") -> None:
        with self.db.begin() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(status=status))


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    db = Database(sqlite_url)
    db.ensure_schema()
    yield World(db)
    db.dispose()


@pytest.fixture
def any_world(db_url: str) -> Iterator[World]:
    """On SQLite, PostgreSQL and MariaDB."""
    db = Database(db_url)
    db.ensure_schema()
    yield World(db)
    db.dispose()
