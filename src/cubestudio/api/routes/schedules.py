"""Schedules of a project's pipelines beyond switching them on and off (pipelines.py): the
records, clearing what a flood left waiting, applying a saved version's schedule, and
backfilling a past range, as `cube schedule records|clear|apply` and `cube backfill` do.

More runs than CONFIRM_ABOVE are created only with ``confirm: true`` (409 without it); the
previews list them and store nothing, for a pipeline saved or given in the body. A backfill
is recorded at once; its runs are admitted step by step (max_active_runs, depends_on_past)
by whoever follows it (`cube backfill` calls the step until every run ended), and the
engine service drives them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from cubestudio.api.deps import DbDep, DeveloperDep, Project, ProjectDep, now
from cubestudio.api.errors import ApiError, not_found
from cubestudio.api.pipeline_io import catalog_of, load_body, stored_spec
from cubestudio.artifacts import open_store
from cubestudio.engine.deletion import remove_run_files
from cubestudio.engine.submit import wake_engines
from cubestudio.errors import FieldError, SpecError
from cubestudio.schedule import registry, reports
from cubestudio.schedule.backfill import Backfill, BackfillState, preview_backfill
from cubestudio.schedule.launch import EngineLauncher
from cubestudio.schedule.plan import NewRuns, iso_utc, timetable_of
from cubestudio.schedule.ranges import backfill_range, instant, open_backfill
from cubestudio.schedule.records import check_status, pipeline_records
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.validate import resolve_templates
from cubestudio.store import pipelines as pipeline_store
from cubestudio.store.db import Database

router = APIRouter(tags=["schedules"])
PIPELINE = "/projects/{project}/pipelines/{name}"
Version = Annotated[
    int | None, Field(ge=1, le=2**31 - 1, description="default: the latest saved version")
]
Instant = Annotated[str, Field(min_length=1, max_length=64)]


class PreviewBody(BaseModel):
    """A pipeline given as data is checked, never saved; without one, the saved version."""

    spec: dict[str, Any] | None = None
    version: Version = None
    dates: bool = False  # list every execution date (`--dry-run`), not only how many


class ApplyBody(BaseModel):
    version: Version = None
    confirm: bool = False  # needed above CONFIRM_ABOVE runs


class RangeBody(BaseModel):
    """A past range, both ends inclusive, ISO 8601 (without an offset: the schedule's
    time zone); an `end` that is a bare date is that whole day."""

    start: Instant
    end: Instant


class BackfillPreviewBody(RangeBody, PreviewBody):
    pass


class BackfillBody(RangeBody, ApplyBody):
    pass


class StepBody(RangeBody):
    """The range as a backfill's first answer resolved it (`start`, `end`)."""

    version: Version = None


@router.get(f"{PIPELINE}/schedule/records")
def list_records(
    name: str,
    project: ProjectDep,
    db: DbDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 50,
) -> list[dict[str, object]]:
    """The pipeline's schedule records, newest first, as `cube schedule records --json`."""
    check_status(status, field="status")
    return pipeline_records(db, name=name, status=status, limit=limit, project_id=project.id)


@router.post(f"{PIPELINE}/schedule/clear")
def clear_schedule(name: str, request: Request, project: DeveloperDep, db: DbDep) -> Any:
    """Delete the waiting records and the scheduled runs that never started (`cube schedule
    clear`); runs a process is starting now are left, in `busy`."""
    settings = request.app.state.settings
    artifacts = open_store(settings)
    cleared = registry.clear_schedule(db, name=name, project_id=project.id)
    remove_run_files(
        run_ids=cleared.runs,
        artifacts=artifacts,
        runs_dir=settings.runs_dir,
        home_dir=settings.home_dir,
    )
    return reports.cleared(cleared)


@router.post(f"{PIPELINE}/schedule/apply/preview")
def preview_apply(name: str, body: PreviewBody, project: ProjectDep, db: DbDep) -> Any:
    """What applying would do and the runs it would create (`cube schedule apply
    --dry-run`); stores nothing."""
    spec = _spec(db, project, name, body.spec, body.version)[0]
    preview = registry.preview_apply(db, spec=spec, now=now(), project_id=project.id)
    facts = reports.preview_facts(preview)
    return _new_runs(spec, preview.runs, facts, dates=body.dates)


@router.post(f"{PIPELINE}/schedule/apply")
def apply_schedule(name: str, body: ApplyBody, project: DeveloperDep, db: DbDep) -> Any:
    """Register or update the schedule of a saved version (`cube schedule apply`): changing
    the cron, time zone or catchup resets start to now (unless start changed too)."""
    spec, _version = _spec(db, project, name, None, body.version)
    templates = resolve_templates(spec, catalog_of(db, project))
    at = now()
    preview = registry.preview_apply(db, spec=spec, now=at, project_id=project.id)
    _confirmed(spec.name, preview.runs, body.confirm)
    result = registry.apply_schedule(
        db, spec=spec, templates=templates, user=project.user.name, now=at, project_id=project.id
    )
    return reports.applied(result, runs=preview.runs.count)


