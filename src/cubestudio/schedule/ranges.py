"""Times given as text by a user (`--now`, `cube backfill --start/--end`, the API's bodies),
read as the schedule reads them, and the backfill of a range that one reads back.

Each refusal names the option (or field) it is about and says how to write it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cubestudio.errors import FieldError, NotFoundError, SpecError
from cubestudio.schedule.admission import Pipeline
from cubestudio.schedule.backfill import Backfill
from cubestudio.schedule.launch import RunLauncher
from cubestudio.schedule.plan import parse_instant, parse_range_end, timetable_of
from cubestudio.schedule.timetable import Timetable
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.params import resolve_params
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import schedules as store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID


def instant(
    option: str, text: str, timetable: Timetable | None = None, *, whole_day: bool = False
) -> datetime:
    """An instant option as aware UTC; ``whole_day`` (with a timetable): a bare date ends
    with its day. Without an offset it is in the timetable's zone, or UTC without one."""
    try:
        if whole_day and timetable is not None:
            return parse_range_end(text, timetable=timetable)
        return parse_instant(text, timetable=timetable)
    except (ValueError, OverflowError):  # the year 9999's last day has no end
        local = "in the schedule's time zone" if timetable else "UTC"
        raise SpecError(
            [
                FieldError(
                    option,
                    f"{text!r} is not a time: use ISO 8601 such as 2026-01-01T02:00:00+08:00 "
                    f"(without an offset it is {local})",
                )
            ]
        ) from None


def backfill_range(
    *,
    start: str,
    end: str,
    timetable: Timetable,
    now: datetime,
    fields: tuple[str, str] = ("--start", "--end"),
) -> tuple[datetime, datetime]:
    """(lo, hi) of a backfill, both inclusive: ``end`` as a bare date is its whole day, and
    today's runs through ``now`` (later ticks are the scheduler's)."""
    start_field, end_field = fields
    lo = instant(start_field, start, timetable)
    hi = instant(end_field, end, timetable, whole_day=True)
    if hi > now and instant(end_field, end, timetable) <= now:
        hi = now
    if hi < lo:
        raise SpecError([FieldError(end_field, f"is before {start_field}")])
    if hi > now:
        raise SpecError([FieldError(end_field, "is in the future: the scheduler runs those ticks")])
    return lo, hi


def open_backfill(
    db: Database,
    launcher: RunLauncher | None,
    *,
    spec: PipelineSpec,
    templates: Mapping[str, TemplateSpec],
    runner: str,
    lo: datetime,
    hi: datetime,
    project_id: int = DEFAULT_PROJECT_ID,
) -> Backfill:
    """A backfill already recorded (``Backfill.of`` began it), to step on: nothing is
    written until it steps."""
    assert spec.schedule is not None, "a backfill follows the pipeline's cron"
    with db.begin() as conn:
        pipeline_id = store.find_pipeline(conn, name=spec.name, project_id=project_id)
    if pipeline_id is None:
        raise NotFoundError(f"no pipeline '{spec.name}' (see `cube schedule list`)")
    params = resolve_params(spec, {})
    pipeline = Pipeline(pipeline_id, spec, templates, params, runner, project_id)
    return Backfill(
        db, launcher, pipeline=pipeline, timetable=timetable_of(spec.schedule), lo=lo, hi=hi
    )
