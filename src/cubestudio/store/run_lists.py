"""The runs list of a project: filters and keyset pagination (newest first), for the API.
A page ends where the next begins: (created_at, id) of its last row, so runs created while
a client pages through never shift or repeat rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, and_, or_, select

from cubestudio.store.tables import runs

LIST_COLUMNS = (
    runs.c.id,
    runs.c.pipeline_name,
    runs.c.pipeline_version,
    runs.c.status,
    runs.c.trigger,
    runs.c.execution_date,
    runs.c.runner,
    runs.c.created_at,
    runs.c.started_at,
    runs.c.finished_at,
    runs.c.message,
)


def list_project_runs(
    conn: Connection,
    *,
    project_id: int,
    limit: int,
    pipeline: str | None = None,
    statuses: list[str] | None = None,
    trigger: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, str] | None = None,
) -> list[RowMapping]:
    """Newest first. Debug runs only when ``trigger`` asks for them (they are kept apart from
    a pipeline's history, as in `cube runs`). ``after``: the (created_at, id) a page ended
    at."""
    query = select(*LIST_COLUMNS).where(runs.c.project_id == project_id)
    if pipeline is not None:
        query = query.where(runs.c.pipeline_name == pipeline)
    if statuses:
        query = query.where(runs.c.status.in_(statuses))
    query = query.where(runs.c.trigger == trigger if trigger else runs.c.trigger != "debug")
    if since is not None:
        query = query.where(runs.c.created_at >= since)
    if until is not None:
        query = query.where(runs.c.created_at < until)
    if after is not None:
        at, run_id = after
        query = query.where(
            or_(runs.c.created_at < at, and_(runs.c.created_at == at, runs.c.id < run_id))
        )
    query = query.order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
    return list(conn.execute(query).mappings())
