"""The run's timers, kept as data (each also stored: a retry's ``next_try_at``, an attempt's
``deadline`` and ``kill_at``, the run's ``deadline``), in one heap.

A timer is never removed when it stops mattering (a task that ends before its timeout); it
is checked when it comes up, and dropped if it no longer applies.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from cubestudio.engine.nodes import TaskNode
from cubestudio.engine.states import AttemptState, TaskState


class Timer(NamedTuple):
    when: datetime
    seq: int  # ties in time fire in the order they were set
    kind: str  # "retry", "timeout", "kill" or "run_deadline"
    node: TaskNode | None
    token: int  # the attempt number the timer was set for


def still_applies(timer: Timer, *, run_active: bool) -> bool:
    if timer.kind == "run_deadline":
        return run_active
    node = timer.node
    assert node is not None
    if timer.kind == "retry":
        return node.status is TaskState.PENDING and node.next_try_at == timer.when
    attempt = node.attempt
    if attempt is None or attempt.number != timer.token:
        return False
    if attempt.status is not AttemptState.RUNNING:
        return False
    if timer.kind == "timeout":
        return attempt.kill_reason is None
    return attempt.kill_at == timer.when  # "kill": SIGKILL after the grace


class Timers:
    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = itertools.count()

    def set(self, when: datetime, kind: str, node: TaskNode | None, token: int) -> None:
        heapq.heappush(self._heap, Timer(when, next(self._seq), kind, node, token))

    def next_at(self, *, run_active: bool) -> datetime | None:
        """When the next timer that still applies fires."""
        while self._heap and not still_applies(self._heap[0], run_active=run_active):
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    def due(self, now: datetime, *, run_active: bool) -> Iterator[Timer]:
        """The timers due at ``now`` that still apply, in time order."""
        while self._heap and self._heap[0].when <= now:
            timer = heapq.heappop(self._heap)
            if still_applies(timer, run_active=run_active):
                yield timer
