"""Keyword-only functions over pipelines, runs, task runs and attempts.

Each takes a connection inside a transaction the caller owns. The engine writes through
``save_changes``: one executemany per table per turn, so a turn is one commit however many
tasks moved in it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, insert, select, update

from cubestudio.errors import NotFoundError
from cubestudio.spec.model import PipelineSpec
from cubestudio.store import alerts as alert_store
from cubestudio.store import events as event_store
from cubestudio.store import metrics as metrics_store
from cubestudio.store.tables import (
    DEFAULT_PROJECT_ID,
    artifacts,
    attempts,
    pipelines,
    run_leases,
    runs,
    schedule_records,
    task_runs,
)

TASK_FIELDS = (
    "status",
    "attempts",
    "retry_base",
    "exit_code",
    "started_at",
    "finished_at",
    "next_try_at",
    "message",
    "outputs",
)
ATTEMPT_FIELDS = (
    "status",
    "exit_code",
    "finished_at",
    "deadline",
    "kill_reason",
    "kill_at",
    "message",
    "outputs",
)
RUN_FIELDS = ("status", "started_at", "finished_at", "deadline", "message", "stop_requested")


def upsert_pipeline(
    conn: Connection,
    *,
    name: str,
    spec_json: str,
    creator: str,
    now: datetime,
    project_id: int = DEFAULT_PROJECT_ID,
) -> tuple[int, str]:
    """Record the pipeline's latest definition; returns (id, creator of the first version)."""
    row = conn.execute(
        select(pipelines.c.id, pipelines.c.creator).where(
            pipelines.c.project_id == project_id, pipelines.c.name == name
        )
    ).first()
    if row is None:
        result = conn.execute(
            insert(pipelines).values(
                project_id=project_id,
                name=name,
                creator=creator,
                spec=spec_json,
                created_at=now,
                updated_at=now,
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0]), creator
    conn.execute(
        update(pipelines).where(pipelines.c.id == row.id).values(spec=spec_json, updated_at=now)
    )
    return int(row.id), str(row.creator)


def record_pipeline(
    conn: Connection,
    *,
    spec: PipelineSpec,
    creator: str,
    now: datetime,
    project_id: int = DEFAULT_PROJECT_ID,
) -> tuple[int, str]:
    """Record a pipeline's latest definition from its spec; returns (id, first creator)."""
    spec_json = json.dumps(spec.to_data(), sort_keys=True)
    return upsert_pipeline(
        conn, name=spec.name, spec_json=spec_json, creator=creator, now=now, project_id=project_id
    )


def insert_run(conn: Connection, *, run: dict[str, Any], tasks: Sequence[dict[str, Any]]) -> None:
    conn.execute(insert(runs).values(**run))
    if tasks:
        conn.execute(insert(task_runs), list(tasks))
    event_store.record(
        conn,
        rows=event_store.change_rows(run_id=run["id"], now=run["created_at"], run=run),
    )


def get_run(conn: Connection, *, run_id: str) -> RowMapping:
    """The run with this id, or the one run whose id starts with it."""
    row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
    if row is not None:
        return row
    matches = (
        conn.execute(select(runs).where(runs.c.id.startswith(run_id, autoescape=True)).limit(2))
        .mappings()
        .all()
    )
    if len(run_id) >= 4 and len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFoundError(f"run id '{run_id}' is ambiguous: give more of it (see `cube runs`)")
    raise NotFoundError(f"no run '{run_id}' (see `cube runs` for the run ids)")


def list_runs(
    conn: Connection, *, limit: int, pipeline: str | None = None, include_debug: bool = True
) -> list[RowMapping]:
    """Newest first. Debug runs (`cube debug`) are kept apart from a pipeline's history."""
    query = select(
        runs.c.id,
        runs.c.pipeline_name,
        runs.c.status,
        runs.c.trigger,
        runs.c.created_at,
        runs.c.started_at,
        runs.c.finished_at,
    )
    if pipeline:
        query = query.where(runs.c.pipeline_name == pipeline)
    if not include_debug:
        query = query.where(runs.c.trigger != "debug")
    query = query.order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
    return list(conn.execute(query).mappings().all())


@dataclass
class ManyRuns:
    """Rows of several runs, by run id; tasks by position, attempts by task then number."""

    runs: dict[str, RowMapping] = field(default_factory=dict)
    tasks: dict[str, list[RowMapping]] = field(default_factory=dict)
    attempts: dict[str, list[RowMapping]] = field(default_factory=dict)
    artifacts: dict[str, list[RowMapping]] = field(default_factory=dict)


def load_runs_many(conn: Connection, *, run_ids: Sequence[str]) -> ManyRuns:
    """What loading a controller reads, for many runs at once: one query per table."""
    out = ManyRuns()
    if not run_ids:
        return out
    ids = list(run_ids)
    for row in conn.execute(select(runs).where(runs.c.id.in_(ids))).mappings():
        out.runs[row["id"]] = row
    queries = (
        (out.tasks, task_runs, (task_runs.c.run_id, task_runs.c.position)),
        (out.attempts, attempts, (attempts.c.run_id, attempts.c.task_name, attempts.c.number)),
        (
            out.artifacts,
            artifacts,
            (artifacts.c.run_id, artifacts.c.task_name, artifacts.c.attempt, artifacts.c.name),
        ),
    )
    for target, table, order in queries:
        query = select(table).where(table.c.run_id.in_(ids)).order_by(*order)
        for row in conn.execute(query).mappings():
            target.setdefault(row["run_id"], []).append(row)
    return out


