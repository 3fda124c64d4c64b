"""The scheduler's turn with injected time: records, restart safety, and the admission rules
(max_active_runs, depends_on_past, expired_limit)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cubestudio.engine.lifecycle import create_run
from cubestudio.schedule import scheduler as scheduler_module
from cubestudio.schedule.admission import LAUNCH_GRACE, MAX_LAUNCHES
from tests.unit.schedule.conftest import World, at, pipeline


def test_restart_after_three_hours_catches_up_exactly_the_missed_ticks(any_world: World) -> None:
    any_world.apply(pipeline(catchup=True, max_active_runs=10), "2026-01-01T00:00")
    any_world.tick("2026-01-01T00:00")
    any_world.finish(any_world.launcher.launched[0], "running")  # `cube resume` took it over
    # The scheduler is down from 00:00 to 03:00; a new one starts.
    restarted = World(any_world.db)
    restarted.tick("2026-01-01T03:00")
    restarted.tick("2026-01-01T03:00")  # the same instant again adds nothing
    assert restarted.statuses() == [
        ("01-01T00:00", "created"),
        ("01-01T01:00", "created"),
        ("01-01T02:00", "created"),
        ("01-01T03:00", "created"),
    ]
    runs = restarted.runs()
    assert [r["execution_date"] for r in runs] == [at(f"2026-01-01T0{h}:00") for h in range(4)]
    assert {r["trigger"] for r in runs} == {"schedule"}
    assert any_world.launcher.launched + restarted.launcher.launched == [r["id"] for r in runs]


def test_restart_after_three_hours_without_catchup_runs_the_latest_and_records_the_gap(
    any_world: World,
) -> None:
    any_world.apply(pipeline(catchup=False, max_active_runs=10), "2026-01-01T00:00")
    any_world.tick("2026-01-01T00:00")
    any_world.tick("2026-01-01T03:00")
    records = any_world.records()
    assert [(r["at"], r["status"]) for r in records] == [
        ("01-01T00:00", "created"),
        ("01-01T01:00", "skipped"),
        ("01-01T02:00", "skipped"),
        ("01-01T03:00", "created"),
    ]
    assert records[1]["message"].startswith("skipped: missed while no scheduler ran")
    assert len(any_world.runs()) == 2


def test_a_pipeline_seen_for_the_first_time_without_catchup_gets_only_the_latest_tick(
    world: World,
) -> None:
    world.apply(pipeline(catchup=False), "2026-01-03T00:00")
    world.tick("2026-01-03T05:30")
    assert world.statuses() == [("01-03T05:00", "created")]
    world.tick("2026-01-03T06:00")
    assert world.statuses()[-1] == ("01-03T06:00", "comed")  # max_active_runs 1: waits


def test_a_slower_replica_clock_never_moves_planning_back(world: World) -> None:
    world.apply(pipeline(catchup=True, max_active_runs=10), "2026-01-01T00:00")
    world.tick("2026-01-01T05:00")
    report = world.tick("2026-01-01T02:00")
    assert sum(report.recorded.values()) == 0
    assert len(world.records()) == 6


def test_planning_in_batches_resumes_exactly_after_a_crash(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.apply(pipeline(cron="*/5 * * * *", catchup=True, max_active_runs=1), "2026-01-01T00:00")
    small = World(world.db, batch_size=7)
    inserts = 0
    real_insert = scheduler_module.store.insert_records

    def crash_on_the_fourth_batch(conn: object, *, rows: list[dict[str, object]]) -> None:
        nonlocal inserts
        inserts += 1
        if inserts == 4:
            raise KeyboardInterrupt  # the process dies mid-transaction
        real_insert(conn, rows=rows)  # type: ignore[arg-type]

    monkeypatch.setattr(scheduler_module.store, "insert_records", crash_on_the_fourth_batch)
    with pytest.raises(KeyboardInterrupt):
        small.tick("2026-01-01T04:00")
    assert len(world.records()) == 21  # three committed batches of seven
    monkeypatch.setattr(scheduler_module.store, "insert_records", real_insert)
    World(world.db, batch_size=7).tick("2026-01-01T04:00")
    ticks = [r["at"] for r in world.records()]
    expected = [f"01-01T{m // 60:02}:{m % 60:02}" for m in range(0, 4 * 60 + 1, 5)]
    assert ticks == expected  # 49 ticks, none twice, none missing


def test_max_active_runs_holds_the_rest_back_and_says_why(world: World) -> None:
    world.apply(pipeline(catchup=True, max_active_runs=2), "2026-01-01T00:00")
    world.tick("2026-01-01T03:00")
    records = world.records()
    assert [r["status"] for r in records] == ["created", "created", "comed", "comed"]
    assert records[2]["message"].startswith("waiting: max_active_runs is 2 (active: ")
    world.finish(records[0]["run_id"])
    world.tick("2026-01-01T03:01")
    records = world.records()
    assert [r["status"] for r in records] == ["created", "created", "created", "comed"]
    assert records[2]["message"] is None


def test_depends_on_past_waits_for_the_previous_scheduled_run_to_succeed(world: World) -> None:
    spec = pipeline(catchup=True, depends_on_past=True, max_active_runs=5)
    world.apply(spec, "2026-01-01T00:00")
    world.tick("2026-01-01T02:00")
    first = world.records()[0]
    assert [r["status"] for r in world.records()] == ["created", "comed", "comed"]
    assert "is pending" in world.records()[1]["message"]
    world.finish(first["run_id"], "failed")
    # A manual run that succeeds is not the past of a scheduled one.
    manual = create_run(world.db, spec=spec, params={}, now=at("2026-01-01T02:01"))
    world.finish(manual)
    world.tick("2026-01-01T02:02")
    waiting = world.records()[1]
    assert waiting["status"] == "comed"
    assert waiting["message"] == (
        f"waiting: depends_on_past, and the run for 2026-01-01T00:00:00+00:00 "
        f"(run {first['run_id']}) failed; `cube retry {first['run_id']}` and, once it "
        "succeeds, this one starts"
    )
    world.finish(first["run_id"], "succeeded")  # what `cube retry` ends with
    world.tick("2026-01-01T02:03")
    assert [r["status"] for r in world.records()] == ["created", "created", "comed"]


def test_expired_limit_keeps_only_the_newest_waiting_records(world: World) -> None:
    world.apply(pipeline(catchup=True, expired_limit=2), "2026-01-01T00:00")
    world.tick("2026-01-01T04:00")
    assert world.statuses() == [
        ("01-01T00:00", "expired"),
        ("01-01T01:00", "expired"),
        ("01-01T02:00", "expired"),
        ("01-01T03:00", "created"),
        ("01-01T04:00", "comed"),
    ]
    assert world.records()[0]["message"].startswith("expired: only the 2 newest")


def test_changing_the_cron_resets_start_to_now(world: World) -> None:
    world.apply(pipeline(catchup=True, max_active_runs=100), "2026-01-01T00:00")
    world.tick("2026-01-01T02:00")
    same = world.apply(pipeline(catchup=True, max_active_runs=100), "2026-01-01T05:00")
    assert same.reset is None and same.start == at("2026-01-01T00:00")
    changed = world.apply(
        pipeline(cron="30 * * * *", catchup=True, max_active_runs=100), "2026-01-01T05:10"
    )
    assert changed.reset == "the cron changed"
    assert changed.start == at("2026-01-01T05:10")
    world.tick("2026-01-01T07:00")
    # Nothing between the old planning (02:00) and the change is backfilled.
    assert [r["at"] for r in world.records()] == [
        "01-01T00:00",
        "01-01T01:00",
        "01-01T02:00",
        "01-01T05:30",
        "01-01T06:30",
    ]


def test_changing_catchup_resets_start_but_an_explicit_new_start_wins(world: World) -> None:
    world.apply(pipeline(catchup=False), "2026-01-01T00:00")
    flipped = world.apply(pipeline(catchup=True), "2026-01-02T00:00")
    assert (flipped.reset, flipped.start) == ("the catchup changed", at("2026-01-02T00:00"))
    both = world.apply(pipeline(catchup=False, start="2026-01-01 12:00:00"), "2026-01-03T00:00")
    assert (both.reset, both.start) == (None, at("2026-01-01T12:00"))


def test_paused_schedules_plan_nothing_and_unpausing_without_catchup_runs_the_latest(
    world: World,
) -> None:
    from cubestudio.schedule.registry import set_paused

    world.apply(pipeline(catchup=False, max_active_runs=10), "2026-01-01T00:00")
    world.tick("2026-01-01T00:00")
    set_paused(world.db, name="nightly", paused=True, now=at("2026-01-01T00:30"))
    world.tick("2026-01-01T03:00")
    assert len(world.records()) == 1
    set_paused(world.db, name="nightly", paused=False, now=at("2026-01-01T03:10"))
    world.tick("2026-01-01T03:10")
    assert world.statuses() == [("01-01T00:00", "created"), ("01-01T03:00", "created")]


def test_a_run_nobody_picked_up_is_launched_again_after_the_grace_then_given_up(
    world: World,
) -> None:
    world.apply(pipeline(catchup=False), "2026-01-01T00:00")
    world.tick("2026-01-01T00:00")
    (run_id,) = world.launcher.launched  # ... and the launched process died at once
    world.tick("2026-01-01T00:00:30")
    assert world.launcher.launched == [run_id]
    later = at("2026-01-01T00:00")
    for _ in range(MAX_LAUNCHES + 1):
        later += LAUNCH_GRACE + timedelta(seconds=1)
        world.scheduler.tick(later)
    assert world.launcher.launched == [run_id] * MAX_LAUNCHES
    assert world.records()[0]["message"].startswith(
        f"gave up launching run {run_id} after {MAX_LAUNCHES} tries"
    )


def test_a_run_picked_up_is_not_launched_again(world: World) -> None:
    world.apply(pipeline(catchup=False), "2026-01-01T00:00")
    world.tick("2026-01-01T00:00")
    (run_id,) = world.launcher.launched
    world.finish(run_id, "running")
    world.scheduler.tick(at("2026-01-01T00:00") + LAUNCH_GRACE * 3)
    assert world.launcher.launched == [run_id]


def test_a_pipeline_that_fails_its_turn_does_not_stop_the_others(world: World) -> None:
    from sqlalchemy import update

    from cubestudio.store.tables import schedules

    world.apply(pipeline("broken"), "2026-01-01T00:00")
    world.apply(pipeline("healthy"), "2026-01-01T00:00")
    with world.db.begin() as conn:  # e.g. a spec written by a newer version
        conn.execute(update(schedules).where(schedules.c.pipeline_id == 1).values(spec="{}"))
    report = world.tick("2026-01-01T00:00")
    assert list(report.failed) == [1] and "KeyError" in report.failed[1]
    assert world.statuses("healthy") == [("01-01T00:00", "created")]


def test_the_service_runs_one_turn_per_simulated_instant(world: World) -> None:
    from cubestudio.schedule.service import SimulatedClock, serve

    world.apply(pipeline(catchup=False, max_active_runs=100), "2026-01-01T00:00")
    seen: list[str] = []
    clock = SimulatedClock(at("2026-01-01T00:00"), timedelta(minutes=30), at("2026-01-01T02:00"))
    turns = serve(
        world.scheduler,
        interval=10,
        clock=clock,
        on_turn=lambda now, _report: seen.append(now.strftime("%H:%M")),
    )
    assert (turns, seen) == (5, ["00:00", "00:30", "01:00", "01:30", "02:00"])
    assert [status for _at, status in world.statuses()] == ["created"] * 3


def test_a_run_id_collision_is_retried_inside_the_admission_transaction(
    any_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_run retries a colliding run id; in the scheduler's transaction that retry
    needs its savepoint, or the whole turn would be lost."""
    from cubestudio.engine import lifecycle

    any_world.apply(pipeline(catchup=True, max_active_runs=2), "2026-01-01T00:00")
    any_world.tick("2026-01-01T00:00")
    (taken,) = any_world.launcher.launched
    ids = iter([taken, "fresh-run-id"])
    monkeypatch.setattr(lifecycle, "new_run_id", lambda _now: next(ids))
    any_world.tick("2026-01-01T01:00")
    assert [(r["status"], r["run_id"]) for r in any_world.records()] == [
        ("created", taken),
        ("created", "fresh-run-id"),
    ]
