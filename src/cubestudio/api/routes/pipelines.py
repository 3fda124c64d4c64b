"""Pipelines of a project: create and save (every save a new immutable version), read, list,
versions and their diff, validation as the editor types, trigger, schedule, delete."""

from __future__ import annotations

import difflib
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from cubestudio.api.deps import DbDep, DeveloperDep, ProjectDep, now
from cubestudio.api.errors import ApiError, not_found
from cubestudio.api.pipeline_io import (
    catalog_of,
    debug_task,
    load_body,
    spec_yaml,
    split_dir,
    stored_spec,
    trigger_run,
)
from cubestudio.schedule import registry
from cubestudio.schedule.plan import iso_utc, timetable_of
from cubestudio.store import pipelines as store

router = APIRouter(tags=["pipelines"])
MAX_TEXT = 1_000_000  # characters of a pipeline's YAML or JSON


class PipelineBody(BaseModel):
    """A pipeline as data (`spec`, the YAML/JSON format) or as text (`yaml`), with the
    editor's extras (`layout`: node positions, notes) and a note on the save."""

    spec: dict[str, Any] | None = None
    yaml: Annotated[str | None, Field(max_length=MAX_TEXT)] = None
    layout: dict[str, Any] | None = None
    message: Annotated[str | None, Field(max_length=2000)] = None

    @model_validator(mode="after")
    def _one_source(self) -> PipelineBody:
        if (self.spec is None) == (self.yaml is None):
            raise ValueError("give the pipeline either as `spec` (data) or as `yaml` (text)")
        return self


class LastRun(BaseModel):
    id: str
    status: str
    created_at: datetime


class PipelineOut(BaseModel):
    id: int
    name: str
    description: str
    latest_version: int
    creator: str
    created_at: datetime
    updated_at: datetime
    last_run: LastRun | None
    schedule: dict[str, Any] | None  # cron, timezone, enabled (None: no schedule block)


class VersionOut(BaseModel):
    name: str
    version: int
    spec: dict[str, Any]
    yaml: str
    # The folder of the file it was first saved from: relative workdirs and
    # {{ pipeline_dir }} start there. Kept from version to version; not editable.
    pipeline_dir: str | None = None
    layout: dict[str, Any] | None
    author: str
    message: str | None
    created_at: datetime


class VersionInfo(BaseModel):
    version: int
    author: str
    message: str | None
    created_at: datetime