def load_task_runs(conn: Connection, *, run_id: str) -> list[RowMapping]:
    query = select(task_runs).where(task_runs.c.run_id == run_id).order_by(task_runs.c.position)
    return list(conn.execute(query).mappings().all())


def load_attempts(
    conn: Connection, *, run_id: str, task_name: str | None = None
) -> list[RowMapping]:
    query = select(attempts).where(attempts.c.run_id == run_id)
    if task_name is not None:
        query = query.where(attempts.c.task_name == task_name)
    return list(conn.execute(query.order_by(attempts.c.task_name, attempts.c.number)).mappings())


# Built once: SQLAlchemy then reuses their compiled form on every engine turn.
_UPDATE_TASKS = (
    update(task_runs)
    .where(task_runs.c.run_id == bindparam("b_run"), task_runs.c.name == bindparam("b_name"))
    .values({f: bindparam(f) for f in TASK_FIELDS})
)
_INSERT_ATTEMPTS = insert(attempts)
_UPDATE_ATTEMPTS = (
    update(attempts)
    .where(
        attempts.c.run_id == bindparam("b_run"),
        attempts.c.task_name == bindparam("b_task"),
        attempts.c.number == bindparam("b_number"),
    )
    .values({f: bindparam(f) for f in ATTEMPT_FIELDS})
)


def save_changes(
    conn: Connection,
    *,
    run_id: str,
    run: dict[str, Any] | None = None,
    tasks: Iterable[dict[str, Any]] = (),
    new_attempts: Iterable[dict[str, Any]] = (),
    attempts_changed: Iterable[dict[str, Any]] = (),
    new_artifacts: Iterable[dict[str, Any]] = (),
    now: datetime | None = None,
) -> None:
    """Persist one engine turn. Task and attempt dicts carry every field of their table, so
    each table takes one executemany. Every change is also an event (store.events), written
    at ``now`` (else the wall clock)."""
    now = now or datetime.now(UTC)
    tasks, attempts_changed = list(tasks), list(attempts_changed)
    if run:
        conn.execute(update(runs).where(runs.c.id == run_id).values(**run))
    task_rows = [
        {"b_run": run_id, "b_name": t["name"], **{f: t[f] for f in TASK_FIELDS}} for t in tasks
    ]
    if task_rows:
        conn.execute(_UPDATE_TASKS, task_rows)
    artifact_rows = list(new_artifacts)
    if artifact_rows:
        conn.execute(insert(artifacts), artifact_rows)
    inserts = list(new_attempts)
    if inserts:
        conn.execute(_INSERT_ATTEMPTS, inserts)
    attempt_rows = [
        {
            "b_run": run_id,
            "b_task": a["task_name"],
            "b_number": a["number"],
            **{f: a[f] for f in ATTEMPT_FIELDS},
        }
        for a in attempts_changed
    ]
    if attempt_rows:
        conn.execute(_UPDATE_ATTEMPTS, attempt_rows)
    event_store.record(
        conn,
        rows=event_store.change_rows(
            run_id=run_id, now=now, run=run, tasks=tasks, attempts=[*inserts, *attempts_changed]
        ),
    )


def set_engine(
    conn: Connection, *, run_id: str, pid: int | None, host: str | None, start: str | None
) -> None:
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(engine_pid=pid, engine_host=host, engine_start=start)
    )


def engine_of(conn: Connection, *, run_id: str) -> RowMapping | None:
    """The process recorded as driving the run, its row locked until the transaction ends
    (SQLite: the whole database, taken by BEGIN IMMEDIATE)."""
    query = select(runs.c.engine_pid, runs.c.engine_host, runs.c.engine_start).where(
        runs.c.id == run_id
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def request_stop(conn: Connection, *, run_id: str) -> None:
    conn.execute(update(runs).where(runs.c.id == run_id).values(stop_requested=True))


def stop_requested(conn: Connection, *, run_id: str) -> bool:
    value = conn.execute(select(runs.c.stop_requested).where(runs.c.id == run_id)).scalar()
    return bool(value)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def load_artifacts(
    conn: Connection, *, run_id: str, task_name: str | None = None
) -> list[RowMapping]:
    query = select(artifacts).where(artifacts.c.run_id == run_id)
    if task_name is not None:
        query = query.where(artifacts.c.task_name == task_name)
    order = (artifacts.c.task_name, artifacts.c.attempt, artifacts.c.name)
    return list(conn.execute(query.order_by(*order)).mappings())


def delete_run(conn: Connection, *, run_id: str, statuses: Collection[str]) -> str | None:
    """The run's status, read under its row lock (None: no such run); when it is one of
    ``statuses`` the run is deleted with every row stored with it (task runs, attempts,
    artifact rows, its schedule record). Files (logs, artifacts) are the caller's, to delete
    after the commit."""
    query = select(runs.c.status).where(runs.c.id == run_id)
    if conn.dialect.name != "sqlite":  # SQLite: BEGIN IMMEDIATE holds the whole database
        query = query.with_for_update()
    status = conn.execute(query).scalar()
    if status is not None and status in statuses:
        for table in (artifacts, attempts, task_runs, schedule_records, run_leases):
            conn.execute(delete(table).where(table.c.run_id == run_id))
        event_store.delete_of_run(conn, run_id=run_id)
        alert_store.delete_of_run(conn, run_id=run_id)
        metrics_store.delete_of_run(conn, run_id=run_id)
        conn.execute(delete(runs).where(runs.c.id == run_id))
    return None if status is None else str(status)
