"""Timers, kills and stopping (part of the run controller, engine/controller.py): retry
delays, task and run timeouts, SIGTERM then SIGKILL after the grace, and a run's stop."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta

from cubestudio.engine.controller_parts import RUN_TIMEOUT, STOP, TIMEOUT, ControllerParts
from cubestudio.engine.launcher import AttemptKey
from cubestudio.engine.nodes import TaskNode
from cubestudio.engine.states import TaskState


class Stopping(ControllerParts):
    def _fire_timers(self, now: datetime) -> None:
        for timer in self._timers.due(now, run_active=self._run_active):
            kind, node = timer.kind, timer.node
            if kind == "run_deadline":
                self._begin_stop(now, RUN_TIMEOUT)
            elif kind == "retry" and node is not None:
                if self._stopping and not node.is_exit:
                    self._settle(node, TaskState.STOPPED, now, "the run was stopped")
                else:
                    self._move(node, TaskState.QUEUED, now, next_try_at=None)
                    self._ready.append(node)
            elif kind == "timeout" and node is not None:
                self._kill(node, now, TIMEOUT)
            elif kind == "kill" and node is not None and node.attempt is not None:
                key = AttemptKey(self.run_id, node.name, node.attempt.number)
                self._signals.append((key, signal.SIGKILL))

    def _kill(self, node: TaskNode, now: datetime, reason: str) -> None:
        """Commit the intent (reason, when SIGKILL follows), then SIGTERM the group."""
        attempt = node.attempt
        assert attempt is not None
        if attempt.kill_reason == reason or (attempt.kill_reason and reason == TIMEOUT):
            return
        first = attempt.kill_reason is None
        attempt.kill_reason = reason
        self._batch.attempt_changed(node.name, attempt)
        if first:
            attempt.kill_at = now + timedelta(seconds=self.kill_grace)
            self._timers.set(attempt.kill_at, "kill", node, attempt.number)
            key = AttemptKey(self.run_id, node.name, attempt.number)
            self._signals.append((key, signal.SIGTERM))
            self._note(key, f"sending SIGTERM to the task ({reason})")

    def _begin_stop(self, now: datetime, reason: str) -> None:
        if self.done:
            return
        if self._stopping is None:
            self._stopping = reason
            if reason == RUN_TIMEOUT:
                self.message = f"the run timed out after {seconds_text(self.spec.timeout)}"
                self._batch.run["message"] = self.message
            for node in self.nodes:  # once per run: a stop may touch every task
                if node.is_exit:
                    continue
                if node.status in (TaskState.PENDING, TaskState.QUEUED):
                    self._settle(node, TaskState.STOPPED, now, "the run was stopped")
        for node in self.nodes:  # a running exit task is killed too: nothing else is left
            if node.status is TaskState.RUNNING:
                self._kill(node, now, STOP if reason == STOP else RUN_TIMEOUT)


def seconds_text(value: float | None) -> str:
    return f"{value:g}s" if value is not None else "?"
