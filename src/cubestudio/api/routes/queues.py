"""Queues (F13): each project's capability and weight, and what it uses of the pool.

Everyone sees the queues of their projects (a platform admin every queue); only a platform
admin changes one: a team does not raise its own quota."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cubestudio.api.deps import AdminDep, DbDep, UserDep, now
from cubestudio.engine.admission import machine_pool
from cubestudio.engine.queue_admin import queue_report, set_queue
from cubestudio.store import accounts

router = APIRouter(tags=["queues"])
Limit = Annotated[str | int | float | None, Field(description="e.g. 16, 500m, 64Gi, 4; 'none'")]


class Usage(BaseModel):
    cpu: float
    memory: int
    gpu: int


class QueueOut(BaseModel):
    name: str
    cpu: float | None
    memory: int | None
    gpu: int | None
    weight: float
    used: Usage
    running: int
    waiting: int


class QueueReport(BaseModel):
    pool: Usage
    free: Usage
    queues: list[QueueOut]


class QueueChange(BaseModel):
    """The fields given change; 'none' (or null) removes a limit."""

    cpu: Limit = None
    memory: Limit = None
    gpu: Limit = None
    weight: Annotated[float | None, Field(gt=0)] = None


class QueueSettings(BaseModel):
    name: str
    cpu: float | None
    memory: int | None
    gpu: int | None
    weight: float


@router.get("/queues", response_model=QueueReport)
def list_queues(user: UserDep, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        names = None
        if not user.is_admin:
            names = [p["name"] for p in accounts.list_projects(conn, user_id=user.id)]
        return queue_report(conn, machine_pool(), names=names)


@router.put("/projects/{project}/queue", response_model=QueueSettings)
def change_queue(project: str, body: QueueChange, _admin: AdminDep, db: DbDep) -> dict[str, Any]:
    changes = {
        name: "none" if getattr(body, name) is None else getattr(body, name)
        for name in body.model_fields_set
    }
    with db.begin() as conn:
        return set_queue(conn, name=project, changes=changes, now=now())
