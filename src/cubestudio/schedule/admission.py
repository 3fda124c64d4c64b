"""Admission: which waiting records of one pipeline get their run now.

Called inside the transaction that holds the pipeline's lock. A record turns ``created`` and
its pending run appears in the same commit, so a run exists exactly once per record, however
the scheduler dies and however many replicas run. Launching (starting a process that drives
the run) happens after the commit; a run still pending long after its launch was recorded
is launched again.

Rules, in order: at most ``max_active_runs`` scheduled runs (schedule and backfill) pending or
running; with ``depends_on_past`` a run starts only once the run of the record before it
succeeded (manual runs have no record, so they never count). A record that waits says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping

from cubestudio.engine.lifecycle import insert_new_run
from cubestudio.engine.states import RUN_TERMINAL, RunState
from cubestudio.errors import StateError
from cubestudio.schedule.plan import iso_utc
from cubestudio.schedule.states import RecordStatus, RunTrigger
from cubestudio.spec.model import PipelineSpec, ScheduleSpec
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import schedules as store
from cubestudio.store.tables import DEFAULT_PROJECT_ID

ACTIVE_RUN_STATES = [state.value for state in RunState if state not in RUN_TERMINAL]
# A launched run that is still pending after this was never picked up (the launching
# process died first, or the machine did): launch it again. `cube resume` takes a run over
# within a second or two, so this never races a launch that is merely slow.
LAUNCH_GRACE = timedelta(seconds=60)
MAX_LAUNCHES = 3  # a run that fails to start three times needs a person, not a fourth try


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What admission needs to create a pipeline's runs."""

    id: int
    spec: PipelineSpec
    templates: Mapping[str, TemplateSpec]
    params: dict[str, Any]
    runner: str
    project_id: int = DEFAULT_PROJECT_ID  # its runs belong to the pipeline's project

    @property
    def schedule(self) -> ScheduleSpec:
        assert self.spec.schedule is not None, "only scheduled pipelines are admitted"
        return self.spec.schedule


def admit(
    conn: Connection,
    *,
    pipeline: Pipeline,
    trigger: RunTrigger,
    now: datetime,
    relaunch: bool = True,
) -> list[str]:
    """Create the runs that may start now; returns the run ids to launch after the commit:
    the new ones, and (with ``relaunch``) the ones a launch never reached."""
    again = _stale_launches(conn, pipeline_id=pipeline.id, now=now) if relaunch else []
    if trigger is RunTrigger.SCHEDULE and pipeline.schedule.expired_limit:
        _expire(conn, pipeline=pipeline, now=now)
    waiting = _oldest_waiting(conn, pipeline, trigger, limit=1)
    if not waiting:  # the common turn: nothing due since the last one
        return again
    active = store.count_runs(conn, pipeline_id=pipeline.id, run_statuses=ACTIVE_RUN_STATES)
    slots = pipeline.schedule.max_active_runs - active
    if slots > 0:  # one more than may start, to tell it why it waits
        waiting = _oldest_waiting(conn, pipeline, trigger, limit=slots + 1)
    created: list[str] = []
    for record in waiting:
        if len(created) >= slots:
            _say_why(conn, record, _full(conn, pipeline), now)
            break
        if pipeline.schedule.depends_on_past:
            blocker = _past_blocker(conn, pipeline_id=pipeline.id, record=record)
            if blocker:
                _say_why(conn, record, blocker, now)
                break
        created.append(_create(conn, pipeline=pipeline, record=record, trigger=trigger, now=now))
    return again + created


def _oldest_waiting(
    conn: Connection, pipeline: Pipeline, trigger: RunTrigger, *, limit: int
) -> list[RowMapping]:
    return store.oldest_records(
        conn,
        pipeline_id=pipeline.id,
        trigger=trigger.value,
        status=RecordStatus.COMED.value,
        limit=limit,
    )


