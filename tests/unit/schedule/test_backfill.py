"""Backfill: the records of a range with trigger backfill, admitted under the same rules."""

from __future__ import annotations

from cubestudio.schedule.admission import Pipeline
from cubestudio.schedule.backfill import Backfill
from cubestudio.schedule.plan import timetable_of
from cubestudio.store import schedules as store
from tests.unit.schedule.conftest import World, at, pipeline


def backfill_of(world: World, lo: str, hi: str, **schedule: object) -> Backfill:
    spec = pipeline(**schedule)
    assert spec.schedule is not None
    with world.db.begin() as conn:
        pipeline_id = store.find_pipeline(conn, name=spec.name)
    assert pipeline_id is not None
    return Backfill(
        world.db,
        world.launcher,
        pipeline=Pipeline(pipeline_id, spec, {}, {}, "ann"),
        timetable=timetable_of(spec.schedule),
        lo=at(lo),
        hi=at(hi),
    )


def test_backfill_respects_max_active_runs_and_keeps_existing_records(world: World) -> None:
    world.apply(pipeline(catchup=False, max_active_runs=2), "2026-01-02T00:00")
    world.tick("2026-01-02T03:00")  # the scheduler already ran 03:00
    world.finish(world.launcher.launched[0], "running")
    job = backfill_of(world, "2026-01-02T00:00", "2026-01-02T04:00", max_active_runs=2)
    assert job.record(at("2026-01-02T05:00")) == (5, 1)
    state = job.step(at("2026-01-02T05:00"))
    # The scheduled 03:00 run is active: one slot left of two.
    assert (len(state.launched), state.waiting, state.active, state.others_active) == (1, 3, 1, 1)
    for record in world.records():
        if record["run_id"]:
            world.finish(record["run_id"])
    state = job.step(at("2026-01-02T05:01"))
    assert (len(state.launched), state.waiting) == (2, 1)
    assert [(r["at"], r["trigger"], r["status"]) for r in world.records()] == [
        ("01-02T00:00", "backfill", "created"),
        ("01-02T01:00", "backfill", "created"),
        ("01-02T02:00", "backfill", "created"),
        ("01-02T03:00", "schedule", "created"),
        ("01-02T04:00", "backfill", "comed"),
    ]
    assert {r["trigger"] for r in world.runs()} == {"schedule", "backfill"}


def test_a_failed_run_that_later_ones_depend_on_stops_the_backfill(world: World) -> None:
    world.apply(pipeline(depends_on_past=True), "2026-01-02T00:00")
    job = backfill_of(world, "2026-01-01T00:00", "2026-01-01T02:00", depends_on_past=True)
    job.record(at("2026-01-02T00:00"))
    state = job.step(at("2026-01-02T00:00"))
    (first,) = state.launched
    assert not state.stuck
    world.finish(first, "failed")
    state = job.step(at("2026-01-02T00:01"))
    assert state.launched == [] and state.stuck
    assert state.reason is not None and f"(run {first}) failed" in state.reason


def test_runs_that_end_before_the_count_do_not_make_the_backfill_look_stuck(
    world: World,
) -> None:
    world.apply(pipeline(catchup=False, max_active_runs=2), "2026-01-02T00:00")
    job = backfill_of(world, "2026-01-01T00:00", "2026-01-01T02:00", max_active_runs=2)
    job.record(at("2026-01-02T00:00"))
    launch = world.launcher.launch

    def launch_and_end_at_once(run_id: str) -> None:  # a run of `true` on a fast machine
        launch(run_id)
        world.finish(run_id)

    world.launcher.launch = launch_and_end_at_once  # type: ignore[method-assign]
    state = job.step(at("2026-01-02T00:00"))
    # Two admitted (max_active_runs 2), both ended before the count: the third is admitted by
    # the same step instead of the backfill giving up as stuck.
    assert len(state.launched) == 3
    assert not state.stuck and state.done
