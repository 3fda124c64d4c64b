"""The store figures /metrics reports, on every backend: runs per project and status, tasks
of active runs, the scheduler's backlog, engine leases and task durations bucketed in SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert

from cubestudio.store import accounts, stats
from cubestudio.store.db import Database
from cubestudio.store.tables import (
    attempts,
    engines,
    pipelines,
    run_leases,
    runs,
    schedule_records,
    schedules,
    task_runs,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _pipeline(conn: Connection, *, name: str, project_id: int = 1) -> int:
    values = {"project_id": project_id, "name": name, "creator": "ann", "spec": "{}"}
    result = conn.execute(insert(pipelines).values(**values, created_at=NOW, updated_at=NOW))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _run(
    conn: Connection,
    run_id: str,
    *,
    pipeline_id: int,
    status: str,
    project_id: int = 1,
    created_at: datetime = NOW - HOUR,
    tasks: tuple[str, ...] = (),
    **extra: Any,
) -> None:
    row = {"id": run_id, "pipeline_id": pipeline_id, "pipeline_name": "p", "status": status}
    row |= {"trigger": "manual", "execution_date": created_at, "creator": "ann", "runner": "ann"}
    row |= {"cluster_name": "local", "spec": "{}", "params": "{}", "created_at": created_at}
    conn.execute(insert(runs).values(**row, project_id=project_id, **extra))
    for i, task_status in enumerate(tasks):
        task = {"run_id": run_id, "name": f"t{i}", "position": i, "status": task_status}
        conn.execute(insert(task_runs).values(**task, attempts=0, retry_base=0))


def _attempt(
    conn: Connection, run_id: str, task: str, *, status: str, started: datetime, seconds: float
) -> None:
    finished = started + timedelta(seconds=seconds)
    values = {"run_id": run_id, "task_name": task, "number": 1, "status": status}
    conn.execute(insert(attempts).values(**values, started_at=started, finished_at=finished))


def test_runs_are_counted_per_project_and_status(db: Database) -> None:
    with db.begin() as conn:
        team = accounts.create_project(conn, name="team-a", description="", created_by="t", now=NOW)
        daily = _pipeline(conn, name="daily")
        other = _pipeline(conn, name="other", project_id=team)
        for i, status in enumerate(["pending", "pending", "running", "succeeded", "failed"]):
            _run(conn, f"d{i}", pipeline_id=daily, status=status)
        _run(conn, "o1", pipeline_id=other, project_id=team, status="pending")
        _run(conn, "o2", pipeline_id=other, project_id=team, status="succeeded")
        figures = stats.snapshot(conn, now=NOW, lease_seconds=15, window=24 * HOUR)
    assert figures.runs == {
        ("default", "pending"): 2,
        ("default", "running"): 1,
        ("default", "succeeded"): 1,
        ("default", "failed"): 1,
        ("team-a", "pending"): 1,
        ("team-a", "succeeded"): 1,
    }
    assert figures.queue_depth == 3
    assert figures.waiting_for_engine == 4  # active runs without a lease


def test_tasks_are_counted_for_active_runs_only(db: Database) -> None:
    with db.begin() as conn:
        p = _pipeline(conn, name="p")
        _run(conn, "a", pipeline_id=p, status="running", tasks=("succeeded", "running", "queued"))
        _run(conn, "b", pipeline_id=p, status="pending", tasks=("pending", "pending"))
        _run(conn, "done", pipeline_id=p, status="failed", tasks=("failed", "upstream_failed"))
        counted = stats.active_task_runs_by_status(conn)
    assert counted == {"succeeded": 1, "running": 1, "queued": 1, "pending": 2}


def test_scheduler_lag_is_the_oldest_due_waiting_tick_of_unpaused_schedules(db: Database) -> None:
    with db.begin() as conn:
        assert stats.scheduler_backlog(conn, now=NOW).lag_seconds(NOW) == 0.0
        live, paused = _pipeline(conn, name="live"), _pipeline(conn, name="paused")
        for pid, is_paused in ((live, False), (paused, True)):
            values = {"pipeline_id": pid, "spec": "{}", "applied_by": "ann", "start_at": NOW}
            conn.execute(
                insert(schedules).values(**values, paused=is_paused, applied_at=NOW, updated_at=NOW)
            )
        ticks = [
            (live, NOW - 3 * HOUR, "created"),  # already has its run
            (live, NOW - 2 * HOUR, "comed"),  # the oldest waiting: the lag
            (live, NOW - HOUR, "comed"),
            (live, NOW + HOUR, "comed"),  # not due yet
            (paused, NOW - 9 * HOUR, "comed"),  # waits on purpose
        ]
        conn.execute(
            insert(schedule_records),
            [
                {"pipeline_id": pid, "execution_date": tick, "status": status}
                | {"trigger": "schedule", "created_at": NOW, "updated_at": NOW, "launches": 0}
                for pid, tick, status in ticks
            ],
        )
        backlog = stats.scheduler_backlog(conn, now=NOW)
    assert backlog.waiting == 2
    assert backlog.oldest_due == NOW - 2 * HOUR
    assert backlog.lag_seconds(NOW) == 7200.0


def test_engine_leases_group_live_leases_by_engine_id(db: Database) -> None:
    live = NOW + timedelta(seconds=10)
    with db.begin() as conn:
        p = _pipeline(conn, name="p")
        held: dict[str, Any] = {"status": "running", "lease_expires_at": live, "lease_epoch": 1}
        _run(conn, "r1", pipeline_id=p, lease_owner="e1/aaa", **held)
        _run(conn, "r2", pipeline_id=p, lease_owner="e1/aaa", **held)
        _run(conn, "r3", pipeline_id=p, lease_owner="e1/old", **held)  # its previous instance
        # Born leased to `cube run`: no run_leases row, its creation is the claim.
        born: dict[str, Any] = {"lease_expires_at": live, "created_at": NOW - 5 * HOUR}
        _run(conn, "r4", pipeline_id=p, status="running", lease_owner="cli-h-7/x", **born)
        expired: dict[str, Any] = {**held, "lease_expires_at": NOW - timedelta(seconds=1)}
        _run(conn, "r5", pipeline_id=p, lease_owner="e2/bbb", **expired)
        ended: dict[str, Any] = {**held, "status": "succeeded"}
        _run(conn, "r6", pipeline_id=p, lease_owner="e2/bbb", **ended)
        claimed = [
            ("r1", "e1", NOW - timedelta(minutes=30)),
            ("r2", "e1", NOW - timedelta(minutes=1)),
            ("r3", "e1", NOW - 2 * HOUR),
            ("r5", "e2", NOW - HOUR),
        ]
        conn.execute(
            insert(run_leases),
            [
                {"run_id": r, "epoch": 1, "engine_id": e, "host": "h", "claimed_at": t}
                for r, e, t in claimed
            ],
        )
        leased = stats.engine_leases(conn, now=NOW)
        waiting = stats.snapshot(conn, now=NOW, lease_seconds=15, window=HOUR).waiting_for_engine
    assert [(e.engine_id, e.runs, e.oldest_claimed_at) for e in leased] == [
        ("cli-h-7", 1, NOW - 5 * HOUR),
        ("e1", 3, NOW - 2 * HOUR),
    ]
    assert waiting == 1  # r5: its lease expired


def test_engines_alive_have_a_fresh_heartbeat_and_did_not_stop(db: Database) -> None:
    common = {"host": "h", "pid": 1, "process_start": "1", "kind": "service", "max_runs": 10}
    rows = [
        ("fresh", NOW - timedelta(seconds=3), None),
        ("stale", NOW - timedelta(seconds=60), None),
        ("stopped", NOW - timedelta(seconds=1), NOW - timedelta(seconds=1)),
    ]
    with db.begin() as conn:
        conn.execute(
            insert(engines),
            [
                {"id": i, "instance": f"{i}/x", "started_at": NOW - HOUR, "heartbeat_at": beat}
                | {"stopped_at": stopped, **common}
                for i, beat, stopped in rows
            ],
        )
        assert stats.engines_alive(conn, now=NOW, lease_seconds=15) == 1


def test_task_durations_are_bucketed_in_sql_over_the_window(db: Database) -> None:
    with db.begin() as conn:
        p = _pipeline(conn, name="p")
        _run(conn, "new", pipeline_id=p, status="failed", tasks=("a", "b", "c", "d"))
        _run(
            conn,
            "active",
            pipeline_id=p,
            status="running",
            created_at=NOW - 48 * HOUR,
            tasks=("a",),
        )
        _run(
            conn, "old", pipeline_id=p, status="succeeded", created_at=NOW - 48 * HOUR, tasks=("a",)
        )
        start = NOW - timedelta(minutes=30)
        _attempt(conn, "new", "t0", status="succeeded", started=start, seconds=0.25)
        _attempt(conn, "new", "t1", status="succeeded", started=start, seconds=4.5)
        _attempt(conn, "new", "t2", status="failed", started=start, seconds=100)
        _attempt(conn, "new", "t3", status="succeeded", started=start, seconds=1.0)  # le=1
        _attempt(conn, "active", "t0", status="succeeded", started=start, seconds=7200)
        _attempt(conn, "old", "t0", status="succeeded", started=NOW - 47 * HOUR, seconds=5)
        # Still running: no duration yet.
        conn.execute(
            insert(task_runs).values(
                run_id="new", name="t4", position=4, status="running", attempts=1, retry_base=0
            )
        )
        conn.execute(
            insert(attempts).values(
                run_id="new", task_name="t4", number=1, status="running", started_at=start
            )
        )
        got = stats.task_durations(conn, since=NOW - 24 * HOUR, buckets=(1, 5, 3600))
    by_status = {d.status: d for d in got}
    assert set(by_status) == {"succeeded", "failed"}
    ok = by_status["succeeded"]
    assert ok.le == (1.0, 5.0, 3600.0)
    assert ok.cumulative == (2, 3, 3)
    assert ok.count == 4
    assert abs(ok.sum_seconds - (0.25 + 4.5 + 1.0 + 7200)) < 0.01
    failed = by_status["failed"]
    assert (failed.cumulative, failed.count) == ((0, 0, 1), 1)
    assert abs(failed.sum_seconds - 100) < 0.01
