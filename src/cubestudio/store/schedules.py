"""Keyword-only functions over schedules and schedule records.

Each takes a connection inside a transaction the caller owns. Statuses are plain strings
given by the caller (the scheduler owns their meaning). A record is unique per (pipeline,
execution_date): inserting one that exists does nothing, on every backend, so planning the
same tick twice (a restart, a second replica) can never double it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

from cubestudio.store.tables import (
    DEFAULT_PROJECT_ID,
    attempts,
    pipelines,
    runs,
    schedule_records,
    schedules,
)

_RECORD_COLUMNS = (
    schedule_records.c.id,
    schedule_records.c.pipeline_id,
    schedule_records.c.execution_date,
    schedule_records.c.status,
    schedule_records.c.trigger,
    schedule_records.c.run_id,
    schedule_records.c.message,
    schedule_records.c.launched_at,
    schedule_records.c.launches,
    runs.c.status.label("run_status"),
)


# -- schedules ----------------------------------------------------------------------------------
def get_schedule(conn: Connection, *, pipeline_id: int) -> RowMapping | None:
    """The schedule with its pipeline's project (its runs belong there)."""
    query = (
        select(schedules, pipelines.c.project_id)
        .join(pipelines, pipelines.c.id == schedules.c.pipeline_id)
        .where(schedules.c.pipeline_id == pipeline_id)
    )
    return conn.execute(query).mappings().first()


def find_pipeline(
    conn: Connection, *, name: str, project_id: int = DEFAULT_PROJECT_ID
) -> int | None:
    query = select(pipelines.c.id).where(
        pipelines.c.project_id == project_id, pipelines.c.name == name
    )
    return conn.execute(query).scalar()


def insert_schedule(conn: Connection, *, values: dict[str, Any]) -> None:
    conn.execute(insert(schedules).values(**values))


def update_schedule(conn: Connection, *, pipeline_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(schedules).where(schedules.c.pipeline_id == pipeline_id).values(**values))


def list_schedules(conn: Connection) -> list[RowMapping]:
    query = (
        select(schedules, pipelines.c.name, pipelines.c.project_id)
        .join(pipelines, pipelines.c.id == schedules.c.pipeline_id)
        .order_by(pipelines.c.name)
    )
    return list(conn.execute(query).mappings())


def active_schedule_ids(conn: Connection) -> list[int]:
    query = select(schedules.c.pipeline_id).where(schedules.c.paused.is_(False))
    return list(conn.execute(query.order_by(schedules.c.pipeline_id)).scalars())


def lock_pipeline(conn: Connection, *, pipeline_id: int, wait: bool) -> bool:
    """Take the pipeline's row lock for this transaction: planning and launching for one
    pipeline happen under it, so replicas never both decide for it. ``wait=False`` skips a
    pipeline another replica holds (False). SQLite has no row locks: its writers are
    serialised by BEGIN IMMEDIATE already."""
    query = (
        select(pipelines.c.id)
        .where(pipelines.c.id == pipeline_id)
        .with_for_update(skip_locked=not wait)
    )
    return conn.execute(query).first() is not None


