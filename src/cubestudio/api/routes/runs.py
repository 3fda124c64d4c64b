"""Runs of a project: the list (filters, cursor pages), one run with its tasks, attempts
and outputs, and the requests a user makes of a run: stop, retry, rerun from a task. The
engine service acts on them (engine/submit.py): the routes record and return at once."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cubestudio.api.deps import DbDep, DeveloperDep, ProjectDep, now, run_in, run_of, short_read
from cubestudio.api.errors import ApiError
from cubestudio.api.pipeline_io import server_identity
from cubestudio.drivers.local import LocalDriver
from cubestudio.engine.details import details_of
from cubestudio.engine.lifecycle import summary_of
from cubestudio.engine.submit import request_stop, requeue, wake_engines
from cubestudio.store import queues as queue_store
from cubestudio.store import run_lists
from cubestudio.store import runs as runs_store
from cubestudio.store.db import Database

router = APIRouter(tags=["runs"])
Status = Literal["pending", "running", "succeeded", "failed", "stopped"]
Trigger = Literal["manual", "schedule", "backfill", "debug"]


class RunRow(BaseModel):
    id: str
    pipeline: str
    pipeline_version: int | None
    status: str
    trigger: str
    execution_date: datetime
    runner: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    message: str | None
    waiting: str | None = None  # why one of its tasks waits for admission (F13)


class RunPage(BaseModel):
    items: list[RunRow]
    next_cursor: str | None  # give it back as `cursor` for the next page; null: the last


def _cursor(row: Any) -> str:
    raw = json.dumps([row["created_at"].isoformat(), row["id"]])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(run_id)
    except (ValueError, TypeError, binascii.Error) as err:
        raise ApiError(
            422, "invalid", "cursor: not a cursor this API gave; start again without it",
            field="cursor",
        ) from err  # fmt: skip


@router.get("/projects/{project}/runs", response_model=RunPage)
async def list_runs(
    project: ProjectDep,
    db: DbDep,
    pipeline: Annotated[str | None, Query(max_length=63)] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    trigger: Trigger | None = None,
    since: Annotated[datetime | None, Query(description="created at or after")] = None,
    until: Annotated[datetime | None, Query(description="created before")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> RunPage:
    """Newest first; debug runs only with trigger=debug."""
    after = _parse_cursor(cursor) if cursor else None

    def read() -> list[Any]:
        with db.read() as conn:
            found = run_lists.list_project_runs(
                conn,
                project_id=project.id,
                limit=limit + 1,
                pipeline=pipeline,
                statuses=list(status or []),
                trigger=trigger,
                since=since,
                until=until,
                after=after,
            )
            running = [r["id"] for r in found[:limit] if r["status"] == "running"]
            return [found, queue_store.waiting_reasons(conn, run_ids=running)]

    rows, waiting = await short_read(db, read)
    more = len(rows) > limit
    rows = rows[:limit]
    # The hottest read of the API: written straight to JSON (the RunPage model documents it;
    # validating rows the store just gave costs more than the query).
    page = {
        "items": [_row_json(r, waiting.get(r["id"])) for r in rows],
        "next_cursor": _cursor(rows[-1]) if more and rows else None,
    }
    return JSONResponse(page)  # type: ignore[return-value]


def _row_json(row: Any, waiting: str | None = None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "pipeline": row["pipeline_name"],
        "pipeline_version": row["pipeline_version"],
        "status": row["status"],
        "trigger": row["trigger"],
        "execution_date": _iso(row["execution_date"]),
        "runner": row["runner"],
        "created_at": _iso(row["created_at"]),
        "started_at": _iso(row["started_at"]),
        "finished_at": _iso(row["finished_at"]),
        "message": row["message"],
        "waiting": waiting,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@router.get("/projects/{project}/runs/{run_id}")
async def get_run(run_id: str, request: Request, project: ProjectDep, db: DbDep) -> Any:
    """The run as `cube show --json` prints it (the `cube run --json` object with details),
    plus each task's attempts."""
    runs_dir = request.app.state.settings.runs_dir
    details = await short_read(db, lambda: _details(db, project, run_id, runs_dir))
    return JSONResponse(details)  # plain JSON already: no encoder pass over it


def _details(db: Database, project: Any, run_id: str, runs_dir: Path) -> dict[str, Any]:
    """One read transaction: the run, its tasks and its attempts."""
    with db.read() as conn:
        run = run_in(conn, project, run_id)
        tasks = runs_store.load_task_runs(conn, run_id=run["id"])
        attempts = runs_store.load_attempts(conn, run_id=run["id"])
    details = details_of(run, tasks, runs_dir, summary_of(run, tasks))
    by_task: dict[str, list[dict[str, Any]]] = {}
    for a in attempts:
        by_task.setdefault(a["task_name"], []).append(
            {
                "number": a["number"],
                "status": a["status"],
                "exit_code": a["exit_code"],
                "started_at": a["started_at"].isoformat(),
                "finished_at": a["finished_at"].isoformat() if a["finished_at"] else None,
                "message": a["message"],
                "engine_id": a["engine_id"],
            }
        )
    for name, task in details["tasks"].items():
        task["attempt_list"] = by_task.get(name, [])
    details["pipeline_version"] = run["pipeline_version"]
    details["project"] = project.name
    return details


@router.post("/projects/{project}/runs/{run_id}/stop", status_code=202)
def stop_run(run_id: str, request: Request, project: DeveloperDep, db: DbDep) -> Any:
    """Ask the engine driving the run to stop it (SIGTERM, then SIGKILL after the grace)."""
    run = run_of(db, project, run_id)
    if not request_stop(db, run_id=run["id"]):
        raise ApiError(409, "conflict", f"run {run['id']} already ended: {run['status']}")
    wake_engines(db, request.app.state.settings.home_dir)
    return {"run_id": run["id"], "stop_requested": True}


class RerunBody(BaseModel):
    from_task: Annotated[str, Field(min_length=1, max_length=63)]


@router.post("/projects/{project}/runs/{run_id}/retry", status_code=202)
def retry_run(run_id: str, request: Request, project: DeveloperDep, db: DbDep) -> Any:
    """Run the failed, upstream_failed and stopped tasks again in the same run, keeping what
    succeeded (`cube retry`)."""
    return _requeue(run_id, None, request, project, db)


@router.post("/projects/{project}/runs/{run_id}/rerun", status_code=202)
def rerun_run(
    run_id: str, body: RerunBody, request: Request, project: DeveloperDep, db: DbDep
) -> Any:
    """Run a task and everything downstream of it again (`cube rerun --from TASK`)."""
    return _requeue(run_id, body.from_task, request, project, db)


def _requeue(run_id: str, from_task: str | None, request: Request, project: Any, db: DbDep) -> Any:
    run = run_of(db, project, run_id)
    settings = request.app.state.settings
    driver = LocalDriver(settings.runs_dir)
    try:
        names = requeue(
            db,
            driver,
            run_id=run["id"],
            from_task=from_task,
            now=now(),
            me=server_identity(),
            kill_grace=settings.kill_grace,
            lease_seconds=settings.engine_lease,
        )
    finally:
        driver.close()
    wake_engines(db, settings.home_dir)
    return {"run_id": run["id"], "tasks": names}
