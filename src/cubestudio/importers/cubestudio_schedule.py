"""cube-studio pipeline settings -> ours: parallelism and the schedule.

``schedule_type: crontab`` with ``cron_time`` gives ``schedule.cron``; ``depends_on_past``,
``max_active_runs``, ``expired_limit`` and ``cronjob_start_time`` (kept in ``parameter`` by
cube-studio) go with it. A pipeline run ``once`` has no schedule: those fields are listed as
unmapped. The rest of ``parameter`` is cube-studio's UI settings (demo, cover image): not run
parameters, since its tasks cannot read them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cubestudio.importers.cubestudio import Ledger, convert, json_field
from cubestudio.spec.cron import parse_cron
from cubestudio.spec.template import ParameterType

_PARAMETER_REASONS = {
    "demo": "marks the pipeline as a demo in cube-studio's UI",
    "img": "the pipeline's cover image in cube-studio's UI",
}
_ONLY_WITH_SCHEDULE = "only a schedule uses it, and the pipeline has none (schedule_type once)"


def settings(meta: dict[str, Any], data: dict[str, Any], ledger: Ledger) -> None:
    """Parallelism and the schedule of ``meta`` (cube-studio's pipeline) into ``data``."""
    _parallelism(meta, data, ledger)
    schedule = _schedule(meta, _parameter(meta, ledger), ledger)
    if schedule:
        data["schedule"] = schedule


def _parallelism(meta: dict[str, Any], data: dict[str, Any], ledger: Ledger) -> None:
    if "parallelism" not in meta:
        return
    try:
        value = convert(meta["parallelism"], ParameterType.INT)
        if not 1 <= value <= 10_000:
            raise ValueError("parallelism is 1 to 10000 here")
    except ValueError as err:
        ledger.unmapped("pipeline.parallelism", meta["parallelism"], str(err))
        return
    data["parallelism"] = value
    ledger.mapped("pipeline.parallelism", "parallelism")


def _parameter(meta: dict[str, Any], ledger: Ledger) -> dict[str, Any]:
    """cube-studio's pipeline ``parameter``: settings of its UI and scheduler, not run
    parameters (tasks cannot read them)."""
    raw = json_field(meta.get("parameter", {}))
    if not isinstance(raw, dict):
        ledger.unmapped("pipeline.parameter", raw, "not a mapping")
        return {}
    if not raw and "parameter" in meta:
        ledger.mapped("pipeline.parameter", "(empty)")
    for key, value in raw.items():
        if key != "cronjob_start_time":
            reason = _PARAMETER_REASONS.get(
                key,
                "a setting of cube-studio's pipeline (not a run parameter): nothing here uses it",
            )
            ledger.unmapped(f"pipeline.parameter.{key}", value, reason)
    return raw


def _schedule(
    meta: dict[str, Any], parameter: dict[str, Any], ledger: Ledger
) -> dict[str, Any] | None:
    start_path = "pipeline.cronjob_start_time"
    start = meta.get("cronjob_start_time")
    if start is None and "cronjob_start_time" in parameter:
        start_path, start = "pipeline.parameter.cronjob_start_time", parameter["cronjob_start_time"]
    optional = {
        "depends_on_past": ParameterType.BOOL,
        "max_active_runs": ParameterType.INT,
        "expired_limit": ParameterType.INT,
    }
    cron = str(meta.get("cron_time") or "").strip()
    kind = meta.get("schedule_type")
    if "schedule_type" in meta:
        ledger.mapped(
            "pipeline.schedule_type", "schedule" if kind == "crontab" else "(no schedule)"
        )
    schedule: dict[str, Any] | None = None
    if kind == "crontab" and cron:
        try:
            parse_cron(cron)
            schedule = {"cron": cron}
            ledger.mapped("pipeline.cron_time", "schedule.cron")
        except ValueError as err:
            ledger.unmapped("pipeline.cron_time", cron, f"{err}: no schedule imported")
    elif cron:
        ledger.unmapped("pipeline.cron_time", cron, _ONLY_WITH_SCHEDULE)
    elif kind == "crontab":
        ledger.unmapped("pipeline.schedule_type", kind, "crontab without a cron_time")
    for field, kind_of in optional.items():
        if field in meta:
            _schedule_field(schedule, field, meta[field], kind_of, f"pipeline.{field}", ledger)
    if start is not None:
        _schedule_start(schedule, start, start_path, ledger)
    return schedule


def _schedule_field(
    schedule: dict[str, Any] | None,
    field: str,
    value: Any,
    kind: ParameterType,
    path: str,
    ledger: Ledger,
) -> None:
    if schedule is None:
        ledger.unmapped(path, value, _ONLY_WITH_SCHEDULE)
        return
    try:
        converted = convert(value, kind)
        if field == "max_active_runs" and converted < 1:
            raise ValueError("max_active_runs is at least 1 here")
        if field == "expired_limit" and converted < 0:
            raise ValueError("expired_limit is at least 0 here")
    except ValueError as err:
        ledger.unmapped(path, value, str(err))
        return
    schedule[field] = converted
    ledger.mapped(path, f"schedule.{field}")


def _schedule_start(schedule: dict[str, Any] | None, value: Any, path: str, ledger: Ledger) -> None:
    if schedule is None:
        ledger.unmapped(path, value, _ONLY_WITH_SCHEDULE)
        return
    try:
        datetime.fromisoformat(str(value).strip())
    except ValueError:
        ledger.unmapped(path, value, "not a date and time (YYYY-MM-DD HH:MM:SS)")
        return
    schedule["start"] = str(value).strip()
    ledger.mapped(path, "schedule.start")
