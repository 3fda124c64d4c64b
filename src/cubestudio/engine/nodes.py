"""The in-memory DAG of one run, rebuilt from the store whenever an engine starts.

Each task keeps counts of its upstream outcomes, so a finished task touches only its direct
downstream tasks: no step scans the whole DAG per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cubestudio.engine.artifacts import StoredArtifact
from cubestudio.engine.states import TASK_BAD, TASK_OK, TASK_TERMINAL, AttemptState, TaskState
from cubestudio.spec.model import TaskSpec


@dataclass(slots=True, eq=False)
class AttemptNode:
    number: int
    status: AttemptState
    started_at: datetime
    exit_code: int | None = None
    finished_at: datetime | None = None
    deadline: datetime | None = None
    kill_reason: str | None = None
    kill_at: datetime | None = None
    message: str | None = None
    outputs: dict[str, str] | None = None
    engine_id: str | None = None  # the engine that launched it (written once, on insert)

    def row(self, run_id: str, task: str) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "task_name": task,
            "number": self.number,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "deadline": self.deadline,
            "kill_reason": self.kill_reason,
            "kill_at": self.kill_at,
            "message": self.message,
            "outputs": _json(self.outputs),
            "engine_id": self.engine_id,
        }


@dataclass(slots=True, eq=False)
class TaskNode:
    spec: TaskSpec
    position: int
    is_exit: bool
    status: TaskState = TaskState.PENDING
    attempts: int = 0
    retry_base: int = 0
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    next_try_at: datetime | None = None
    message: str | None = None
    outputs: dict[str, str] | None = None
    upstream: list[TaskNode] = field(default_factory=list)
    downstream: list[TaskNode] = field(default_factory=list)
    waiting: int = 0  # upstream tasks not yet finished
    n_ok: int = 0  # upstream tasks that succeeded or were skipped
    n_bad: int = 0  # upstream tasks that failed, upstream_failed or stopped
    attempt: AttemptNode | None = None  # the latest attempt
    artifacts: dict[str, StoredArtifact] | None = None  # of the attempt that succeeded

    @property
    def name(self) -> str:
        return self.spec.name

    def row(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "status": self.status.value,
            "attempts": self.attempts,
            "retry_base": self.retry_base,
            "exit_code": self.exit_code,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "next_try_at": self.next_try_at,
            "message": self.message,
            "outputs": _json(self.outputs),
        }


def count_upstream(nodes: list[TaskNode]) -> None:
    for node in nodes:
        node.waiting = sum(1 for up in node.upstream if up.status not in TASK_TERMINAL)
        node.n_ok = sum(1 for up in node.upstream if up.status in TASK_OK)
        node.n_bad = sum(1 for up in node.upstream if up.status in TASK_BAD)


def _json(value: dict[str, str] | None) -> str | None:
    import json

    return None if value is None else json.dumps(value, sort_keys=True)
