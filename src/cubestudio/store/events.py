"""Keyword-only functions over the event log: every state change of a run, a task or an
attempt, written in the transaction that made it (``runs.save_changes``, ``runs.insert_run``),
read by id for the server's live stream.

Ids grow with every insert. On SQLite one writer at a time commits them in order; on
PostgreSQL and MariaDB a transaction that took a lower id can commit after one that took a
higher id, so a reader that has seen id N may later find an id below N: ``since`` readers
keep looking back over a short window (see api.events) rather than trusting ids alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select

from cubestudio.store.tables import events, runs

# The fields of each kind that a live view shows; the rest of a row stays in its table.
TASK_FIELDS = ("name", "status", "attempts", "exit_code", "started_at", "finished_at", "message")
ATTEMPT_FIELDS = ("task_name", "number", "status", "exit_code", "started_at", "finished_at")
RUN_FIELDS = ("status", "started_at", "finished_at", "message", "stop_requested")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _payload(row: dict[str, Any], fields: Sequence[str]) -> str:
    return json.dumps({f: _plain(row[f]) for f in fields if f in row}, sort_keys=True)


def change_rows(
    *,
    run_id: str,
    now: datetime,
    run: dict[str, Any] | None = None,
    tasks: Iterable[dict[str, Any]] = (),
    attempts: Iterable[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The event rows of one write: the run's changed fields, each task's and attempt's
    state as it is now."""
    rows = []
    if run and any(f in run for f in RUN_FIELDS):
        rows.append(_row(run_id, "run", _payload(run, RUN_FIELDS), now))
    rows += [_row(run_id, "task", _payload(t, TASK_FIELDS), now) for t in tasks]
    rows += [_row(run_id, "attempt", _payload(a, ATTEMPT_FIELDS), now) for a in attempts]
    return rows


def _row(run_id: str, kind: str, payload: str, now: datetime) -> dict[str, Any]:
    return {"run_id": run_id, "kind": kind, "payload": payload, "created_at": now}


def record(conn: Connection, *, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(events), rows)


def since(
    conn: Connection,
    *,
    after_id: int,
    project_id: int | None = None,
    run_id: str | None = None,
    limit: int = 500,
) -> list[RowMapping]:
    """Events with an id above ``after_id``, oldest first, with their run's project and
    pipeline; only those of one project (or run) when given."""
    query = (
        select(events, runs.c.project_id, runs.c.pipeline_name)
        .join(runs, runs.c.id == events.c.run_id)
        .where(events.c.id > after_id)
        .order_by(events.c.id)
        .limit(limit)
    )
    if project_id is not None:
        query = query.where(runs.c.project_id == project_id)
    if run_id is not None:
        query = query.where(events.c.run_id == run_id)
    return list(conn.execute(query).mappings())


def by_ids(conn: Connection, *, ids: Sequence[int]) -> list[RowMapping]:
    """The events among ``ids`` that exist now (a reader checking ids it saw missing)."""
    if not ids:
        return []
    query = (
        select(events, runs.c.project_id, runs.c.pipeline_name)
        .join(runs, runs.c.id == events.c.run_id)
        .where(events.c.id.in_(list(ids)))
        .order_by(events.c.id)
    )
    return list(conn.execute(query).mappings())


def last_id(conn: Connection) -> int:
    """The newest event's id (0 when there is none): where a new live stream starts."""
    query = select(events.c.id).order_by(events.c.id.desc()).limit(1)
    return int(conn.execute(query).scalar() or 0)


def delete_of_run(conn: Connection, *, run_id: str) -> None:
    conn.execute(delete(events).where(events.c.run_id == run_id))
