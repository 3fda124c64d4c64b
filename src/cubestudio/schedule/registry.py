"""Registering schedules: `cube schedule apply FILE`, pause, unpause, list.

Applying a file is idempotent (like ``kubectl apply``). As the seeds say, changing the cron
(or its time zone, which changes what the cron means) or ``catchup`` resets ``start`` to now,
unless the file's ``start`` changed too: then that explicit start wins. A changed ``start``
alone replans from it; records that exist are kept as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from cubestudio.errors import FieldError, NotFoundError, SpecError, StateError
from cubestudio.schedule.plan import iso_utc, start_instant, timetable_of
from cubestudio.schedule.scheduler import parse_applied
from cubestudio.spec.model import PipelineSpec, ScheduleSpec
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import runs as runs_store
from cubestudio.store import schedules as store
from cubestudio.store.db import Database


@dataclass(frozen=True, slots=True)
class ApplyResult:
    pipeline: str
    created: bool  # a new schedule, not an update
    start: datetime  # the effective start
    next: datetime | None  # the first tick to come
    reset: str | None  # why start was reset to now


def apply_schedule(
    db: Database,
    *,
    spec: PipelineSpec,
    templates: Mapping[str, TemplateSpec],
    user: str,
    now: datetime,
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
    reset = None
    with db.begin() as conn:
        pipeline_id, _creator = runs_store.record_pipeline(conn, spec=spec, creator=user, now=now)
        store.lock_pipeline(conn, pipeline_id=pipeline_id, wait=True)
        current = store.get_schedule(conn, pipeline_id=pipeline_id)
        if current is None:
            start = start_instant(schedule, timetable, default=now)
            store.insert_schedule(
                conn,
                values={"pipeline_id": pipeline_id, "start_at": start, "paused": False, **values},
            )
        else:
            before = parse_applied(current).pipeline.schedule
            reset = _reset_reason(before, schedule)
            if schedule.start != before.start:
                start, reset = start_instant(schedule, timetable, default=now), None
            elif reset:
                start = now
            else:
                start = current["start_at"]
            if start != current["start_at"]:
                values |= {"start_at": start, "planned_through": None}
            store.update_schedule(conn, pipeline_id=pipeline_id, values=values)
    upcoming = timetable.next_after(now, floor=start)
    return ApplyResult(spec.name, current is None, start, upcoming, reset)


def set_paused(db: Database, *, name: str, paused: bool, now: datetime) -> None:
    """Pause or unpause. Unpausing is switching the schedule back on: with catchup off it
    runs only the latest due tick; with catchup on it catches up the paused time."""
    with db.begin() as conn:
        pipeline_id = _schedule_id(conn, name)
        store.lock_pipeline(conn, pipeline_id=pipeline_id, wait=True)
        row = store.get_schedule(conn, pipeline_id=pipeline_id)
        assert row is not None
        values: dict[str, object] = {"paused": paused, "updated_at": now}
        if row["paused"] and not paused and not parse_applied(row).pipeline.schedule.catchup:
            values["planned_through"] = None  # seen afresh: only the latest due tick
        store.update_schedule(conn, pipeline_id=pipeline_id, values=values)


def list_schedules(db: Database, *, now: datetime) -> list[dict[str, object]]:
    """Every schedule as plain data (times in UTC ISO 8601), by pipeline name."""
    with db.begin() as conn:
        rows = store.list_schedules(conn)
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


def _schedule_id(conn: Connection, name: str) -> int:
    pipeline_id = store.find_pipeline(conn, name=name)
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


def _reset_reason(before: ScheduleSpec, after: ScheduleSpec) -> str | None:
    for name in ("cron", "timezone", "catchup"):
        if getattr(before, name) != getattr(after, name):
            return f"the {name} changed"
    return None