@router.post(f"{PIPELINE}/backfill/preview")
def preview_range(name: str, body: BackfillPreviewBody, project: ProjectDep, db: DbDep) -> Any:
    """The runs a backfill of the range would create (`cube backfill --dry-run`): its ticks
    without a record; stores nothing."""
    spec = _spec(db, project, name, body.spec, body.version)[0]
    lo, hi = _range(spec, body)
    runs = preview_backfill(db, spec=spec, lo=lo, hi=hi, project_id=project.id)
    return _new_runs(spec, runs, {}, dates=body.dates)


@router.post(f"{PIPELINE}/backfill", status_code=201)
def backfill(
    name: str, body: BackfillBody, request: Request, project: DeveloperDep, db: DbDep
) -> Any:
    """Record every tick of the range (trigger `backfill`; a tick with a record keeps it)
    and admit the first runs. `start` and `end` in the answer are the range resolved: give
    them to the step until `done` (or `stuck`: records wait for a past run that failed)."""
    spec, version = _spec(db, project, name, None, body.version)
    templates = resolve_templates(spec, catalog_of(db, project))
    at = now()
    lo, hi = _range(spec, body, at)
    runs = preview_backfill(db, spec=spec, lo=lo, hi=hi, project_id=project.id)
    _confirmed(spec.name, runs, body.confirm)
    job = Backfill.of(
        db,
        _launcher(request, db),
        spec=spec,
        templates=templates,
        runner=project.user.name,
        lo=lo,
        hi=hi,
        now=at,
        project_id=project.id,
    )
    ticks, existing = job.record(at)
    range_ = {"version": version, "start": iso_utc(lo), "end": iso_utc(hi)}
    counts = {"ticks": ticks, "existing": existing}
    return {"pipeline": spec.name, **range_, **counts, **_state(job, job.step(at))}


@router.post(f"{PIPELINE}/backfill/step")
def backfill_step(
    name: str, body: StepBody, request: Request, project: DeveloperDep, db: DbDep
) -> Any:
    """Admit the runs of the backfill that may start now (the engine service drives them);
    `records` comes with the answer once it is over."""
    spec, _version = _spec(db, project, name, None, body.version)
    job = open_backfill(
        db,
        _launcher(request, db),
        spec=spec,
        templates=resolve_templates(spec, catalog_of(db, project)),
        runner=project.user.name,
        lo=instant("start", body.start),
        hi=instant("end", body.end),
        project_id=project.id,
    )
    return {"pipeline": spec.name, **_state(job, job.step(now()))}


def _spec(
    db: Database, project: Project, name: str, data: dict[str, Any] | None, version: int | None
) -> tuple[PipelineSpec, int | None]:
    """The pipeline given as data (checked, not saved), or a saved version of it."""
    if data is not None:
        spec = load_body(db, project, data, None)[0]
        if spec.name != name:
            raise ApiError(
                422, "invalid", f"name: the body names {spec.name!r}, the path {name!r}",
                field="name",
            )  # fmt: skip
        return spec, None
    with db.read() as conn:
        pipeline = pipeline_store.get_pipeline(conn, project_id=project.id, name=name)
        if pipeline is None:
            raise not_found(f"pipeline {name} in project {project.name}")
        version = version or pipeline["latest_version"]
        if version == 0:
            raise ApiError(
                409, "conflict", f"pipeline {name} has no saved version: save it first (PUT)"
            )
        row = pipeline_store.get_version(conn, pipeline_id=pipeline["id"], version=version)
    if row is None:
        raise not_found(f"version {version} of pipeline {name}")
    return stored_spec(db, project, json.loads(row["spec"])), version


def _range(
    spec: PipelineSpec, body: RangeBody, at: datetime | None = None
) -> tuple[datetime, datetime]:
    if spec.schedule is None:
        raise SpecError(
            [FieldError("schedule", f"pipeline {spec.name} has no schedule: add one with a cron")]
        )
    timetable = timetable_of(spec.schedule)
    start, end, moment = body.start, body.end, at or now()
    fields = ("start", "end")  # the body's, where the CLI says --start and --end
    return backfill_range(start=start, end=end, timetable=timetable, now=moment, fields=fields)


def _confirmed(name: str, runs: NewRuns, confirm: bool) -> None:
    if runs.count > reports.CONFIRM_ABOVE and not confirm:
        raise ApiError(
            409,
            "conflict",
            f"{name}: {runs.count} runs need a confirmation: send confirm: true to create "
            "them (the preview lists them); nothing was stored",
        )


def _new_runs(
    spec: PipelineSpec, runs: NewRuns, facts: dict[str, object], *, dates: bool
) -> dict[str, object]:
    """A preview: how many runs (every execution date with ``dates``), and the sentence
    the CLI says before it asks."""
    assert spec.schedule is not None
    zone = spec.schedule.timezone
    if dates:
        answer = reports.new_runs(spec.name, runs, facts)
    else:
        answer = {"pipeline": spec.name, **facts, "runs": runs.count}
    return {**answer, "summary": runs.summary(zone), "timezone": zone}


def _state(job: Backfill, state: BackfillState) -> dict[str, object]:
    over = state.done or state.stuck
    return {**reports.backfill_state(state), "records": job.records() if over else None}


def _launcher(request: Request, db: Database) -> EngineLauncher:
    home = request.app.state.settings.home_dir
    return EngineLauncher(lambda: wake_engines(db, home))