def _create(
    conn: Connection, *, pipeline: Pipeline, record: RowMapping, trigger: RunTrigger, now: datetime
) -> str:
    run_id = insert_new_run(
        conn,
        spec=pipeline.spec,
        params=pipeline.params,
        now=now,
        trigger=trigger.value,
        execution_date=record["execution_date"],
        runner=pipeline.runner,
        templates=pipeline.templates,
        project_id=pipeline.project_id,
    )
    attached = store.attach_run(
        conn,
        record_id=record["id"],
        run_id=run_id,
        expect=RecordStatus.COMED.value,
        status=RecordStatus.CREATED.value,
        now=now,
    )
    if not attached:  # under the pipeline's lock nobody else moves its records: a bug
        raise StateError(
            f"record {record['id']} of pipeline {pipeline.spec.name} left comed while locked; "
            "its run is rolled back (please report this)"
        )
    return run_id


def _stale_launches(conn: Connection, *, pipeline_id: int, now: datetime) -> list[str]:
    pending = store.records_with_runs(
        conn, pipeline_id=pipeline_id, run_statuses=[RunState.PENDING.value]
    )
    again: list[str] = []
    for record in pending:
        launched = record["launched_at"]
        if launched is not None and launched > now - LAUNCH_GRACE:
            continue
        run_id = record["run_id"]
        if record["launches"] >= MAX_LAUNCHES:
            gave_up = (
                f"gave up launching run {run_id} after {MAX_LAUNCHES} tries: no engine "
                f"picked it up (is `cube engine` running? `cube engine status` tells); "
                f"`cube resume {run_id}` drives it by hand"
            )
            _say_why(conn, record, gave_up, now)
            continue
        message = f"launched again at {iso_utc(now)}: the run was not picked up"
        store.mark_launched(conn, record_id=record["id"], now=now, message=message)
        again.append(run_id)
    return again


def _expire(conn: Connection, *, pipeline: Pipeline, now: datetime) -> None:
    keep = pipeline.schedule.expired_limit
    trigger, comed = RunTrigger.SCHEDULE.value, RecordStatus.COMED.value
    oldest_kept = store.nth_newest(
        conn, pipeline_id=pipeline.id, trigger=trigger, status=comed, n=keep
    )
    if oldest_kept is not None:
        store.move_older(
            conn,
            pipeline_id=pipeline.id,
            trigger=trigger,
            status=comed,
            before=oldest_kept,
            to_status=RecordStatus.EXPIRED.value,
            message=f"expired: only the {keep} newest waiting records are kept (expired_limit)",
            now=now,
        )


def _full(conn: Connection, pipeline: Pipeline) -> str:
    active = store.records_with_runs(
        conn, pipeline_id=pipeline.id, run_statuses=ACTIVE_RUN_STATES, limit=4
    )
    listed = ", ".join(r["run_id"] for r in active[:3]) + (" ..." if len(active) > 3 else "")
    return f"waiting: max_active_runs is {pipeline.schedule.max_active_runs} (active: {listed})"


def _past_blocker(conn: Connection, *, pipeline_id: int, record: RowMapping) -> str | None:
    """Why depends_on_past holds this record back, or None when its past succeeded."""
    previous = store.previous_record(
        conn,
        pipeline_id=pipeline_id,
        before=record["execution_date"],
        statuses=[RecordStatus.COMED.value, RecordStatus.CREATED.value],
    )
    if previous is None or previous["run_status"] == RunState.SUCCEEDED.value:
        return None
    when = iso_utc(previous["execution_date"])
    if previous["run_id"] is None:
        return f"waiting: depends_on_past, and the run for {when} has not started"
    run_id, status = previous["run_id"], previous["run_status"]
    if status in ACTIVE_RUN_STATES:
        return f"waiting: depends_on_past, and the run for {when} (run {run_id}) is {status}"
    return (
        f"waiting: depends_on_past, and the run for {when} (run {run_id}) {status}; "
        f"`cube retry {run_id}` and, once it succeeds, this one starts"
    )


def _say_why(conn: Connection, record: RowMapping, message: str, now: datetime) -> None:
    if record["message"] != message:  # unchanged reasons are not written again every turn
        store.set_message(conn, record_id=record["id"], message=message, now=now)
