"""Resource monitoring over the API: a run's metrics (per task and attempt: the latest
sample, the peaks and the downsampled series) and right-sizing of a pipeline's requests
(a preview with its evidence, and applying it as a new version)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cubestudio.api.deps import DbDep, DeveloperDep, ProjectDep, now, run_in, short_read
from cubestudio.api.errors import ApiError, not_found
from cubestudio.errors import NotFoundError, StateError
from cubestudio.monitor import report
from cubestudio.monitor.rightsize import POLICIES

router = APIRouter(tags=["monitoring"])


class Peak(BaseModel):
    cpu_percent: float
    rss_bytes: int
    gpu_util_percent: float | None
    gpu_mem_bytes: int | None


class Series(BaseModel):
    """Columns of the same length: one entry per stored point (a point per second for an
    attempt's first minute, coarser after: see cubestudio.monitor.series)."""

    at: list[datetime]
    cpu_percent: list[float]
    rss_bytes: list[int]
    gpu_util_percent: list[float | None]
    gpu_mem_bytes: list[int | None]


class AttemptMetrics(BaseModel):
    task: str
    attempt: int
    status: str
    sampled_at: datetime
    samples: int
    cpu_percent: float  # the latest sample: percent of one core, process tree summed
    rss_bytes: int
    gpu_util_percent: float | None  # null: no NVIDIA GPU where it ran
    gpu_mem_bytes: int | None
    cpu_avg_percent: float
    peak: Peak
    series: Series


class RunMetrics(BaseModel):
    run_id: str
    pipeline: str
    status: str
    at: datetime
    tasks: list[AttemptMetrics]


@router.get("/projects/{project}/runs/{run_id}/metrics", response_model=RunMetrics)
async def run_metrics(run_id: str, project: ProjectDep, db: DbDep) -> Any:
    """CPU, memory and GPU of each sampled attempt of the run: latest, peaks and series."""

    def read() -> dict[str, Any]:
        with db.read() as conn:
            return report.metrics(conn, run=run_in(conn, project, run_id))

    return await short_read(db, read)


class RightsizeBody(BaseModel):
    runs: Annotated[int, Field(ge=1, le=100)] = 10  # each task's last succeeded runs
    policy: Literal["headroom", "cube-studio"] = "headroom"


class Evidence(BaseModel):
    run_id: str
    created_at: datetime
    attempt: int
    cpu_max_percent: float
    rss_max_bytes: int
    gpu_mem_max_bytes: int | None


class Requests(BaseModel):
    cpu: float | None  # cores
    memory: int | None  # bytes


class TaskAdviceOut(BaseModel):
    task: str
    runs: int
    current: Requests
    suggested: Requests  # null values: no evidence yet
    changed: bool
    evidence: list[Evidence]


class RightsizeOut(BaseModel):
    pipeline: str
    version: int  # the version the advice is for
    runs: int
    policy: str
    tasks: list[TaskAdviceOut]
    applied_version: int | None = None  # the version saved by .../apply (null: nothing changed)


def _advise(db: DbDep, project: Any, name: str, body: RightsizeBody, apply: bool) -> Any:
    with db.begin() as conn:
        try:
            result = report.rightsize(
                conn, project_id=project.id, name=name, runs=body.runs, policy=POLICIES[body.policy]
            )
        except NotFoundError:
            raise not_found(f"pipeline {name} in project {project.name}") from None
        saved = None
        if apply:
            try:
                saved = report.apply_rightsize(
                    conn, project_id=project.id, report=result, author=project.user.name, now=now()
                )
            except StateError as err:
                raise ApiError(409, "conflict", str(err)) from None
    out = {k: v for k, v in result.items() if k not in ("advice", "data", "pipeline_id")}
    return {**out, "applied_version": saved}


@router.post("/projects/{project}/pipelines/{name}/rightsize", response_model=RightsizeOut)
def rightsize_preview(name: str, body: RightsizeBody, project: ProjectDep, db: DbDep) -> Any:
    """The cpu and memory requests suggested for each task from the peaks of its last
    succeeded runs, with those peaks (`cube rightsize`); nothing is changed."""
    return _advise(db, project, name, body, apply=False)


@router.post("/projects/{project}/pipelines/{name}/rightsize/apply", response_model=RightsizeOut)
def rightsize_apply(name: str, body: RightsizeBody, project: DeveloperDep, db: DbDep) -> Any:
    """Save the pipeline's next version with the suggested requests (`cube rightsize
    --apply`); `applied_version` null: nothing to change."""
    return _advise(db, project, name, body, apply=True)
