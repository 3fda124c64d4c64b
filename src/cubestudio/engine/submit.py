"""Handing runs to the engine service: what `cube submit` and the server do instead of driving
a run themselves. A new run is born leased to the submitting process, so no engine starts it
before its secrets are kept, then released; a retry or rerun puts the run's tasks back to
pending and the run back in the queue under a lease taken the same way; a stop is a request
recorded on the run. Each ends by waking the engines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from cubestudio.engine.launcher import Launcher
from cubestudio.engine.lease import Identity, take
from cubestudio.engine.lifecycle import (
    check_can_restart,
    create_run,
    get_run,
    load_controller,
    rerun_tasks,
    retry_tasks,
)
from cubestudio.engine.states import RUN_TERMINAL
from cubestudio.engine.wakeup import notify_sql, poke
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import leases as lease_store
from cubestudio.store import runs as runs_store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID

# Long enough for the writes between taking and releasing; an engine waits this long only
# if the submitting process dies in between.
HOLD_SECONDS = 30.0


def wake_engines(db: Database, home: Path) -> None:
    """Poke the engines on this host, and NOTIFY those elsewhere (PostgreSQL)."""
    poke(home)
    if db.engine.dialect.name == "postgresql":
        with db.begin() as conn:
            conn.execute(text(notify_sql()))


def submit_run(
    db: Database,
    *,
    spec: PipelineSpec,
    params: dict[str, Any],
    templates: Mapping[str, TemplateSpec],
    secrets: Mapping[str, str],
    save_secrets: Callable[[str, dict[str, str]], None],
    now: datetime,
    me: Identity,
    runner: str | None = None,
    project_id: int = DEFAULT_PROJECT_ID,
    pipeline_version: int | None = None,
) -> str:
    """Store a new run for the engine service; its id. The caller wakes the engines."""
    run_id = create_run(
        db,
        spec=spec,
        params=params,
        now=now,
        templates=templates,
        holder=me,
        lease_seconds=HOLD_SECONDS,
        runner=runner,
        project_id=project_id,
        pipeline_version=pipeline_version,
    )
    if secrets:
        save_secrets(run_id, dict(secrets))
    with db.begin() as conn:
        lease_store.release(conn, owner=me.instance, run_ids=[run_id], now=now, reason="submitted")
    return run_id


def requeue(
    db: Database,
    launcher: Launcher,
    *,
    run_id: str,
    from_task: str | None,
    now: datetime,
    me: Identity,
    **load_options: Any,
) -> list[str]:
    """`cube retry` (from_task None) or `cube rerun --from TASK` for the engine service: the
    tasks go back to pending in the same run, the run back to pending, unleased; the names
    of the tasks that will run again."""
    run = get_run(db, run_id)
    with db.begin() as conn:  # nobody else retries or drives it meanwhile
        lease = take(conn, run_id=run["id"], me=me, now=now, seconds=HOLD_SECONDS)
    try:
        controller = load_controller(db, launcher, run["id"], **load_options)
        check_can_restart(controller, run, "retry" if from_task is None else "rerun")
        names = retry_tasks(controller) if from_task is None else rerun_tasks(controller, from_task)
        controller.lease = lease
        controller.reset(names, now, requeue=True)
        with db.begin() as conn:
            controller.write_turn(conn, now)
    finally:
        with db.begin() as conn:
            lease_store.release(
                conn, owner=me.instance, run_ids=[run["id"]], now=now, reason="requeued"
            )
    return names


def request_stop(db: Database, *, run_id: str) -> bool:
    """Record a stop request; the engine driving the run (or the next to claim it) acts on
    it. False when the run had ended already."""
    with db.begin() as conn:
        row = runs_store.get_run(conn, run_id=run_id)
        if row["status"] in RUN_TERMINAL:
            return False
        runs_store.request_stop(conn, run_id=row["id"])
    return True
