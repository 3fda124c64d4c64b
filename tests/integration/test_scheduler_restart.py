"""A real `cube scheduler` killed with SIGKILL at an arbitrary instant and restarted three
hours later (simulated time): every hourly tick has exactly one record and at most one run;
catchup gets the three missed runs, ignore only the latest with the gap recorded skipped."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cubestudio.store.db import Database
from cubestudio.store.tables import pipelines, schedule_records, schedules
from tests.conftest import Cube, make_db_url
from tests.integration.test_scheduler_replicas import (
    T0,
    apply,
    hours,
    iso,
    records_by_pipeline,
    runs_per_tick,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def cube_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Cube, Database]]:
    """The CLI and a store handle on one fresh database."""
    for url in make_db_url(request.param, tmp_path):
        db = Database(url)
        yield Cube(tmp_path / "home", url), db
        db.dispose()


@pytest.mark.slow
def test_killed_with_sigkill_and_restarted_three_hours_later(
    cube_db: tuple[Cube, Database], tmp_path: Path
) -> None:
    cube, db = cube_db
    apply(cube, tmp_path, "catchup", catchup="true")
    apply(cube, tmp_path, "ignore", catchup="false")
    # Ten simulated minutes a turn, far more turns than the test lets it live.
    args = ["--now", iso(T0), "--step", "600", "--until", iso(T0 + timedelta(days=365))]
    first = cube.popen("scheduler", *args, "--no-launch")
    try:
        _wait_for_records(db, at_least=40)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    planned = _planned_through(db)
    # Down for three hours (by the store's own account), then a new scheduler's turn.
    restart = max(planned.values()) + timedelta(hours=3)
    result = cube("scheduler", "--now", iso(restart), "--no-launch")
    assert result.returncode == 0, result.stderr

    found = records_by_pipeline(db)
    every_hour = hours(int((restart - T0) / timedelta(hours=1)) + 1)
    for name in ("catchup", "ignore"):
        assert [t for t, _status in found[name]] == every_hour  # none twice, none missing
    assert {status for _t, status in found["catchup"]} == {"created"}
    last_seen = planned["ignore"]  # before the kill every turn saw each tick come due
    assert [status for t, status in found["ignore"]] == [
        "created" if t <= last_seen or t == every_hour[-1] else "skipped"
        for t, _status in found["ignore"]
    ]
    missed = int((restart - last_seen) / timedelta(hours=1))  # 3, or 4 if killed mid-turn
    assert sum(s == "skipped" for _t, s in found["ignore"]) == missed - 1
    per_tick = runs_per_tick(db)
    assert max(per_tick.values()) == 1
    created = sum(s == "created" for records in found.values() for _t, s in records)
    assert sum(per_tick.values()) == created


def _planned_through(db: Database) -> dict[str, datetime]:
    query = select(pipelines.c.name, schedules.c.planned_through).join(
        pipelines, pipelines.c.id == schedules.c.pipeline_id
    )
    with db.begin() as conn:
        return {row.name: row.planned_through for row in conn.execute(query)}


def _wait_for_records(db: Database, *, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with db.begin() as conn:
                count = conn.execute(select(func.count()).select_from(schedule_records)).scalar()
        except Exception:  # the schema may not exist yet
            count = 0
        if count and count >= at_least:
            return
        time.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} records after 60s")
