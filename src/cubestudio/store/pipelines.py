"""Keyword-only functions over saved pipelines and their versions (the server).

Every save is a new immutable row of ``pipeline_versions`` (1, 2, ...) and moves the
pipeline's ``spec`` and ``latest_version`` to it; runs pin the version they were triggered
from. A pipeline first seen by the CLI (a run from a file) has ``latest_version`` 0 until it
is saved. Deleting hides the pipeline (``deleted_at``) and keeps its versions and runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from cubestudio.errors import StateError
from cubestudio.store.tables import pipeline_versions, pipelines, runs, schedules


def get_pipeline(
    conn: Connection, *, project_id: int, name: str, include_deleted: bool = False
) -> RowMapping | None:
    query = select(pipelines).where(pipelines.c.project_id == project_id, pipelines.c.name == name)
    if not include_deleted:
        query = query.where(pipelines.c.deleted_at.is_(None))
    return conn.execute(query).mappings().first()


def list_pipelines(
    conn: Connection, *, project_id: int, search: str | None = None, limit: int = 500
) -> list[RowMapping]:
    """Live pipelines of the project by name, each with its newest run's status and time
    and its schedule's state (one query per list, not per pipeline)."""
    newest = (
        select(runs.c.pipeline_id, func.max(runs.c.created_at).label("last_run_at"))
        .where(runs.c.project_id == project_id, runs.c.trigger != "debug")
        .group_by(runs.c.pipeline_id)
        .subquery()
    )
    last = (
        select(runs.c.pipeline_id, runs.c.status, runs.c.id, runs.c.created_at)
        .join(
            newest,
            (newest.c.pipeline_id == runs.c.pipeline_id)
            & (newest.c.last_run_at == runs.c.created_at),
        )
        .subquery()
    )
    query = (
        select(
            pipelines,
            last.c.status.label("last_run_status"),
            last.c.id.label("last_run_id"),
            last.c.created_at.label("last_run_at"),
            schedules.c.paused.label("schedule_paused"),
        )
        .outerjoin(last, last.c.pipeline_id == pipelines.c.id)
        .outerjoin(schedules, schedules.c.pipeline_id == pipelines.c.id)
        .where(pipelines.c.project_id == project_id, pipelines.c.deleted_at.is_(None))
        .order_by(pipelines.c.name)
        .limit(limit)
    )
    if search:
        query = query.where(pipelines.c.name.contains(search, autoescape=True))
    rows: dict[int, RowMapping] = {}
    for row in conn.execute(query).mappings():
        rows.setdefault(row["id"], row)  # two runs created at the same instant: keep one
    return list(rows.values())


def save_version(
    conn: Connection,
    *,
    project_id: int,
    name: str,
    spec_json: str,
    layout_json: str | None,
    author: str,
    message: str | None,
    now: datetime,
    create: bool,
) -> tuple[int, int]:
    """Save a new version; returns (pipeline id, version). ``create``: the pipeline must not
    exist yet (else it must). A deleted pipeline's name can be taken again: it comes back
    with its history, as a new version."""
    row = get_pipeline(conn, project_id=project_id, name=name, include_deleted=True)
    if create and row is not None and row["deleted_at"] is None:
        raise StateError(f"pipeline {name} exists already: save a new version of it instead")
    if not create and (row is None or row["deleted_at"] is not None):
        raise StateError(f"pipeline {name} does not exist: create it first")
    if row is None:
        result = conn.execute(
            insert(pipelines).values(
                project_id=project_id,
                name=name,
                creator=author,
                spec=spec_json,
                created_at=now,
                updated_at=now,
                latest_version=0,
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        pipeline_id, version = int(pk[0]), 1
    else:
        pipeline_id, version = int(row["id"]), int(row["latest_version"]) + 1
    # Conditional on the version read: of two saves at once, the second fails (409) rather
    # than overwriting the first.
    moved = conn.execute(
        update(pipelines)
        .where(pipelines.c.id == pipeline_id, pipelines.c.latest_version == version - 1)
        .values(spec=spec_json, latest_version=version, updated_at=now, deleted_at=None)
    )
    if moved.rowcount != 1:
        raise StateError(f"pipeline {name} was saved by someone else meanwhile: reload it")
    conn.execute(
        insert(pipeline_versions).values(
            pipeline_id=pipeline_id,
            version=version,
            spec=spec_json,
            layout=layout_json,
            author=author,
            message=message,
            created_at=now,
        )
    )
    return pipeline_id, version


def get_version(conn: Connection, *, pipeline_id: int, version: int) -> RowMapping | None:
    query = select(pipeline_versions).where(
        pipeline_versions.c.pipeline_id == pipeline_id, pipeline_versions.c.version == version
    )
    return conn.execute(query).mappings().first()


def list_versions(conn: Connection, *, pipeline_id: int) -> list[RowMapping]:
    query = (
        select(
            pipeline_versions.c.version,
            pipeline_versions.c.author,
            pipeline_versions.c.message,
            pipeline_versions.c.created_at,
        )
        .where(pipeline_versions.c.pipeline_id == pipeline_id)
        .order_by(pipeline_versions.c.version.desc())
    )
    return list(conn.execute(query).mappings())


def delete_pipeline(conn: Connection, *, pipeline_id: int, now: datetime) -> None:
    """Hide the pipeline and pause its schedule; its versions and runs stay, read-only."""
    conn.execute(update(pipelines).where(pipelines.c.id == pipeline_id).values(deleted_at=now))
    conn.execute(
        update(schedules)
        .where(schedules.c.pipeline_id == pipeline_id)
        .values(paused=True, updated_at=now)
    )
