"""Keyword-only aggregate queries for the server's /metrics: counts and ages, never rows per
run, so a scrape costs a handful of statements whatever the history's size.

Each function reads one figure of the whole store (every project, every engine), so server
replicas scraped side by side report the same values. ``snapshot`` runs them all in the
caller's transaction: seven statements in all. Where a query could scan a table that only
grows (tasks, attempts), it is bounded by an index: tasks of active runs (``ix_runs_status``),
attempts of runs created in the window or still active (``ix_runs_created_at``,
``ix_runs_status``, then the attempts' primary key).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Float, and_, case, func, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from cubestudio.store import leases
from cubestudio.store.tables import (
    UTCDateTime,
    attempts,
    projects,
    run_leases,
    runs,
    schedule_records,
    schedules,
    task_runs,
)

# The scheduler's "due, waiting for a run" record status (schedule.states.RecordStatus.COMED):
# the store keeps no dependency on the scheduler, which gives it its meaning.
WAITING_RECORD = "comed"
PENDING_RUN = "pending"
# Upper bounds (seconds) of the task duration buckets: a second to a day.
DURATION_BUCKETS = (
    1.0,
    5.0,
    15.0,
    30.0,
    60.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    21600.0,
    86400.0,
)


class _Seconds(FunctionElement[float]):
    """``end - start`` in seconds: each backend subtracts timestamps its own way."""

    type = Float()
    inherit_cache = True
    name = "cube_seconds_between"


@compiles(_Seconds)
def _seconds_sqlite(element: _Seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy keeps SQLite timestamps as ISO text, which julianday() reads (in days).
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(_Seconds, "postgresql")
def _seconds_postgresql(element: _Seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(_Seconds, "mysql")
def _seconds_mysql(element: _Seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(TIMESTAMPDIFF(MICROSECOND, {start}, {end}) / 1000000.0)"


@dataclass(frozen=True)
class SchedulerBacklog:
    """Due schedule records still waiting for a run, and the oldest one's tick."""

    waiting: int
    oldest_due: datetime | None

    def lag_seconds(self, now: datetime) -> float:
        """How far behind its schedule the oldest waiting tick is; 0 when none waits."""
        return max(0.0, (now - self.oldest_due).total_seconds()) if self.oldest_due else 0.0


@dataclass(frozen=True)
class EngineLeases:
    """The live leases one engine id holds, and when the oldest of them was taken."""

    engine_id: str
    runs: int
    oldest_claimed_at: datetime


@dataclass(frozen=True)
class Durations:
    """Attempts of one outcome: cumulative counts per bucket bound (``le``), total, sum."""

    status: str
    le: tuple[float, ...]
    cumulative: tuple[int, ...]
    count: int
    sum_seconds: float


@dataclass(frozen=True)
class StoreStats:
    runs: dict[tuple[str, str], int]  # (project name, status) -> runs
    active_tasks: dict[str, int]  # status -> tasks of pending and running runs
    waiting_for_engine: int
    scheduler: SchedulerBacklog
    engine_leases: list[EngineLeases]
    engines_alive: int
    durations: list[Durations] = field(default_factory=list)

    @property
    def queue_depth(self) -> int:
        """Runs not started yet (pending), every project together."""
        return sum(n for (_, status), n in self.runs.items() if status == PENDING_RUN)


def runs_by_status(conn: Connection) -> dict[tuple[str, str], int]:
    """(project name, run status) -> how many runs; one grouped pass over the runs."""
    query = (
        select(projects.c.name, runs.c.status, func.count())
        .select_from(runs.join(projects, projects.c.id == runs.c.project_id))
        .group_by(projects.c.name, runs.c.status)
    )
    return {(str(p), str(s)): int(n) for p, s, n in conn.execute(query)}


def active_task_runs_by_status(conn: Connection) -> dict[str, int]:
    """Task status -> how many tasks of active (pending, running) runs: what is waiting,
    queued and running now. Tasks of ended runs are history: ``task_durations`` covers them."""
    query = (
        select(task_runs.c.status, func.count())
        .select_from(task_runs.join(runs, runs.c.id == task_runs.c.run_id))
        .where(runs.c.status.in_(leases.ACTIVE))
        .group_by(task_runs.c.status)
    )
    return {str(s): int(n) for s, n in conn.execute(query)}


