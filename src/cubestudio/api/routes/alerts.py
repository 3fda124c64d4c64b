"""The webhook deliveries of a run (``alerts:`` in its pipeline): what was sent where, and
how it went. Receivers' query values (often tokens) are hidden."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cubestudio.api.deps import DbDep, ProjectDep, run_of
from cubestudio.spec.alerts import mask_url
from cubestudio.store import alerts as store

router = APIRouter(tags=["alerts"])


class AlertDeliveryOut(BaseModel):
    id: int
    event: Literal["failure", "success", "timeout", "retry"]
    task: str | None  # None: an alert on the run itself
    url: str
    status: Literal["pending", "delivered", "failed"]
    tries: int
    last_error: str | None
    created_at: datetime
    next_try_at: datetime | None  # a pending delivery's next try
    delivered_at: datetime | None


@router.get("/projects/{project}/runs/{run_id}/alerts", response_model=list[AlertDeliveryOut])
def list_run_alerts(
    run_id: str,
    project: ProjectDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AlertDeliveryOut]:
    """The run's webhook deliveries, oldest first (any member of the project may see them)."""
    run = run_of(db, project, run_id)
    with db.begin() as conn:
        rows = store.of_run(conn, run_id=run["id"], limit=limit)
    return [
        AlertDeliveryOut(
            id=row["id"],
            event=row["event"],
            task=row["task_name"],
            url=mask_url(row["url"]),
            status=row["status"],
            tries=row["tries"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            next_try_at=row["next_try_at"] if row["status"] == "pending" else None,
            delivered_at=row["delivered_at"],
        )
        for row in rows
    ]
