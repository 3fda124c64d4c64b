"""Two real `cube scheduler` replicas racing over one PostgreSQL database for 500 ticks.
Time is simulated (--now/--step/--until, hidden options) and runs are created but not launched
(--no-launch); the store is checked afterwards. Helpers here serve the restart tests too."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cubestudio.store.db import Database
from cubestudio.store.tables import pipelines, runs, schedule_records
from tests.conftest import Cube, make_db_url
from tests.integration.helpers import pipeline

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOURLY = """
name: {name}
schedule:
  cron: "{cron}"
  start: "2026-01-01 00:00:00"
  catchup: {catchup}
  max_active_runs: {max_active}
tasks:
  - name: a
    command: "true"
"""


def apply(cube: Cube, tmp_path: Path, name: str, **fields: object) -> None:
    values = {"cron": "@hourly", "catchup": "true", "max_active": 10_000, **fields}
    path = pipeline(tmp_path, HOURLY.format(name=name, **values), f"{name}.yaml")
    result = cube("schedule", "apply", str(path), "--now", T0.isoformat())
    assert result.returncode == 0, result.stderr


def iso(moment: datetime) -> str:
    return moment.isoformat()


def records_by_pipeline(db: Database) -> dict[str, list[tuple[datetime, str]]]:
    query = (
        select(pipelines.c.name, schedule_records.c.execution_date, schedule_records.c.status)
        .join(pipelines, pipelines.c.id == schedule_records.c.pipeline_id)
        .order_by(schedule_records.c.execution_date)
    )
    found: dict[str, list[tuple[datetime, str]]] = {}
    with db.begin() as conn:
        for name, when, status in conn.execute(query):
            found.setdefault(name, []).append((when, status))
    return found


def runs_per_tick(db: Database) -> Counter[tuple[str, datetime]]:
    with db.begin() as conn:
        rows = conn.execute(select(runs.c.pipeline_name, runs.c.execution_date)).all()
    return Counter((name, when) for name, when in rows)


def hours(n: int, start: datetime = T0) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(n)]


@pytest.fixture
def cube_pg(tmp_path: Path) -> Iterator[tuple[Cube, Database]]:
    for url in make_db_url("postgresql", tmp_path):
        db = Database(url)
        yield Cube(tmp_path / "home", url), db
        db.dispose()


@pytest.mark.slow
def test_two_schedulers_racing_over_500_ticks_never_double_a_record_or_a_run(
    cube_pg: tuple[Cube, Database], tmp_path: Path
) -> None:
    cube, db = cube_pg
    apply(cube, tmp_path, "hourly")
    apply(cube, tmp_path, "one-at-a-time", max_active=1)
    until = T0 + timedelta(hours=499)
    args = ["scheduler", "--now", iso(T0), "--step", "3600", "--until", iso(until), "--no-launch"]
    replicas = [cube.popen(*args) for _ in range(2)]
    outputs = [replica.communicate(timeout=240) for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0], outputs

    found = records_by_pipeline(db)
    assert found["hourly"] == [(t, "created") for t in hours(500)]
    # max_active_runs 1 holds across replicas: its one run never ends here.
    assert found["one-at-a-time"] == [(T0, "created")] + [(t, "comed") for t in hours(500)[1:]]
    per_tick = runs_per_tick(db)
    assert max(per_tick.values()) == 1
    assert len(per_tick) == 501
    created = [stderr.count(": created run ") for _stdout, stderr in outputs]
    assert sum(created) == 501, created  # each run was handed on by exactly one replica


def test_sigterm_ends_the_loop_after_the_turn_in_progress(cube_sqlite: Cube) -> None:
    scheduler = cube_sqlite.popen("scheduler", "--interval", "0.2")
    assert scheduler.stderr is not None
    first = scheduler.stderr.readline()  # its handlers are set right after it says so
    assert "scheduler started" in first, first
    time.sleep(1.0)
    scheduler.send_signal(signal.SIGTERM)
    _stdout, stderr = scheduler.communicate(timeout=20)
    assert scheduler.returncode == 0, stderr
    assert "scheduler stopped after" in stderr
