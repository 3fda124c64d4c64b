"""Every run and task state, and the moves allowed between them, in one place.

``move`` is the only way a state changes: it checks the move and refuses with a sentence a
user can read. The controller persists what ``move`` returns in its next batch.
"""

from __future__ import annotations

from enum import StrEnum

from cubestudio.errors import StateError


class TaskState(StrEnum):
    PENDING = "pending"  # waiting on upstream tasks or on a retry delay
    QUEUED = "queued"  # ready, waiting for a parallelism slot
    RUNNING = "running"  # an attempt was launched (or is being launched)
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    STOPPED = "stopped"


class RunState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"


class AttemptState(StrEnum):
    RUNNING = "running"  # committed before launch: the driver's files say whether it began
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"


TASK_TERMINAL = frozenset(
    {
        TaskState.SUCCEEDED,
        TaskState.FAILED,
        TaskState.UPSTREAM_FAILED,
        TaskState.SKIPPED,
        TaskState.STOPPED,
    }
)
# Upstream outcomes that satisfy the default trigger rule (skip: true lets the DAG go on).
TASK_OK = frozenset({TaskState.SUCCEEDED, TaskState.SKIPPED})
TASK_BAD = frozenset({TaskState.FAILED, TaskState.UPSTREAM_FAILED, TaskState.STOPPED})
# What `cube retry` runs again; succeeded and skipped tasks keep their results.
TASK_RETRYABLE = frozenset({TaskState.FAILED, TaskState.UPSTREAM_FAILED, TaskState.STOPPED})
RUN_TERMINAL = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.STOPPED})

_P, _Q, _R = TaskState.PENDING, TaskState.QUEUED, TaskState.RUNNING
_TASK_MOVES: dict[TaskState, frozenset[TaskState]] = {
    _P: frozenset({_Q, TaskState.UPSTREAM_FAILED, TaskState.SKIPPED, TaskState.STOPPED}),
    _Q: frozenset({_R, TaskState.STOPPED, TaskState.FAILED}),
    # running -> pending is a retry waiting for its delay; -> queued a retry due at once.
    _R: frozenset({_P, _Q, TaskState.SUCCEEDED, TaskState.FAILED, TaskState.STOPPED}),
    # Terminal states leave only through `cube retry` / `cube rerun`, back to pending.
    TaskState.SUCCEEDED: frozenset({_P}),
    TaskState.FAILED: frozenset({_P}),
    TaskState.UPSTREAM_FAILED: frozenset({_P}),
    TaskState.SKIPPED: frozenset({_P}),
    TaskState.STOPPED: frozenset({_P}),
}
_RUN_MOVES: dict[RunState, frozenset[RunState]] = {
    RunState.PENDING: frozenset({RunState.RUNNING, RunState.STOPPED}),
    RunState.RUNNING: frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.STOPPED}),
    # retry and rerun: RUNNING driven here, PENDING when handed to the engine service
    RunState.SUCCEEDED: frozenset({RunState.RUNNING, RunState.PENDING}),  # rerun --from
    RunState.FAILED: frozenset({RunState.RUNNING, RunState.PENDING}),
    RunState.STOPPED: frozenset({RunState.RUNNING, RunState.PENDING}),
}


def check_task_move(name: str, current: TaskState, target: TaskState) -> None:
    if target not in _TASK_MOVES[current]:
        raise StateError(f"task '{name}' cannot go from {current} to {target}")


def check_run_move(run_id: str, current: RunState, target: RunState) -> None:
    if target not in _RUN_MOVES[current]:
        if current in RUN_TERMINAL and target in RUN_TERMINAL:
            raise StateError(f"run {run_id} already ended: it is {current}")
        raise StateError(f"run {run_id} cannot go from {current} to {target}")
