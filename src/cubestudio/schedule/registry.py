"""Registering schedules: `cube schedule apply FILE`, pause, unpause, list, clear.

Applying a file is idempotent (like ``kubectl apply``). As the seeds say, changing the cron
(or its time zone, which changes what the cron means) or ``catchup`` resets ``start`` to now,
unless the file's ``start`` changed too: then that explicit start wins. A changed ``start``
alone replans from it; records that exist are kept as they are.

``preview_apply`` says, storing nothing, how many runs an apply will cause, so that the
command can ask first; ``clear_schedule`` undoes a flood of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping

from cubestudio.engine.lifecycle import engine_alive
from cubestudio.engine.states import RunState
from cubestudio.errors import FieldError, NotFoundError, SpecError, StateError
from cubestudio.schedule.plan import NewRuns, first_sight, iso_utc, start_instant, timetable_of
from cubestudio.schedule.scheduler import parse_applied
from cubestudio.schedule.states import RecordStatus, RunTrigger
from cubestudio.schedule.timetable import Timetable
from cubestudio.spec.model import PipelineSpec, ScheduleSpec
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import runs as runs_store
from cubestudio.store import schedules as store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID


@dataclass(frozen=True, slots=True)
class ApplyResult:
    pipeline: str
    created: bool  # a new schedule, not an update
    start: datetime  # the effective start
    next: datetime | None  # the first tick to come
    reset: str | None  # why start was reset to now


@dataclass(frozen=True, slots=True)
class ApplyPreview:
    pipeline: str
    created: bool  # a new schedule, not an update
    start: datetime  # the effective start it would get
    reset: str | None  # why start would be reset to now
    runs: NewRuns  # what the scheduler will create once it is applied


@dataclass(frozen=True, slots=True)
class Cleared:
    pipeline: str
    records: int  # waiting (comed) records deleted
    runs: list[str]  # pending runs deleted: they had never started
    busy: list[str]  # pending runs a live process was starting: left alone


def preview_apply(
    db: Database, *, spec: PipelineSpec, now: datetime, project_id: int = DEFAULT_PROJECT_ID
) -> ApplyPreview:
    """What applying ``spec`` at ``now`` would do, read without storing anything. A schedule
    seen afresh (new, or its start moved) has its due ticks planned again: those without a
    record become runs. One that goes on from where it was creates nothing new by applying."""
    schedule = _check_schedulable(spec)
    timetable = timetable_of(schedule)
    existing: set[datetime] = set()
    with db.begin() as conn:
        pipeline_id = store.find_pipeline(conn, name=spec.name, project_id=project_id)
        current = None if pipeline_id is None else store.get_schedule(conn, pipeline_id=pipeline_id)
        start, reset = _effective_start(current, schedule, timetable, now)
        afresh = current is None or start != current["start_at"]
        if afresh and pipeline_id is not None:
            existing = store.record_dates(conn, pipeline_id=pipeline_id, lo=start, hi=now)

    def due() -> Iterator[datetime]:
        if not afresh:
            return iter(())
        return first_sight(timetable, start=start, now=now, catchup=schedule.catchup)

    return ApplyPreview(spec.name, current is None, start, reset, NewRuns(due, existing))


def apply_schedule(
    db: Database,
    *,
    spec: PipelineSpec,
    templates: Mapping[str, TemplateSpec],
    user: str,
    now: datetime,
    project_id: int = DEFAULT_PROJECT_ID,
) -> ApplyResult:
    schedule = _check_schedulable(spec)
    timetable = timetable_of(schedule)
    snapshot = {
        "pipeline": spec.to_data(),
        "templates": {ref: t.to_data() for ref, t in templates.items()},
    }
    values: dict[str, object] = {
        "spec": json.dumps(snapshot, sort_keys=True),
        "applied_by": user,
        "applied_at": now,
        "updated_at": now,
    }
    with db.begin() as conn:
        pipeline_id, _creator = runs_store.record_pipeline(
            conn, spec=spec, creator=user, now=now, project_id=project_id
        )
        store.lock_pipeline(conn, pipeline_id=pipeline_id, wait=True)
        current = store.get_schedule(conn, pipeline_id=pipeline_id)
        start, reset = _effective_start(current, schedule, timetable, now)
        if current is None:
            store.insert_schedule(
                conn,
                values={"pipeline_id": pipeline_id, "start_at": start, "paused": False, **values},
            )
        else:
            if start != current["start_at"]:  # seen afresh from the new start
                values |= {"start_at": start, "planned_through": None}
            store.update_schedule(conn, pipeline_id=pipeline_id, values=values)
    upcoming = timetable.next_after(now, floor=start)
    return ApplyResult(spec.name, current is None, start, upcoming, reset)


def set_paused(
    db: Database,
    *,
    name: str,
    paused: bool,
    now: datetime,
    project_id: int = DEFAULT_PROJECT_ID,
) -> None:
    """Pause or unpause. Unpausing is switching the schedule back on: with catchup off it
    runs only the latest due tick; with catchup on it catches up the paused time."""
    with db.begin() as conn:
        pipeline_id = _schedule_id(conn, name, project_id)
        store.lock_pipeline(conn, pipeline_id=pipeline_id, wait=True)
        row = store.get_schedule(conn, pipeline_id=pipeline_id)
        assert row is not None
        values: dict[str, object] = {"paused": paused, "updated_at": now}
        if row["paused"] and not paused and not parse_applied(row).pipeline.schedule.catchup:
            values["planned_through"] = None  # seen afresh: only the latest due tick
        store.update_schedule(conn, pipeline_id=pipeline_id, values=values)


def clear_schedule(db: Database, *, name: str, project_id: int = DEFAULT_PROJECT_ID) -> Cleared:
    """Undo a flood of runs: delete the pipeline's waiting records (scheduled and backfill),
    and its scheduled runs still pending that never started, under the pipeline's lock so
    no scheduler admits one meanwhile. A run a live `cube resume` is taking over is left."""
    pending = RunState.PENDING.value
    triggers = [RunTrigger.SCHEDULE.value, RunTrigger.BACKFILL.value]
    removed: list[str] = []
    busy: list[str] = []
    with db.begin() as conn:
        pipeline_id = store.find_pipeline(conn, name=name, project_id=project_id)
        if pipeline_id is None:
            raise NotFoundError(f"no pipeline '{name}' (see `cube schedule list`)")
        store.lock_pipeline(conn, pipeline_id=pipeline_id, wait=True)
        records = store.delete_records(
            conn, pipeline_id=pipeline_id, status=RecordStatus.COMED.value
        )
        for run in store.unstarted_runs(
            conn, pipeline_id=pipeline_id, triggers=triggers, status=pending
        ):
            if engine_alive(dict(run)):
                busy.append(run["id"])
                continue
            runs_store.delete_run(conn, run_id=run["id"], statuses=[pending])
            removed.append(run["id"])
    return Cleared(name, records, removed, busy)


def list_schedules(
    db: Database, *, now: datetime, project_id: int | None = None
) -> list[dict[str, object]]:
    """Every schedule (of one project, when given) as plain data (times in UTC ISO 8601), by
    pipeline name."""
    with db.begin() as conn:
        rows = [
            r
            for r in store.list_schedules(conn)
            if project_id is None or r["project_id"] == project_id
        ]
    items: list[dict[str, object]] = []
    for row in rows:
        applied = parse_applied(row)
        schedule = applied.pipeline.schedule
        items.append(
            {
                "pipeline": row["name"],
                "cron": schedule.cron,
                "timezone": schedule.timezone,
                "catchup": schedule.catchup,
                "paused": row["paused"],
                "start": iso_utc(row["start_at"]),
                "planned_through": iso_utc(row["planned_through"]),
                "next": iso_utc(applied.timetable.next_after(now, floor=row["start_at"])),
            }
        )
    return items


def _schedule_id(conn: Connection, name: str, project_id: int = DEFAULT_PROJECT_ID) -> int:
    pipeline_id = store.find_pipeline(conn, name=name, project_id=project_id)
    if pipeline_id is None or store.get_schedule(conn, pipeline_id=pipeline_id) is None:
        raise NotFoundError(
            f"pipeline '{name}' has no schedule (`cube schedule apply FILE` registers one; "
            "`cube schedule list` shows them)"
        )
    return pipeline_id


def _check_schedulable(spec: PipelineSpec) -> ScheduleSpec:
    if spec.schedule is None:
        raise StateError(
            f"pipeline '{spec.name}' has no schedule: add a `schedule:` block with a cron "
            f"(see examples/nightly.yaml); `cube schedule pause {spec.name}` stops one"
        )
    missing = [name for name, param in spec.params.items() if param.default is None]
    if missing:
        raise SpecError(
            [
                FieldError(f"params.{name}", "a scheduled run uses the defaults: give it one")
                for name in missing
            ]
        )
    return spec.schedule


def _effective_start(
    current: RowMapping | None, schedule: ScheduleSpec, timetable: Timetable, now: datetime
) -> tuple[datetime, str | None]:
    """The start a schedule gets when applied at ``now``, and why it was reset to now."""
    if current is None:
        return start_instant(schedule, timetable, default=now), None
    before = parse_applied(current).pipeline.schedule
    if schedule.start != before.start:  # an explicit new start wins over a reset
        return start_instant(schedule, timetable, default=now), None
    reset = _reset_reason(before, schedule)
    return (now, reset) if reset else (current["start_at"], None)


def _reset_reason(before: ScheduleSpec, after: ScheduleSpec) -> str | None:
    for name in ("cron", "timezone", "catchup"):
        if getattr(before, name) != getattr(after, name):
            return f"the {name} changed"
    return None
