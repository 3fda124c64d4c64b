"""The scheduler's turn: ``tick(now)`` records every active schedule's due ticks and admits
their runs. Time is injected; ``service.py`` calls it with the wall clock.

Per pipeline, under its row lock (replicas skip a pipeline another one holds):
1. plan: the ticks after ``planned_through`` up to now become records, in batches of
   ``batch_size``, each batch committed with the cursor that follows it, so a scheduler killed
   at any instant resumes where the store says, with no tick doubled and none lost;
2. admit: waiting records get their runs (``admission.py``), committed with the records;
3. launch: after the commit, each new run goes to the launcher.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, RowMapping

from cubestudio.schedule.admission import Pipeline, admit
from cubestudio.schedule.launch import RunLauncher
from cubestudio.schedule.plan import iso_utc, ticks_to_record, timetable_of
from cubestudio.schedule.states import RecordStatus, RunTrigger
from cubestudio.schedule.timetable import Timetable
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.params import resolve_params
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import schedules as store
from cubestudio.store.db import Database

SKIPPED = "skipped: missed while no scheduler ran; catchup is off, so only the latest one runs"


@dataclass
class TickReport:
    recorded: Counter[str] = field(default_factory=Counter)  # ticks planned, by status
    launched: list[str] = field(default_factory=list)  # run ids launched (or left pending)
    busy: list[int] = field(default_factory=list)  # pipelines another replica held
    failed: dict[int, str] = field(default_factory=dict)  # pipeline id -> what went wrong
    next_tick: datetime | None = None  # the soonest tick still to come, over all schedules


@dataclass(frozen=True, slots=True)
class Applied:
    """A schedule row, parsed: the pipeline its runs are created from, and its ticks."""

    pipeline: Pipeline
    timetable: Timetable


class Scheduler:
    def __init__(
        self,
        db: Database,
        launcher: RunLauncher | None,
        *,
        batch_size: int = 5000,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        # None: runs are created and left pending for something else to drive (tests, or
        # an operator with `cube resume`); nothing is launched, nor launched again.
        self.launcher = launcher
        self.batch_size = batch_size
        self._log = log or (lambda _line: None)
        self._applied: dict[int, tuple[tuple[str, str], Applied]] = {}

    def tick(self, now: datetime) -> TickReport:
        report = TickReport()
        if self.launcher is not None:
            self.launcher.reap()
        with self.db.begin() as conn:
            pipeline_ids = store.active_schedule_ids(conn)
        for pipeline_id in pipeline_ids:
            try:
                self._serve(pipeline_id, now, report)
            except Exception as err:  # one broken pipeline must not stop the others
                report.failed[pipeline_id] = f"{type(err).__name__}: {err}"
                self._log(f"pipeline {pipeline_id}: turn failed, tried again next turn: {err}")
        return report

    def _serve(self, pipeline_id: int, now: datetime, report: TickReport) -> None:
        while True:
            with self.db.begin() as conn:
                if not store.lock_pipeline(conn, pipeline_id=pipeline_id, wait=False):
                    report.busy.append(pipeline_id)
                    return
                row = store.get_schedule(conn, pipeline_id=pipeline_id)
                if row is None or row["paused"]:
                    return
                applied = self._parse(row)
                if not self._record_batch(conn, row, applied, now, report):
                    continue  # more ticks: the next batch in its own transaction
                run_ids = admit(
                    conn,
                    pipeline=applied.pipeline,
                    trigger=RunTrigger.SCHEDULE,
                    now=now,
                    relaunch=self.launcher is not None,
                )
                break
        upcoming = applied.timetable.next_after(now, floor=row["start_at"])
        if upcoming is not None and (report.next_tick is None or upcoming < report.next_tick):
            report.next_tick = upcoming
        self._launch(applied.pipeline.spec.name, run_ids, report)

    def _record_batch(
        self,
        conn: Connection,
        row: RowMapping,
        applied: Applied,
        now: datetime,
        report: TickReport,
    ) -> bool:
        """Record the next batch of due ticks; True when none are left."""
        ticks = ticks_to_record(
            applied.timetable,
            start=row["start_at"],
            planned_through=row["planned_through"],
            now=now,
            catchup=applied.pipeline.schedule.catchup,
        )
        batch = list(islice(ticks, self.batch_size + 1))
        finished = len(batch) <= self.batch_size
        batch = batch[: self.batch_size]
        store.insert_records(conn, rows=[_record(row, tick, status, now) for tick, status in batch])
        report.recorded.update(status.value for _tick, status in batch)
        through = now if finished else batch[-1][0]
        # With no new tick, (planned_through, now] held none: leaving the cursor where it is
        # means the same and spares a write per pipeline per turn.
        moved = batch or row["planned_through"] is None
        if moved and (row["planned_through"] is None or through > row["planned_through"]):
            store.update_schedule(
                conn, pipeline_id=row["pipeline_id"], values={"planned_through": through}
            )
        if batch:
            name = applied.pipeline.spec.name
            self._log(f"{name}: recorded {len(batch)} ticks through {iso_utc(batch[-1][0])}")
        return finished

    def _parse(self, row: RowMapping) -> Applied:
        """Parsing a pipeline costs more than a turn: reuse it until it is applied again."""
        key = (row["spec"], row["applied_by"])
        cached = self._applied.get(row["pipeline_id"])
        if cached is not None and cached[0] == key:
            return cached[1]
        applied = parse_applied(row)
        self._applied[row["pipeline_id"]] = (key, applied)
        return applied

    def _launch(self, name: str, run_ids: list[str], report: TickReport) -> None:
        for run_id in run_ids:
            if self.launcher is None:
                report.launched.append(run_id)
                self._log(f"{name}: created run {run_id} (not launched)")
                continue
            try:
                self.launcher.launch(run_id)
            except OSError as err:
                self._log(f"{name}: could not launch run {run_id} ({err}); tried again in a minute")
                continue
            report.launched.append(run_id)
            self._log(f"{name}: launched run {run_id}")


def parse_applied(row: RowMapping) -> Applied:
    """The pipeline a schedule row holds: its spec and the templates pinned when applied."""
    data = json.loads(row["spec"])
    spec = pipeline_from_data(data["pipeline"], check=False)  # checked when applied
    templates = {
        ref: TemplateSpec.model_validate(template) for ref, template in data["templates"].items()
    }
    assert spec.schedule is not None, "only pipelines with a schedule are applied"
    pipeline = Pipeline(
        id=row["pipeline_id"],
        spec=spec,
        templates=templates,
        params=resolve_params(spec, {}),
        runner=row["applied_by"],
        project_id=row["project_id"],
    )
    return Applied(pipeline, timetable_of(spec.schedule))


def _record(row: RowMapping, tick: datetime, status: RecordStatus, now: datetime) -> dict[str, Any]:
    return {
        "pipeline_id": row["pipeline_id"],
        "execution_date": tick,
        "status": status.value,
        "trigger": RunTrigger.SCHEDULE.value,
        "message": SKIPPED if status is RecordStatus.SKIPPED else None,
        "created_at": now,
        "updated_at": now,
    }