# -- records ------------------------------------------------------------------------------------
def insert_records(conn: Connection, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert records; one whose (pipeline, execution_date) exists is left as it is."""
    if rows:
        conn.execute(_insert_ignoring_duplicates(conn), list(rows))


def _insert_ignoring_duplicates(conn: Connection) -> Any:
    backend = conn.dialect.name
    if backend == "postgresql":
        return postgresql.insert(schedule_records).on_conflict_do_nothing(
            constraint="uq_schedule_records_tick"
        )
    if backend == "mysql":
        statement = mysql.insert(schedule_records)
        return statement.on_duplicate_key_update(id=schedule_records.c.id)
    return sqlite.insert(schedule_records).on_conflict_do_nothing()


def nth_newest(
    conn: Connection, *, pipeline_id: int, trigger: str, status: str, n: int
) -> datetime | None:
    """The execution date of the n-th newest record of this trigger and status (1-based)."""
    query = (
        select(schedule_records.c.execution_date)
        .where(_matching(pipeline_id, trigger, status))
        .order_by(schedule_records.c.execution_date.desc())
        .offset(n - 1)
        .limit(1)
    )
    return conn.execute(query).scalar()


def move_older(
    conn: Connection,
    *,
    pipeline_id: int,
    trigger: str,
    status: str,
    before: datetime,
    to_status: str,
    message: str,
    now: datetime,
) -> int:
    """Move every record of this trigger and status older than ``before``; returns how many."""
    result = conn.execute(
        update(schedule_records)
        .where(_matching(pipeline_id, trigger, status), schedule_records.c.execution_date < before)
        .values(status=to_status, message=message, updated_at=now)
    )
    return int(result.rowcount)


def oldest_records(
    conn: Connection, *, pipeline_id: int, trigger: str, status: str, limit: int
) -> list[RowMapping]:
    """The oldest records of this trigger and status."""
    query = (
        _records()
        .where(_matching(pipeline_id, trigger, status))
        .order_by(schedule_records.c.execution_date)
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def records_with_runs(
    conn: Connection, *, pipeline_id: int, run_statuses: Collection[str], limit: int | None = None
) -> list[RowMapping]:
    """Records whose run is in one of ``run_statuses`` (e.g. the active ones), oldest first."""
    query = _records().where(
        schedule_records.c.pipeline_id == pipeline_id,
        runs.c.status.in_(list(run_statuses)),
    )
    query = query.order_by(schedule_records.c.execution_date).limit(limit)
    return list(conn.execute(query).mappings())


def count_runs(
    conn: Connection, *, pipeline_id: int, run_statuses: Collection[str], trigger: str | None = None
) -> int:
    """How many of the pipeline's records have a run in one of ``run_statuses``."""
    query = (
        select(func.count())
        .select_from(schedule_records.join(runs, runs.c.id == schedule_records.c.run_id))
        .where(schedule_records.c.pipeline_id == pipeline_id, runs.c.status.in_(list(run_statuses)))
    )
    if trigger is not None:
        query = query.where(schedule_records.c.trigger == trigger)
    return int(conn.execute(query).scalar_one())


def previous_record(
    conn: Connection, *, pipeline_id: int, before: datetime, statuses: Collection[str]
) -> RowMapping | None:
    """The latest record before ``before`` in one of ``statuses``, with its run's status."""
    query = (
        _records()
        .where(
            schedule_records.c.pipeline_id == pipeline_id,
            schedule_records.c.execution_date < before,
            schedule_records.c.status.in_(list(statuses)),
        )
        .order_by(schedule_records.c.execution_date.desc())
        .limit(1)
    )
    return conn.execute(query).mappings().first()


def attach_run(
    conn: Connection, *, record_id: int, run_id: str, expect: str, status: str, now: datetime
) -> bool:
    """Give the record its run and new status, if it still has status ``expect``; the run is
    being launched from ``now``. False when the record had moved on."""
    result = conn.execute(
        update(schedule_records)
        .where(schedule_records.c.id == record_id, schedule_records.c.status == expect)
        .values(
            status=status, run_id=run_id, message=None, launched_at=now, launches=1, updated_at=now
        )
    )
    return result.rowcount == 1


def mark_launched(conn: Connection, *, record_id: int, now: datetime, message: str) -> None:
    """Its run is being launched once more."""
    conn.execute(
        update(schedule_records)
        .where(schedule_records.c.id == record_id)
        .values(
            launched_at=now,
            launches=schedule_records.c.launches + 1,
            message=message,
            updated_at=now,
        )
    )


def set_message(conn: Connection, *, record_id: int, message: str | None, now: datetime) -> None:
    conn.execute(
        update(schedule_records)
        .where(schedule_records.c.id == record_id)
        .values(message=message, updated_at=now)
    )


def list_records(
    conn: Connection,
    *,
    pipeline_id: int,
    status: str | None = None,
    lo: datetime | None = None,
    hi: datetime | None = None,
    limit: int | None = None,
    oldest_first: bool = False,
) -> list[RowMapping]:
    """Newest first unless ``oldest_first``; ``lo <= execution_date <= hi`` when given."""
    query = _records().where(schedule_records.c.pipeline_id == pipeline_id)
    if status is not None:
        query = query.where(schedule_records.c.status == status)
    if lo is not None:
        query = query.where(schedule_records.c.execution_date >= lo)
    if hi is not None:
        query = query.where(schedule_records.c.execution_date <= hi)
    order = schedule_records.c.execution_date
    query = query.order_by(order if oldest_first else order.desc()).limit(limit)
    return list(conn.execute(query).mappings())


def count_records(
    conn: Connection,
    *,
    pipeline_id: int,
    lo: datetime,
    hi: datetime,
    trigger: str | None = None,
    statuses: Collection[str] | None = None,
) -> int:
    """Records with ``lo <= execution_date <= hi``."""
    query = (
        select(func.count())
        .select_from(schedule_records)
        .where(
            schedule_records.c.pipeline_id == pipeline_id,
            schedule_records.c.execution_date >= lo,
            schedule_records.c.execution_date <= hi,
        )
    )
    if trigger is not None:
        query = query.where(schedule_records.c.trigger == trigger)
    if statuses is not None:
        query = query.where(schedule_records.c.status.in_(list(statuses)))
    return int(conn.execute(query).scalar_one())


def record_dates(
    conn: Connection, *, pipeline_id: int, lo: datetime, hi: datetime
) -> set[datetime]:
    """The execution dates ``lo <= d <= hi`` that have a record (of any trigger or status)."""
    query = select(schedule_records.c.execution_date).where(
        schedule_records.c.pipeline_id == pipeline_id,
        schedule_records.c.execution_date >= lo,
        schedule_records.c.execution_date <= hi,
    )
    return set(conn.execute(query).scalars())


def delete_records(conn: Connection, *, pipeline_id: int, status: str) -> int:
    """Delete the pipeline's records of this status (those without a run: comed, skipped,
    expired); returns how many."""
    result = conn.execute(
        delete(schedule_records).where(
            schedule_records.c.pipeline_id == pipeline_id,
            schedule_records.c.status == status,
            schedule_records.c.run_id.is_(None),
        )
    )
    return int(result.rowcount)


def unstarted_runs(
    conn: Connection, *, pipeline_id: int, triggers: Collection[str], status: str
) -> list[RowMapping]:
    """The pipeline's runs of these triggers in ``status`` that never had an attempt, with the
    process recorded as driving them, oldest first; their rows stay locked until the
    transaction ends, so an engine cannot claim one meanwhile (SQLite: BEGIN IMMEDIATE)."""
    query = (
        select(runs.c.id, runs.c.engine_pid, runs.c.engine_host, runs.c.engine_start)
        .where(
            runs.c.pipeline_id == pipeline_id,
            runs.c.status == status,
            runs.c.trigger.in_(list(triggers)),
            ~exists().where(attempts.c.run_id == runs.c.id),
        )
        .order_by(runs.c.execution_date)
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return list(conn.execute(query).mappings())


def _records() -> Select[Any]:
    return select(*_RECORD_COLUMNS).outerjoin(runs, runs.c.id == schedule_records.c.run_id)


def _matching(pipeline_id: int, trigger: str, status: str) -> Any:
    return (
        (schedule_records.c.pipeline_id == pipeline_id)
        & (schedule_records.c.status == status)
        & (schedule_records.c.trigger == trigger)
    )
