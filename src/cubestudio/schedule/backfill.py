"""`cube backfill FILE --start --end`: the scheduled runs of a past range, created by hand.

Every tick ``start <= T <= end`` gets a record with trigger ``backfill`` (a tick that already
has a record, scheduled or backfilled, keeps it: never a second run for one execution date).
Their runs are admitted like scheduled ones (max_active_runs counts both kinds, and
depends_on_past holds), so the command stays until the range is done, as Airflow's does.
Run it again after an interruption: it carries on with the records left waiting.
``preview_backfill`` counts the runs a range will create, storing nothing, to ask first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from cubestudio.schedule.admission import ACTIVE_RUN_STATES, Pipeline, admit
from cubestudio.schedule.launch import RunLauncher
from cubestudio.schedule.plan import NewRuns, iso_utc, timetable_of
from cubestudio.schedule.states import RecordStatus, RunTrigger
from cubestudio.schedule.timetable import Timetable
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.params import resolve_params
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import runs as runs_store
from cubestudio.store import schedules as store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID

BATCH = 5000


@dataclass
class BackfillState:
    """Where a backfill stands after one step."""

    launched: list[str] = field(default_factory=list)  # run ids launched in this step
    waiting: int = 0  # backfill records still waiting for their run
    active: int = 0  # backfill runs pending or running
    others_active: int = 0  # scheduled runs of the pipeline pending or running
    reason: str | None = None  # why the first waiting record waits, when it says

    @property
    def done(self) -> bool:
        return self.waiting == 0 and self.active == 0

    @property
    def stuck(self) -> bool:
        """Records wait, yet no run of the pipeline is active to free them (a failed run that
        depends_on_past waits for): waiting longer changes nothing."""
        return self.waiting > 0 and self.active == 0 and self.others_active == 0


def preview_backfill(
    db: Database,
    *,
    spec: PipelineSpec,
    lo: datetime,
    hi: datetime,
    project_id: int = DEFAULT_PROJECT_ID,
) -> NewRuns:
    """The runs a backfill of ``lo <= T <= hi`` will create: the range's ticks that have no
    record yet. Reads only."""
    assert spec.schedule is not None, "a backfill follows the pipeline's cron"
    timetable = timetable_of(spec.schedule)
    existing: set[datetime] = set()
    with db.begin() as conn:
        pipeline_id = store.find_pipeline(conn, name=spec.name, project_id=project_id)
        if pipeline_id is not None:
            existing = store.record_dates(conn, pipeline_id=pipeline_id, lo=lo, hi=hi)
    return NewRuns(lambda: timetable.ticks_between(lo, hi), existing)


class Backfill:
    @classmethod
    def of(
        cls,
        db: Database,
        launcher: RunLauncher | None,
        *,
        spec: PipelineSpec,
        templates: Mapping[str, TemplateSpec],
        runner: str,
        lo: datetime,
        hi: datetime,
        now: datetime,
        project_id: int = DEFAULT_PROJECT_ID,
    ) -> Backfill:
        """A backfill of a pipeline file (recorded as the pipeline's latest definition)."""
        assert spec.schedule is not None, "a backfill follows the pipeline's cron"
        with db.begin() as conn:
            pipeline_id, _creator = runs_store.record_pipeline(
                conn, spec=spec, creator=runner, now=now, project_id=project_id
            )
        params = resolve_params(spec, {})
        pipeline = Pipeline(pipeline_id, spec, templates, params, runner, project_id)
        return cls(
            db, launcher, pipeline=pipeline, timetable=timetable_of(spec.schedule), lo=lo, hi=hi
        )

    def __init__(
        self,
        db: Database,
        launcher: RunLauncher | None,  # None: runs are created and left pending
        *,
        pipeline: Pipeline,
        timetable: Timetable,
        lo: datetime,
        hi: datetime,
    ) -> None:
        self.db = db
        self.launcher = launcher
        self.pipeline = pipeline
        self.timetable = timetable
        self.lo, self.hi = lo, hi

    def record(self, now: datetime) -> tuple[int, int]:
        """Record the range's ticks; returns (ticks in the range, ticks that had a record)."""
        with self.db.begin() as conn:
            before = store.count_records(conn, pipeline_id=self.pipeline.id, lo=self.lo, hi=self.hi)
        ticks = self.timetable.ticks_between(self.lo, self.hi)
        total = 0
        while batch := list(islice(ticks, BATCH)):
            total += len(batch)
            with self.db.begin() as conn:
                store.insert_records(conn, rows=[self._row(tick, now) for tick in batch])
        return total, before

    def step(self, now: datetime) -> BackfillState:
        """Admit what may start now and launch it. A step that looks stuck is taken once
        more: runs that ended between its admission and its count (fast ones do) freed
        records that only a second admission sees; nothing is active by then, so its answer
        stands."""
        state = self._step(now)
        if state.stuck:
            again = self._step(now)
            again.launched = state.launched + again.launched
            return again
        return state

    def _step(self, now: datetime) -> BackfillState:
        with self.db.begin() as conn:
            store.lock_pipeline(conn, pipeline_id=self.pipeline.id, wait=True)
            run_ids = admit(
                conn,
                pipeline=self.pipeline,
                trigger=RunTrigger.BACKFILL,
                now=now,
                relaunch=self.launcher is not None,
            )
        if self.launcher is not None:
            self.launcher.reap()
            for run_id in run_ids:
                self.launcher.launch(run_id)
        state = self.state()
        state.launched = run_ids
        return state

    def state(self) -> BackfillState:
        backfill = RunTrigger.BACKFILL.value
        with self.db.begin() as conn:
            waiting = store.count_records(
                conn,
                pipeline_id=self.pipeline.id,
                lo=self.lo,
                hi=self.hi,
                trigger=backfill,
                statuses=[RecordStatus.COMED.value],
            )
            head = store.oldest_records(
                conn,
                pipeline_id=self.pipeline.id,
                trigger=backfill,
                status=RecordStatus.COMED.value,
                limit=1,
            )
            active = store.count_runs(
                conn, pipeline_id=self.pipeline.id, run_statuses=ACTIVE_RUN_STATES
            )
            active_backfills = store.count_runs(
                conn,
                pipeline_id=self.pipeline.id,
                run_statuses=ACTIVE_RUN_STATES,
                trigger=backfill,
            )
        return BackfillState(
            waiting=waiting,
            active=active_backfills,
            others_active=active - active_backfills,
            reason=head[0]["message"] if head else None,
        )

    def records(self) -> list[dict[str, object]]:
        """The range's records, oldest first, with their runs, as plain data."""
        with self.db.begin() as conn:
            rows = store.list_records(
                conn, pipeline_id=self.pipeline.id, lo=self.lo, hi=self.hi, oldest_first=True
            )
        return [
            {
                "execution_date": iso_utc(row["execution_date"]),
                "status": row["status"],
                "trigger": row["trigger"],
                "run_id": row["run_id"],
                "run_status": row["run_status"],
            }
            for row in rows
        ]

    def drive(
        self,
        *,
        clock: Callable[[], datetime],
        poll: float = 0.5,
        on_launch: Callable[[str], None] = lambda _run_id: None,
    ) -> BackfillState:
        """Step until every record of the range has its run and those runs ended, or until
        nothing can change any more (stuck). Without a launcher, one step."""
        while True:
            state = self.step(clock())
            for run_id in state.launched:
                on_launch(run_id)
            if self.launcher is None or state.done or state.stuck:
                return state
            time.sleep(poll)

    def _row(self, tick: datetime, now: datetime) -> dict[str, object]:
        return {
            "pipeline_id": self.pipeline.id,
            "execution_date": tick,
            "status": RecordStatus.COMED.value,
            "trigger": RunTrigger.BACKFILL.value,
            "message": None,
            "created_at": now,
            "updated_at": now,
        }
