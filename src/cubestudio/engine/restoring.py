"""Taking a run over after a restart (part of the run controller, engine/controller.py):
each task's state from the store, each running attempt from the driver (adopted, collected,
lost or never started), and what each admitted task holds of the pool."""

from __future__ import annotations

import signal
from datetime import datetime
from typing import Any

from cubestudio.engine.controller_parts import ControllerParts
from cubestudio.engine.launcher import AttemptKey, Recovery
from cubestudio.engine.nodes import AttemptNode, TaskNode
from cubestudio.engine.states import TASK_TERMINAL, TaskState
from cubestudio.errors import RenderError


class Restoring(ControllerParts):
    def _has_unfinished(self) -> bool:
        return any(node.status not in TASK_TERMINAL for node in self.nodes)

    def _restore(self, node: TaskNode, now: datetime, allocation: Any | None) -> None:
        status = node.status
        attempt = node.attempt
        if allocation is not None:
            if status in (TaskState.QUEUED, TaskState.RUNNING) and self.gate is not None:
                grant = self.gate.adopt((self.run_id, node.name), allocation, now)
                if grant is not None:
                    self._grants[node.name] = grant
            else:
                self._batch.allocations_dropped.append(node.name)
        if status is TaskState.QUEUED:
            self._ready.append(node)
        elif status is TaskState.PENDING and node.next_try_at is not None:
            self._timers.set(node.next_try_at, "retry", node, node.attempts)
        elif status is TaskState.PENDING and not node.is_exit:
            if self._evaluate(node, now, cause=None):
                self._propagate(node, now)
        elif status is TaskState.RUNNING and attempt is not None:
            self._recover(node, attempt, now)

    def _recover(self, node: TaskNode, attempt: AttemptNode, now: datetime) -> None:
        key = AttemptKey(self.run_id, node.name, attempt.number)
        found = self.launcher.recover(key)
        if found is Recovery.NOT_STARTED:
            # Its launch was committed but never began: launch it now (the driver's claim
            # makes sure an old launcher still starting up cannot run it a second time).
            try:
                self._launches.append(self._request(node, attempt.number))
            except RenderError as err:  # rendered before; only uuid/datetime can differ now
                self._fail(node, now, None, f"cannot render the task's templates: {err}")
        elif found is Recovery.LOST:
            self._lost.add(key)
        if attempt.deadline is not None and attempt.kill_reason is None:
            self._timers.set(attempt.deadline, "timeout", node, attempt.number)
        if attempt.kill_reason is not None and attempt.kill_at is not None:
            self._signals.append((key, signal.SIGTERM))  # the intent may not have been acted on
            self._timers.set(attempt.kill_at, "kill", node, attempt.number)
