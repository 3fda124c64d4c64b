"""A distributed task's workers (F12): each member of an attempt's gang with its role, rank,
ports, GPUs and state, for the run view; their logs are the logs route with ?worker=."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from cubestudio.api.deps import DbDep, ProjectDep, run_of
from cubestudio.api.routes.logs import attempt_of, task_row
from cubestudio.drivers.gang_status import gang_status
from cubestudio.errors import NotFoundError

router = APIRouter(tags=["runs"])


class WorkerUsage(BaseModel):
    """The member's own process tree: latest figures and peaks (sampled by its supervisor)."""

    at: float  # unix time of the latest sample
    cpu: float  # percent of one core
    rss: int  # bytes
    gpu_util: float | None
    gpu_mem: int | None
    samples: int
    cpu_avg: float
    cpu_max: float
    rss_max: int
    gpu_util_max: float | None
    gpu_mem_max: int | None


class WorkerSeries(BaseModel):
    """Its downsampled points as columns (as a run's metrics give an attempt's)."""

    at: list[float]
    cpu: list[float]
    rss: list[int]
    gpu_util: list[float | None]
    gpu_mem: list[int | None]


class Worker(BaseModel):
    name: str
    role: str
    rank: int
    host: str
    ports: dict[str, int]
    gpus: str | None  # CUDA_VISIBLE_DEVICES
    service: bool  # runs until stopped (TensorFlow ps, Ray workers)
    state: str  # starting, running, succeeded, failed, stopped, not_started, booked
    exit_code: int | None
    usage: WorkerUsage | None  # None: not sampled (ended within a second, or sampling off)
    series: WorkerSeries | None = None  # with ?series=true


class Workers(BaseModel):
    attempt: int
    kind: str
    on_failure: str
    max_restarts: int
    failure: str | None  # which member failed first, as a sentence
    workers: list[Worker]


@router.get("/projects/{project}/runs/{run_id}/tasks/{task}/workers", response_model=Workers)
def task_workers(
    request: Request,
    project: ProjectDep,
    db: DbDep,
    run_id: str,
    task: str,
    attempt: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    series: Annotated[bool, Query(description="each member's downsampled points too")] = False,
) -> dict[str, Any]:
    """The members of the attempt's gang (the latest attempt unless ``attempt``)."""
    run = run_of(db, project, run_id)
    chosen = attempt_of(db, request, run, task_row(db, run["id"], task), attempt, follow=False)
    status = gang_status(chosen.folder, finished=chosen.finished, series=series)
    if status is None:
        raise NotFoundError(
            f"task '{task}' is not a distributed task (or attempt {chosen.number} never "
            "started): it has no workers"
        )
    return {"attempt": chosen.number, **status}