def _out(row: Any) -> PipelineOut:
    data = json.loads(row["spec"])
    last = None
    if row.get("last_run_id"):
        last = LastRun(
            id=row["last_run_id"], status=row["last_run_status"], created_at=row["last_run_at"]
        )
    schedule = data.get("schedule")
    if schedule is not None:
        schedule = {
            "cron": schedule.get("cron"),
            "timezone": schedule.get("timezone", "UTC"),
            "enabled": row.get("schedule_paused") is False,
        }
    return PipelineOut(
        id=row["id"],
        name=row["name"],
        description=data.get("description", ""),
        latest_version=row["latest_version"],
        creator=row["creator"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_run=last,
        schedule=schedule,
    )


def _pipeline(db: DbDep, project: ProjectDep, name: str) -> Any:
    with db.read() as conn:
        row = store.get_pipeline(conn, project_id=project.id, name=name)
    if row is None:
        raise not_found(f"pipeline {name} in project {project.name}")
    return row


def _version_out(name: str, row: Any) -> VersionOut:
    data, folder = split_dir(json.loads(row["spec"]))
    return VersionOut(
        name=name,
        version=row["version"],
        spec=data,
        yaml=spec_yaml(data),
        pipeline_dir=folder,
        layout=json.loads(row["layout"]) if row["layout"] else None,
        author=row["author"],
        message=row["message"],
        created_at=row["created_at"],
    )


@router.get("/projects/{project}/pipelines", response_model=list[PipelineOut])
def list_pipelines(
    project: ProjectDep,
    db: DbDep,
    q: Annotated[str | None, Query(max_length=63, description="part of the name")] = None,
) -> list[PipelineOut]:
    with db.read() as conn:
        rows = store.list_pipelines(conn, project_id=project.id, search=q)
    return [_out(r) for r in rows]


@router.post("/projects/{project}/pipelines/validate")
def validate(body: PipelineBody, request: Request, project: ProjectDep, db: DbDep) -> Any:
    """Check a pipeline without saving it: 200 {"valid": true}, or 422 with every problem and
    its field path (the messages of `cube validate`)."""
    load_body(db, project, body.spec, body.yaml)
    return {"valid": True}


@router.post("/projects/{project}/pipelines", response_model=VersionOut, status_code=201)
def create_pipeline(body: PipelineBody, project: DeveloperDep, db: DbDep) -> VersionOut:
    return _save(body, project, db, create=True, name=None)


@router.put("/projects/{project}/pipelines/{name}", response_model=VersionOut)
def save_pipeline(name: str, body: PipelineBody, project: DeveloperDep, db: DbDep) -> VersionOut:
    """Save a new version (the name in the body must be the one in the path)."""
    return _save(body, project, db, create=False, name=name)


def _save(
    body: PipelineBody, project: Any, db: DbDep, *, create: bool, name: str | None
) -> VersionOut:
    folder = None
    if not create and name is not None:
        _shown, folder = split_dir(json.loads(_pipeline(db, project, name)["spec"]))
    spec, data = load_body(db, project, body.spec, body.yaml, pipeline_dir=folder)
    if name is not None and spec.name != name:
        raise ApiError(
            422,
            "invalid",
            f"name: the body names {spec.name!r}, the path {name!r}: a pipeline keeps its name "
            "(create a new pipeline to rename it)",
            field="name",
        )
    with db.begin() as conn:
        pipeline_id, version = store.save_version(
            conn,
            project_id=project.id,
            name=spec.name,
            spec_json=json.dumps(data, sort_keys=True),
            layout_json=json.dumps(body.layout, sort_keys=True) if body.layout else None,
            author=project.user.name,
            message=body.message,
            now=now(),
            create=create,
        )
        row = store.get_version(conn, pipeline_id=pipeline_id, version=version)
    return _version_out(spec.name, row)


@router.get("/projects/{project}/pipelines/{name}", response_model=VersionOut)
def get_pipeline(name: str, project: ProjectDep, db: DbDep) -> VersionOut:
    """The latest version."""
    pipeline = _pipeline(db, project, name)
    if pipeline["latest_version"] == 0:  # only ever run from a file by the CLI
        data, folder = split_dir(json.loads(pipeline["spec"]))
        return VersionOut(
            name=name,
            version=0,
            spec=data,
            yaml=spec_yaml(data),
            pipeline_dir=folder,
            layout=None,
            author=pipeline["creator"],
            message="recorded by a run from a file; not saved as a version yet",
            created_at=pipeline["updated_at"],
        )
    return get_version(name, pipeline["latest_version"], project, db)


@router.get("/projects/{project}/pipelines/{name}/versions", response_model=list[VersionInfo])
def list_versions(name: str, project: ProjectDep, db: DbDep) -> list[VersionInfo]:
    pipeline = _pipeline(db, project, name)
    with db.read() as conn:
        rows = store.list_versions(conn, pipeline_id=pipeline["id"])
    return [VersionInfo.model_validate(dict(r)) for r in rows]


@router.get("/projects/{project}/pipelines/{name}/versions/{version}", response_model=VersionOut)
def get_version(name: str, version: int, project: ProjectDep, db: DbDep) -> VersionOut:
    pipeline = _pipeline(db, project, name)
    with db.read() as conn:
        row = store.get_version(conn, pipeline_id=pipeline["id"], version=version)
    if row is None:
        raise not_found(f"version {version} of pipeline {name}")
    return _version_out(name, row)


@router.get("/projects/{project}/pipelines/{name}/diff")
def diff_versions(
    name: str,
    project: ProjectDep,
    db: DbDep,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
) -> Any:
    """Two versions compared: a unified diff of their YAML and which tasks were added,
    removed or changed."""
    old = get_version(name, from_version, project, db)
    new = get_version(name, to_version, project, db)
    before = {t["name"]: t for t in old.spec.get("tasks", [])}
    after = {t["name"]: t for t in new.spec.get("tasks", [])}
    lines = difflib.unified_diff(
        old.yaml.splitlines(keepends=True),
        new.yaml.splitlines(keepends=True),
        fromfile=f"{name}@{from_version}",
        tofile=f"{name}@{to_version}",
    )
    settings = sorted(
        k for k in {*old.spec, *new.spec} - {"tasks"} if old.spec.get(k) != new.spec.get(k)
    )
    return {
        "from": from_version,
        "to": to_version,
        "unified": "".join(lines),
        "tasks": {
            "added": sorted(after.keys() - before.keys()),
            "removed": sorted(before.keys() - after.keys()),
            "changed": sorted(n for n in before.keys() & after.keys() if before[n] != after[n]),
        },
        "settings_changed": settings,
    }


class TriggerBody(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict)
    version: Annotated[int | None, Field(ge=1)] = None  # default: the latest


@router.post("/projects/{project}/pipelines/{name}/runs", status_code=201)
def trigger(
    name: str, body: TriggerBody, request: Request, project: DeveloperDep, db: DbDep
) -> Any:
    """Start a run of a saved version (the latest by default); the run pins it. The engine
    service drives it: follow it with GET /runs/{run_id} or the event stream."""
    pipeline = _pipeline(db, project, name)
    version = body.version or pipeline["latest_version"]
    if version == 0:
        raise ApiError(
            409, "conflict", f"pipeline {name} has no saved version: save it first (PUT)"
        )
    with db.read() as conn:
        row = store.get_version(conn, pipeline_id=pipeline["id"], version=version)
    if row is None:
        raise not_found(f"version {version} of pipeline {name}")
    settings = request.app.state.settings
    run_id = trigger_run(
        db,
        settings,
        project,
        json.loads(row["spec"]),
        body.params,
        version=version,
        box=request.app.state.secrets,
    )
    return {"run_id": run_id, "pipeline": name, "version": version}


class DebugBody(BaseModel):
    task: Annotated[str, Field(min_length=1, max_length=63)]
    params: dict[str, Any] = Field(default_factory=dict)
    version: Annotated[int | None, Field(ge=1)] = None  # default: the latest


@router.post("/projects/{project}/pipelines/{name}/debug", status_code=201)
def debug(name: str, body: DebugBody, request: Request, project: DeveloperDep, db: DbDep) -> Any:
    """Run one task alone (`cube debug`): the other tasks are skipped, or taken as succeeded
    from the pipeline's last successful run when the task needs their outputs. The run is
    kept out of the pipeline's history (list it with trigger=debug); follow its log with
    GET /runs/{run_id}/tasks/{task}/logs?follow=true."""
    pipeline = _pipeline(db, project, name)
    data = json.loads(pipeline["spec"])
    if body.version is not None:
        with db.read() as conn:
            row = store.get_version(conn, pipeline_id=pipeline["id"], version=body.version)
        if row is None:
            raise not_found(f"version {body.version} of pipeline {name}")
        data = json.loads(row["spec"])
    settings = request.app.state.settings
    box = request.app.state.secrets
    run_id = debug_task(db, settings, project, data, body.task, body.params, box=box)
    return {"run_id": run_id, "pipeline": name, "task": body.task}


@router.get("/projects/{project}/pipelines/{name}/schedule")
def schedule_preview(
    name: str,
    project: ProjectDep,
    db: DbDep,
    count: Annotated[int, Query(ge=1, le=100)] = 5,
) -> Any:
    """The schedule of the latest version and its next COUNT run times (UTC, ISO 8601)."""
    pipeline = _pipeline(db, project, name)
    spec = stored_spec(db, project, json.loads(pipeline["spec"]))
    if spec.schedule is None:
        raise not_found(f"schedule of pipeline {name} (its latest version has none)")
    timetable = timetable_of(spec.schedule)
    ticks, moment = [], now()
    for _ in range(count):
        nxt = timetable.next_after(moment)
        if nxt is None:
            break
        ticks.append(iso_utc(nxt))
        moment = nxt
    with db.read() as conn:
        from cubestudio.store import schedules as schedule_store

        applied = schedule_store.get_schedule(conn, pipeline_id=pipeline["id"])
    return {
        "cron": spec.schedule.cron,
        "timezone": spec.schedule.timezone,
        "enabled": applied is not None and not applied["paused"],
        "next": ticks,
    }


@router.post("/projects/{project}/pipelines/{name}/schedule/enable")
def enable_schedule(name: str, request: Request, project: DeveloperDep, db: DbDep) -> Any:
    """Apply the latest version's schedule (as `cube schedule apply`) and switch it on."""
    pipeline = _pipeline(db, project, name)
    spec = stored_spec(db, project, json.loads(pipeline["spec"]))
    from cubestudio.spec.validate import resolve_templates

    templates = resolve_templates(spec, catalog_of(db, project))
    at = now()
    result = registry.apply_schedule(
        db, spec=spec, templates=templates, user=project.user.name, now=at, project_id=project.id
    )
    registry.set_paused(db, name=name, paused=False, now=at, project_id=project.id)
    return {"enabled": True, "start": iso_utc(result.start), "next": iso_utc(result.next)}


@router.get("/projects/{project}/schedules")
def list_schedules(project: ProjectDep, db: DbDep) -> Any:
    """The project's applied schedules as `cube schedule list --json` prints them."""
    return registry.list_schedules(db, now=now(), project_id=project.id)


@router.post("/projects/{project}/pipelines/{name}/schedule/unpause")
def unpause_schedule(name: str, project: DeveloperDep, db: DbDep) -> Any:
    """Switch an applied schedule back on as it was applied (`cube schedule unpause`): with
    catchup the paused time is caught up, without only the latest due tick runs."""
    _pipeline(db, project, name)
    registry.set_paused(db, name=name, paused=False, now=now(), project_id=project.id)
    return {"enabled": True}


@router.post("/projects/{project}/pipelines/{name}/schedule/disable")
def disable_schedule(name: str, project: DeveloperDep, db: DbDep) -> Any:
    _pipeline(db, project, name)
    registry.set_paused(db, name=name, paused=True, now=now(), project_id=project.id)
    return {"enabled": False}


@router.delete("/projects/{project}/pipelines/{name}", status_code=204)
def delete_pipeline(name: str, project: DeveloperDep, db: DbDep) -> Response:
    """Hide the pipeline and pause its schedule. Its runs stay, read-only, in the runs list;
    its versions stay too (saving the name again brings it back with its history)."""
    pipeline = _pipeline(db, project, name)
    with db.begin() as conn:
        store.delete_pipeline(conn, pipeline_id=pipeline["id"], now=now())
    return Response(status_code=204)