def scheduler_backlog(conn: Connection, *, now: datetime) -> SchedulerBacklog:
    """Due (tick <= now) records of unpaused schedules still waiting for a run: for a slot,
    for their past to succeed, or for a scheduler to launch them. A paused schedule's
    records wait on purpose and are left out."""
    query = (
        select(func.count(), func.min(schedule_records.c.execution_date))
        .select_from(
            schedule_records.join(
                schedules, schedules.c.pipeline_id == schedule_records.c.pipeline_id
            )
        )
        .where(
            schedules.c.paused.is_(False),
            schedule_records.c.status == WAITING_RECORD,
            schedule_records.c.execution_date <= now,
        )
    )
    waiting, oldest = conn.execute(query).one()
    return SchedulerBacklog(waiting=int(waiting or 0), oldest_due=oldest)


def engine_leases(conn: Connection, *, now: datetime) -> list[EngineLeases]:
    """Per engine id, the active runs whose live lease it holds and the oldest claim among
    them. A run born leased to `cube run` has no run_leases row: its creation is its claim.
    Expired leases are not held (``leases.active_unowned`` counts those runs as waiting)."""
    claimed = type_coerce(func.coalesce(run_leases.c.claimed_at, runs.c.created_at), UTCDateTime)
    query = (
        select(runs.c.lease_owner, func.count(), type_coerce(func.min(claimed), UTCDateTime))
        .select_from(
            runs.outerjoin(
                run_leases,
                and_(run_leases.c.run_id == runs.c.id, run_leases.c.epoch == runs.c.lease_epoch),
            )
        )
        .where(
            runs.c.lease_owner.is_not(None),
            runs.c.status.in_(leases.ACTIVE),
            runs.c.lease_expires_at >= now,
        )
        .group_by(runs.c.lease_owner)
    )
    by_id: dict[str, EngineLeases] = {}
    for owner, held, oldest in conn.execute(query):
        # An owner is an instance "<engine id>/<random>"; ids never hold a '/'.
        engine_id = str(owner).split("/", 1)[0]
        before = by_id.get(engine_id)
        if before is not None:  # a restarted engine's old instance still holds some
            held, oldest = held + before.runs, min(oldest, before.oldest_claimed_at)
        by_id[engine_id] = EngineLeases(engine_id, int(held), oldest)
    return sorted(by_id.values(), key=lambda e: e.engine_id)


def engines_alive(conn: Connection, *, now: datetime, lease_seconds: float) -> int:
    """Engine services not stopped whose heartbeat is younger than a lease: as `cube engine
    status` judges them, less its same-host process check (a server runs elsewhere)."""
    fresh_after = now - timedelta(seconds=lease_seconds)
    return sum(
        1
        for e in leases.list_engines(conn)
        if e["stopped_at"] is None and e["heartbeat_at"] > fresh_after
    )


def task_durations(
    conn: Connection, *, since: datetime, buckets: Sequence[float] = DURATION_BUCKETS
) -> list[Durations]:
    """Durations (finished_at - started_at) of attempts that finished since ``since``, per
    attempt status, bucketed in SQL: one grouped statement. Only attempts of runs created
    since then or still active are read (the indexed way in): an attempt of a run created
    before the window that has ended since is left out."""
    seconds: ColumnElement[float] = _Seconds(attempts.c.started_at, attempts.c.finished_at)
    bounds = tuple(float(b) for b in sorted(buckets))
    in_bucket = [func.sum(case((seconds <= b, 1), else_=0)) for b in bounds]
    query = (
        select(attempts.c.status, func.count(), func.sum(seconds), *in_bucket)
        .select_from(attempts.join(runs, runs.c.id == attempts.c.run_id))
        .where(
            or_(runs.c.created_at >= since, runs.c.status.in_(leases.ACTIVE)),
            attempts.c.finished_at.is_not(None),
            attempts.c.finished_at >= since,
        )
        .group_by(attempts.c.status)
        .order_by(attempts.c.status)
    )
    return [
        Durations(
            status=str(status),
            le=bounds,
            cumulative=tuple(int(c or 0) for c in counts),
            count=int(count),
            sum_seconds=float(total or 0.0),
        )
        for status, count, total, *counts in conn.execute(query)
    ]


def snapshot(
    conn: Connection, *, now: datetime, lease_seconds: float, window: timedelta
) -> StoreStats:
    """Every figure /metrics reports from the store, read in the caller's transaction."""
    return StoreStats(
        runs=runs_by_status(conn),
        active_tasks=active_task_runs_by_status(conn),
        waiting_for_engine=leases.active_unowned(conn, now=now),
        scheduler=scheduler_backlog(conn, now=now),
        engine_leases=engine_leases(conn, now=now),
        engines_alive=engines_alive(conn, now=now, lease_seconds=lease_seconds),
        durations=task_durations(conn, since=now - window),
    )
