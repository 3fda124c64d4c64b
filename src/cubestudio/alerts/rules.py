"""Which events a move makes, and the deliveries the pipeline's alerts record for one.

Pure functions for the run controller: it calls them where a task's or the run's state
changes, and adds the rows to its turn, so a delivery is committed with the move that caused
it (and never when a fenced turn is rolled back).

Events:
- a task: ``retry`` when a failed attempt will be tried again (whatever failed it, its own
  timeout included: the message says why); once no try is left, ``timeout`` when its
  timeout killed the last attempt, else ``failure``; ``success`` when it succeeds. Tasks
  that never ran (upstream_failed, skipped, stopped) make no event.
- the run: ``success`` / ``failure`` when it ends so, ``timeout`` when the run's own timeout
  ended it, ``retry`` when `cube retry` or `cube rerun` opens it again. A stopped run makes
  none (someone stopped it).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cubestudio.engine.states import RUN_TERMINAL, RunState, TaskState
from cubestudio.spec.model import PipelineSpec


def task_event(before: TaskState, after: TaskState, *, timed_out: bool) -> str | None:
    """``timed_out``: the task's own timeout killed its latest attempt."""
    if before is TaskState.RUNNING and after in (TaskState.PENDING, TaskState.QUEUED):
        return "retry"
    if after is TaskState.FAILED:
        return "timeout" if timed_out else "failure"
    if after is TaskState.SUCCEEDED:
        return "success"
    return None


def run_event(before: RunState, after: RunState, *, timed_out: bool) -> str | None:
    if after is RunState.SUCCEEDED:
        return "success"
    if after is RunState.FAILED:
        return "timeout" if timed_out else "failure"
    # `cube retry` / `rerun` opened an ended run again: straight to running when this
    # process drives it, or back to pending for an engine service to claim.
    if before in RUN_TERMINAL and after not in RUN_TERMINAL:
        return "retry"
    return None


def delivery_rows(
    spec: PipelineSpec,
    *,
    event: str,
    run_id: str,
    task: str | None,
    attempt: int | None,
    status: str,
    message: str | None,
    execution_date: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """One pending delivery per alert of ``spec`` that matches (one per URL: two alerts
    naming the same receiver for the same event send it once). The payload is the event;
    the sender adds ``project``, ``run_url`` and ``sent_at`` when it posts it."""
    urls = list(dict.fromkeys(a.url for a in spec.alerts if a.matches(event, task)))
    if not urls:
        return []
    payload = json.dumps(
        {
            "event": event,
            "scope": "run" if task is None else "task",
            "pipeline": spec.name,
            "run_id": run_id,
            "task": task,
            "attempt": attempt,
            "status": status,
            "message": message,
            "execution_date": execution_date,
            "created_at": now.isoformat(),
        },
        sort_keys=True,
    )
    return [
        {
            "run_id": run_id,
            "task_name": task,
            "event": event,
            "url": url,
            "payload": payload,
            "next_try_at": now,
            "created_at": now,
        }
        for url in urls
    ]
