"""Knowing how many runs a command creates before it creates them, and undoing them (issue 10,
item 10), and `--end` read inclusively: a bare date is the whole day."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from cubestudio.procinfo import start_time
from cubestudio.schedule.backfill import Backfill, preview_backfill
from cubestudio.schedule.plan import NewRuns, parse_range_end
from cubestudio.schedule.registry import clear_schedule, preview_apply
from cubestudio.schedule.timetable import Timetable
from cubestudio.store import runs as runs_store
from cubestudio.store.tables import attempts, pipelines, schedule_records
from tests.unit.schedule.conftest import World, at, pipeline


def hours(first: str, n: int) -> list[datetime]:
    return [at(first) + timedelta(hours=h) for h in range(n)]


# -- counting, purely ----------------------------------------------------------------------------
def test_new_runs_counts_ticks_without_a_record_and_lists_them_again() -> None:
    ticks = hours("2026-01-01T00:00", 30)
    new = NewRuns(lambda: iter(ticks), {ticks[0], ticks[5]})
    assert (new.count, new.first, new.last) == (28, ticks[1], ticks[29])
    assert list(new) == list(new) == [t for i, t in enumerate(ticks) if i not in (0, 5)]
    assert new.summary("Asia/Shanghai") == (
        "this will create 28 runs (2026-01-01 09:00 … 2026-01-02 13:00 Asia/Shanghai)"
    )
    assert NewRuns(lambda: ticks[:1], set()).summary("UTC") == (
        "this will create 1 run (2026-01-01 00:00 UTC)"
    )
    assert NewRuns(lambda: ticks[:1], set(ticks)).summary("UTC") == "this will create no runs"


def test_a_bare_end_date_is_the_whole_day_in_the_schedule_zone() -> None:
    shanghai = Timetable("0 2 * * *", "Asia/Shanghai")
    end = parse_range_end("2026-01-07", timetable=shanghai)
    assert end == datetime(2026, 1, 7, 15, 59, 59, 999999, tzinfo=UTC)  # 23:59:59.999999 +08
    ticks = list(shanghai.ticks_between(at("2026-01-05T00:00"), end))
    assert ticks[-1] == datetime(2026, 1, 6, 18, tzinfo=UTC)  # 02:00 on the 7th, local
    # On the day New York falls back the day has 25 hours: all of them are in.
    new_york = Timetable("30 23 * * *", "America/New_York")
    end = parse_range_end("2026-11-01", timetable=new_york)
    assert end == datetime(2026, 11, 2, 4, 59, 59, 999999, tzinfo=UTC)
    assert list(new_york.ticks_between(at("2026-11-01T12:00"), end)) == [at("2026-11-02T04:30")]
    # A time is taken as it is: a tick exactly on it is in the range.
    assert parse_range_end("2026-01-07T02:00", timetable=shanghai) == at("2026-01-06T18:00")


# -- counting against the store ------------------------------------------------------------------
def test_preview_of_a_first_apply_counts_the_catch_up_and_stores_nothing(world: World) -> None:
    spec = pipeline(catchup=True)  # hourly from 2026-01-01 00:00
    preview = preview_apply(world.db, spec=spec, now=at("2026-01-02T00:30"))
    assert (preview.created, preview.start, preview.reset) == (True, at("2026-01-01T00:00"), None)
    assert (preview.runs.count, preview.runs.first) == (25, at("2026-01-01T00:00"))
    assert preview.runs.last == at("2026-01-02T00:00")
    with world.db.begin() as conn:
        assert conn.execute(select(pipelines)).first() is None
    without_catchup = preview_apply(world.db, spec=pipeline(), now=at("2026-01-02T00:30"))
    assert list(without_catchup.runs) == [at("2026-01-02T00:00")]


def test_preview_of_a_re_apply_counts_only_what_a_new_start_adds(world: World) -> None:
    world.apply(pipeline(catchup=True, start="2026-01-02 00:00:00"), "2026-01-02T00:00")
    world.tick("2026-01-02T03:00")  # 00:00 .. 03:00 have records
    same = preview_apply(
        world.db,
        spec=pipeline(catchup=True, start="2026-01-02 00:00:00"),
        now=at("2026-01-02T03:30"),
    )
    assert (same.created, same.runs.count) == (False, 0)  # the scheduler goes on as it was
    earlier = pipeline(catchup=True, start="2026-01-01 22:00:00")
    moved = preview_apply(world.db, spec=earlier, now=at("2026-01-02T03:30"))
    assert list(moved.runs) == [at("2026-01-01T22:00"), at("2026-01-01T23:00")]


def test_preview_of_a_backfill_leaves_out_ticks_that_have_a_record(world: World) -> None:
    spec = pipeline(catchup=False)
    lo, hi = at("2026-01-02T00:00"), at("2026-01-02T05:00")
    assert preview_backfill(world.db, spec=spec, lo=lo, hi=hi).count == 6  # no pipeline yet
    world.apply(spec, "2026-01-02T00:00")
    world.tick("2026-01-02T02:00")  # the scheduler ran 02:00
    new = preview_backfill(world.db, spec=spec, lo=lo, hi=hi)
    assert new.count == 5 and at("2026-01-02T02:00") not in list(new)
    job = Backfill.of(world.db, None, spec=spec, templates={}, runner="ann", lo=lo, hi=hi, now=hi)
    assert job.record(hi) == (6, 1)
    assert preview_backfill(world.db, spec=spec, lo=lo, hi=hi).count == 0


# -- undoing -------------------------------------------------------------------------------------
def test_clear_deletes_waiting_records_and_unstarted_runs_only(world: World) -> None:
    world.apply(pipeline(catchup=True, max_active_runs=3), "2026-01-01T00:00")
    world.tick("2026-01-01T09:00")  # 10 records, 3 runs
    done, started, unstarted = world.launcher.launched
    world.finish(done, "succeeded")
    world.finish(started, "running")
    _start_an_attempt(world, started)
    cleared = clear_schedule(world.db, name="nightly")
    assert (cleared.records, cleared.runs, cleared.busy) == (7, [unstarted], [])
    assert [r["id"] for r in world.runs()] == [done, started]
    assert [(r["at"], r["status"]) for r in world.records()] == [
        ("01-01T00:00", "created"),
        ("01-01T01:00", "created"),
    ]
    # The scheduler planned past them: nothing comes back on its next turn.
    world.tick("2026-01-01T09:30")
    assert len(world.records()) == 2


def test_clear_leaves_a_pending_run_a_live_process_is_taking_over(world: World) -> None:
    world.apply(pipeline(catchup=True, max_active_runs=1), "2026-01-01T00:00")
    world.tick("2026-01-01T01:00")
    (run_id,) = world.launcher.launched
    with world.db.begin() as conn:
        runs_store.set_engine(
            conn,
            run_id=run_id,
            pid=os.getpid(),
            host=socket.gethostname(),
            start=start_time(os.getpid()),
        )
    cleared = clear_schedule(world.db, name="nightly")
    assert (cleared.records, cleared.runs, cleared.busy) == (1, [], [run_id])
    assert [r["id"] for r in world.runs()] == [run_id]


def test_delete_run_refuses_a_status_it_was_not_given(world: World) -> None:
    world.apply(pipeline(catchup=True, max_active_runs=2), "2026-01-01T00:00")
    world.tick("2026-01-01T01:00")
    finished, running = world.launcher.launched
    world.finish(finished, "failed")
    world.finish(running, "running")
    _start_an_attempt(world, running)
    ended = ["succeeded", "failed", "stopped"]
    with world.db.begin() as conn:
        assert runs_store.delete_run(conn, run_id=running, statuses=ended) == "running"
        assert runs_store.delete_run(conn, run_id=finished, statuses=ended) == "failed"
        assert runs_store.delete_run(conn, run_id="nope", statuses=ended) is None
    assert [r["id"] for r in world.runs()] == [running]
    with world.db.begin() as conn:
        dates = conn.execute(select(schedule_records.c.run_id)).scalars().all()
    assert dates == [running]  # the deleted run's record went with it


def _start_an_attempt(world: World, run_id: str) -> None:
    with world.db.begin() as conn:
        conn.execute(
            insert(attempts).values(
                run_id=run_id,
                task_name="a",
                number=1,
                status="running",
                started_at=datetime.now(UTC),
            )
        )
