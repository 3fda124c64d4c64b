"""Trigger rules: given how a pending task's upstream tasks ended, what becomes of it.

Pure: a verdict from the task's counters, which the controller applies with one move.
"""

from __future__ import annotations

from typing import NamedTuple

from cubestudio.engine.nodes import TaskNode
from cubestudio.engine.states import TaskState
from cubestudio.spec.model import Trigger


class Verdict(NamedTuple):
    target: TaskState | None  # None: keep waiting
    message: str | None = None


WAIT = Verdict(None)


def verdict(node: TaskNode, *, stopping: bool, cause: str | None) -> Verdict:
    """``cause``: the upstream task that just ended badly, for the message."""
    rule = node.spec.trigger
    if stopping and not node.is_exit:  # a stopped run starts nothing new but its exit task
        if node.waiting == 0 or node.n_bad:
            return Verdict(TaskState.STOPPED, "the run was stopped")
        return WAIT
    if rule is Trigger.ALL_SUCCESS and node.n_bad:
        return Verdict(
            TaskState.UPSTREAM_FAILED,
            f"upstream task '{cause or 'an upstream task'}' did not succeed",
        )
    if rule is Trigger.ONE_FAILED and not node.n_bad and node.waiting == 0:
        return Verdict(TaskState.SKIPPED, "no upstream task failed (trigger: one_failed)")
    ready = node.waiting == 0 if rule is not Trigger.ONE_FAILED else node.n_bad > 0
    if not ready:
        return WAIT
    if node.spec.skip:
        return Verdict(TaskState.SKIPPED, "skip: true")
    return Verdict(TaskState.QUEUED)
