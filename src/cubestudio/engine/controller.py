"""The run controller: drives one run's DAG to the end, one turn (``tick``) at a time.

A turn collects the attempts that ended, fires the timers that are due (retry delays, task and
run timeouts, SIGKILL after the grace period), launches ready tasks up to the run's
parallelism, and commits every move of the turn in one transaction. Only then does it act:
launch processes, send signals. After a crash the store says what was intended and the
driver's files say what happened (see ``start``).

Time is injected: ``tick(now)`` never reads the clock, so tests drive retries and timeouts
without sleeping.
"""

from __future__ import annotations

import signal
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from cubestudio.alerts.rules import delivery_rows, run_event, task_event
from cubestudio.engine import demands, failpoints
from cubestudio.engine.admission import Grant
from cubestudio.engine.artifacts import ArtifactError, ArtifactStore
from cubestudio.engine.batch import TurnBatch
from cubestudio.engine.controller_parts import RUN_TIMEOUT, STOP, TIMEOUT
from cubestudio.engine.gate import AdmissionGate
from cubestudio.engine.handover import artifact_rows, keep_artifacts, place_inputs
from cubestudio.engine.launcher import AttemptKey, Launcher, LaunchRequest, Outcome
from cubestudio.engine.launching import Launching
from cubestudio.engine.lease import Identity, Lease, LeaseLost, take
from cubestudio.engine.nodes import TaskNode, count_upstream
from cubestudio.engine.restoring import Restoring
from cubestudio.engine.rules import verdict
from cubestudio.engine.states import (
    TASK_BAD,
    TASK_OK,
    TASK_TERMINAL,
    AttemptState,
    RunState,
    TaskState,
    check_run_move,
    check_task_move,
)
from cubestudio.engine.stopping import Stopping, seconds_text
from cubestudio.engine.timers import Timers
from cubestudio.logs.mask import mask_values
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import leases as lease_store
from cubestudio.store import runs as store
from cubestudio.store.db import Database


def describe_exit(code: int | None) -> str:
    if code is None:
        return "the attempt ended without an exit status (its process group was killed)"
    if code == 127:
        return "exit code 127: command not found"
    if code == 126:
        return "exit code 126: command not executable"
    if code > 128:
        try:
            name = signal.Signals(code - 128).name
        except ValueError:
            name = f"signal {code - 128}"
        return f"exit code {code}: killed by {name}"
    return f"exit code {code}"


class RunController(Launching, Stopping, Restoring):
    def __init__(
        self,
        *,
        db: Database,
        launcher: Launcher,
        run: dict[str, Any],
        spec: PipelineSpec,
        nodes: list[TaskNode],
        base_context: dict[str, Any],
        kill_grace: float,
        templates: dict[str, TemplateSpec] | None = None,
        artifacts: ArtifactStore | None = None,
        secrets: dict[str, str] | None = None,
        lease_seconds: float = 15.0,
        gate: AdmissionGate | None = None,
        queue: str = "default",
    ) -> None:
        self.db = db
        self.launcher = launcher
        self.run_id: str = run["id"]
        self.status = RunState(run["status"])
        self.started_at: datetime | None = run["started_at"]
        self.finished_at: datetime | None = run["finished_at"]
        self.deadline: datetime | None = run["deadline"]
        self.message: str | None = run["message"]
        self.stop_requested: bool = bool(run["stop_requested"])
        self.spec = spec
        self.nodes = nodes
        self.by_name = {node.name: node for node in nodes}
        self.exit_node = next((n for n in nodes if n.is_exit), None)
        self.base_context = base_context
        self.kill_grace = kill_grace
        self.templates = templates or {}  # pinned when the run was created, by reference
        self.artifacts = artifacts
        # Values of the pipeline's secret env vars: given by the process that created the run,
        # else read back from where that process kept them (see start).
        self._secrets = secrets
        self.counts: dict[TaskState, int] = dict.fromkeys(TaskState, 0)
        for node in nodes:
            self.counts[node.status] += 1
        self._ready: deque[TaskNode] = deque()
        self._timers = Timers()
        self._stopping: str | None = None
        self._lost: set[AttemptKey] = set()
        self._batch = TurnBatch(self.run_id)  # what the current turn changed
        self._launches: list[LaunchRequest] = []
        self._signals: list[tuple[AttemptKey, int]] = []
        self._after_commit: list[tuple[str, str]] = []
        self._launch_failures: list[tuple[AttemptKey, str]] = []
        self._notes: list[tuple[AttemptKey, str]] = []  # log lines, written after the commit
        self.lease: Lease | None = None
        self._self_renew = False
        self.lease_seconds = lease_seconds
        # Admission (engine/gate.py): None admits every task at once (tests' fake drivers).
        self.gate = gate
        self.queue = queue  # the project's queue
        self._admitting: dict[str, TaskNode] = {}  # submitted, waiting for a grant
        self._grants: dict[str, Grant] = {}  # held by a task's running attempt

    # -- public -----------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.status in (RunState.SUCCEEDED, RunState.FAILED, RunState.STOPPED)

    def start(
        self, now: datetime, *, lease: Lease | None = None, me: Identity | None = None
    ) -> None:
        """Take the run over (fresh, or after its engine died) and make the first moves.

        ``lease``: the engine service claimed the run already; else this process takes the
        lease itself (as ``me``, by default a one-run CLI identity)."""
        self.begin(now, lease=lease, me=me)
        self._write_and_act(now)

    def begin(
        self, now: datetime, *, lease: Lease | None = None, me: Identity | None = None
    ) -> None:
        """``start`` up to its first turn's moves, in memory: the caller writes them
        (``write_turn``) and acts (``act``), as the engine service does for a whole batch of
        runs it claimed, in one transaction."""
        self._claim(now, lease, me)
        if self.spec.secrets:
            # Values kept when the run began win over what this engine was given, so that
            # every attempt of a run sees the same secrets.
            kept = self.launcher.load_secrets(self.run_id)
            self._secrets = {**(self._secrets or {}), **kept}
            if self._secrets != kept:
                self.launcher.save_secrets(self.run_id, self._secrets)
        if self.status is RunState.PENDING or (self.done and self._has_unfinished()):
            self._set_run(RunState.RUNNING, now)
            self._batch.run["started_at"] = self.started_at = self.started_at or now
            if self.spec.timeout is not None:
                self.deadline = now + timedelta(seconds=self.spec.timeout)
                self._batch.run["deadline"] = self.deadline
        if self.deadline is not None:
            self._timers.set(self.deadline, "run_deadline", None, 0)
        held = self._held_allocations()
        for node in self.nodes:
            self._restore(node, now, held.pop(node.name, None))
        self._batch.allocations_dropped += list(held)  # stale: their tasks hold nothing
        if self.stop_requested:
            self._begin_stop(now, STOP)
        self._maybe_start_exit_task(now)
        self.advance(now, [])

    def _claim(self, now: datetime, lease: Lease | None, me: Identity | None) -> None:
        """Hold the run's lease, compare-and-set: two `cube resume` started at once cannot
        both drive it, nor can anyone while a live engine holds it."""
        # An engine service renews all its leases in one statement; a one-run process
        # renews its own, in its turn's transaction.
        self._self_renew = lease is None
        if lease is None:
            with self.db.begin() as conn:
                lease = take(
                    conn,
                    run_id=self.run_id,
                    me=me or Identity.for_cli(),
                    now=now,
                    seconds=self.lease_seconds,
                )
        self.lease = lease

    def tick(self, now: datetime) -> None:
        """One turn at time ``now``: this controller's own poll, commit and act."""
        self._turn(now, self.launcher.poll())

    def request_stop(self, now: datetime) -> None:
        """Stop the run: pending tasks will not start; running ones get SIGTERM, then SIGKILL."""
        if not self.stop_requested:
            self.stop_requested = True
            self._batch.run["stop_requested"] = True
        self._begin_stop(now, STOP)

    def reset(self, names: list[str], now: datetime, *, requeue: bool = False) -> None:
        """Send finished tasks back to pending for `cube retry` / `cube rerun`: new attempts
        in the same run; earlier attempts, their logs and outputs stay. Retries count anew.
        ``requeue``: the run goes back to pending too, for the engine service to claim."""
        if requeue:
            self._set_run(RunState.PENDING, now)
        exit_names = [self.exit_node.name] if self.exit_node else []
        for name in [*names, *exit_names]:
            node = self.by_name[name]
            if node.status is TaskState.PENDING:
                continue
            self._move(
                node,
                TaskState.PENDING,
                now,
                retry_base=node.attempts,
                exit_code=None,
                started_at=None,
                finished_at=None,
                next_try_at=None,
                message=None,
                outputs=None,
            )
        count_upstream(self.nodes)
        self.stop_requested = False
        self.message = self.finished_at = None
        self._batch.run.update(stop_requested=False, message=None, finished_at=None)

    def check_stop_request(self, now: datetime) -> None:
        with self.db.begin() as conn:
            if store.stop_requested(conn, run_id=self.run_id):
                self.stop_requested = True
        if self.stop_requested:
            self._begin_stop(now, STOP)

    @property
    def stuck(self) -> bool:
        """Nothing runs, nothing is ready, no timer is set, yet the run has not ended: no
        event can ever come. A bug, reported instead of waiting forever."""
        return (
            not self.done
            and self.counts[TaskState.RUNNING] == 0
            and not self._ready
            and not self._admitting
            and self._timers.next_at(run_active=self._run_active) is None
        )

    @property
    def _run_active(self) -> bool:
        """Whether the run's own deadline still matters."""
        return not self.done and self._stopping is None

    def seconds_until_timer(self, now: datetime) -> float | None:
        if self._launch_failures:
            return 0.0
        if self._ready and self._slots_left() > 0:
            return 0.0
        when = self._timers.next_at(run_active=self._run_active)
        if self.gate is not None and (self.gate.has_news(self.run_id) or self.gate.due()):
            return 0.0
        if self._admitting:  # others' releases are seen at the gate's next look
            poll = now + timedelta(seconds=self.gate.poll_seconds if self.gate else 1.0)
            when = poll if when is None else min(when, poll)
        if self.lease is not None and self._self_renew and not self.done:  # renew in time
            renew = self.lease.expires_at - timedelta(seconds=self.lease.seconds * 2 / 3)
            when = renew if when is None else min(when, renew)
        return None if when is None else max(0.0, (when - now).total_seconds())

    # -- one turn ---------------------------------------------------------------------------
    def _turn(self, now: datetime, outcomes: list[Outcome]) -> None:
        self.advance(now, outcomes)
        self._write_and_act(now)

    def _write_and_act(self, now: datetime) -> None:
        gate_due = self.gate is not None and (self.gate.due() or self.gate.has_news(self.run_id))
        if not self._batch.empty or self._renew_due(now) or gate_due:
            with self.db.turn() as conn:
                self.write_turn(conn, now)
        self.act()

    def advance(self, now: datetime, outcomes: list[Outcome]) -> None:
        """The moves of one turn, in memory and in the batch: nothing is written or done."""
        failures, self._launch_failures = self._launch_failures, []
        for key, message in failures:
            node = self.by_name[key.task]
            if node.attempt is not None and node.attempt.number == key.number:
                self._fail(node, now, None, message)
        for outcome in outcomes:
            self._finish_attempt(outcome, now)
        self._fire_timers(now)
        self._launch_ready(now)
        self._maybe_finish_run(now)

    def write_turn(self, conn: Connection, now: datetime, *, fenced: bool = False) -> None:
        """Write the turn in the caller's transaction, first of all the lease's fence:
        LeaseLost when another engine took the run (the caller rolls back, nothing is
        acted on, and this controller must be dropped). ``fenced``: the caller fenced this
        run's lease already in this transaction, with those of other runs (one statement)."""
        if self.lease is not None and fenced:
            self.lease.expires_at = self.lease.renewed_until(now)
        elif self.lease is not None:
            try:
                self.lease.fence(conn, now)
            except LeaseLost:
                self._drop_intents()
                raise
        if self.gate is not None:
            if self.gate.due():
                self.gate.decide(conn, now)
            self._apply_admission(now)
        self._batch.write(conn)
        if self.done and self.lease is not None:
            lease_store.release(
                conn, owner=self.lease.owner, run_ids=[self.run_id], now=now, reason="finished"
            )

    def _renew_due(self, now: datetime) -> bool:
        if self.lease is None or not self._self_renew:
            return False
        return now >= self.lease.expires_at - timedelta(seconds=self.lease.seconds * 2 / 3)

    def _drop_intents(self) -> None:
        self._launches.clear()
        self._signals.clear()
        self._after_commit.clear()
        self._notes.clear()

    def act(self) -> None:
        """Side effects, strictly after the commit that announced them."""
        self._batch.clear()  # committed: the next turn's writes start afresh
        if self.gate is not None:
            self.gate.committed()
        notes, self._notes = self._notes, []
        for key, line in notes:
            self.launcher.note(key, line)
        for point, task in self._after_commit:
            failpoints.hit(point, task)
        self._after_commit.clear()
        launches, self._launches = self._launches, []
        for request in launches:
            failpoints.hit("before_launch", request.key.task)
            problem = place_inputs(self.artifacts, self.launcher, self.by_name, request.key)
            if problem:
                self.launcher.note(request.key, problem)
                self._launch_failures.append((request.key, problem))
                continue
            self.launcher.launch(request)
            failpoints.hit("after_launch", request.key.task)
        signals, self._signals = self._signals, []
        for key, signum in signals:
            self.launcher.signal(key, signum)

    # -- moves ------------------------------------------------------------------------------
    def _move(self, node: TaskNode, target: TaskState, now: datetime, **fields: Any) -> None:
        """The one place a task's state changes."""
        check_task_move(node.name, node.status, target)
        before = node.status
        if node.name in self._admitting and target is not TaskState.QUEUED:
            del self._admitting[node.name]  # it will not start now (stopped, say)
            if self.gate is not None:
                self.gate.withdraw((self.run_id, node.name))
        self.counts[node.status] -= 1
        self.counts[target] += 1
        node.status = target
        for name, value in fields.items():
            setattr(node, name, value)
        if target in TASK_TERMINAL:
            node.finished_at = now
        self._batch.tasks[node.name] = node
        if self.spec.alerts:
            timed_out = node.attempt is not None and node.attempt.kill_reason == TIMEOUT
            self._alert(task_event(before, target, timed_out=timed_out), node, now)

    def _note(self, key: AttemptKey, line: str) -> None:
        """A platform line for the attempt's log, written after the turn commits."""
        self._notes.append((key, line))

    def _set_run(self, target: RunState, now: datetime) -> None:
        check_run_move(self.run_id, self.status, target)
        before, self.status = self.status, target
        self._batch.run["status"] = target.value
        if self.spec.alerts:
            timed_out = self._stopping == RUN_TIMEOUT
            self._alert(run_event(before, target, timed_out=timed_out), None, now)

    def _alert(self, event: str | None, node: TaskNode | None, now: datetime) -> None:
        """Record the deliveries of the pipeline's alerts that match, in this turn: a sender
        posts them after the commit (the engine itself never waits on a receiver)."""
        if event is None:
            return
        attempt = node.attempt if node is not None else None
        self._batch.alerts += delivery_rows(
            self.spec,
            event=event,
            run_id=self.run_id,
            task=node.name if node is not None else None,
            attempt=attempt.number if attempt is not None else None,
            status=(node.status if node is not None else self.status).value,
            message=node.message if node is not None else self.message,
            execution_date=str(self.base_context.get("execution_date", "")),
            now=now,
        )

    def _settle(
        self, node: TaskNode, target: TaskState, now: datetime, message: str | None
    ) -> None:
        """A terminal move, then what it means for the downstream tasks (a worklist, so a
        chain of 10,000 upstream_failed tasks needs no recursion)."""
        self._move(node, target, now, message=message, next_try_at=None)
        self._propagate(node, now)

    def _propagate(self, node: TaskNode, now: datetime) -> None:
        work = [node]
        while work:
            done = work.pop()
            for child in done.downstream:
                child.waiting -= 1
                if done.status in TASK_OK:
                    child.n_ok += 1
                elif done.status in TASK_BAD:
                    child.n_bad += 1
                if child.status is TaskState.PENDING:
                    settled = self._evaluate(child, now, cause=done)
                    if settled:
                        work.append(child)
        self._maybe_start_exit_task(now)

    def _evaluate(self, node: TaskNode, now: datetime, cause: TaskNode | None) -> bool:
        """Apply the trigger rule of a pending task; True when it settled (became terminal)."""
        bad = cause.name if cause is not None and cause.status in TASK_BAD else None
        target, message = verdict(node, stopping=self._stopping is not None, cause=bad)
        if target is None:
            return False
        self._move(node, target, now, message=message)
        if target is TaskState.QUEUED:
            self._ready.append(node)
            return False
        return True

    def _maybe_start_exit_task(self, now: datetime) -> None:
        node = self.exit_node
        if node is None or node.status is not TaskState.PENDING or node.next_try_at:
            return
        regular_done = sum(self.counts[s] for s in TASK_TERMINAL)
        if regular_done == len(self.nodes) - 1:
            if self._evaluate(node, now, cause=None):
                self._maybe_finish_run(now)

    # -- attempts that ended ----------------------------------------------------------------
    def _finish_attempt(self, outcome: Outcome, now: datetime) -> None:
        node = self.by_name.get(outcome.key.task)
        attempt = node.attempt if node else None
        if node is None or attempt is None or attempt.number != outcome.key.number:
            return
        if attempt.status is not AttemptState.RUNNING:
            return
        failpoints.hit("before_collect", node.name)
        code = outcome.exit_code
        node.exit_code = code
        reason = attempt.kill_reason
        if reason in (STOP, RUN_TIMEOUT):
            message = "stopped" if reason == STOP else "the run timed out"
            self._end_attempt(node, AttemptState.STOPPED, now, code, message)
            self._settle(node, TaskState.STOPPED, now, message)
        elif reason == TIMEOUT:
            self._fail(node, now, code, f"timed out after {seconds_text(node.spec.timeout)}")
        elif outcome.key in self._lost:
            self._fail(node, now, code, "lost: its process is gone and left no exit status")
        elif code == 0:
            self._succeed(node, now)
        else:
            gang = demands.kind_of(self._template_of(node)) is not None
            member = self.launcher.failure(outcome.key) if gang else None
            self._fail(node, now, code, member or describe_exit(code))

    def _succeed(self, node: TaskNode, now: datetime) -> None:
        assert node.attempt is not None
        key = AttemptKey(self.run_id, node.name, node.attempt.number)
        outputs: dict[str, str] = {}
        if node.spec.parameter_outputs:
            outputs, problem = self.launcher.read_outputs(key, node.spec.parameter_outputs)
            if problem:
                self._fail(node, now, 0, problem)
                return
            if self._secrets:  # stored and handed downstream masked, as logs show them
                outputs = mask_values(outputs, self._secrets.values())
        try:
            kept = keep_artifacts(self.artifacts, self.launcher, node, key)
        except ArtifactError as err:
            self._fail(node, now, 0, str(err))
            return
        node.artifacts = kept
        self._batch.artifacts += artifact_rows(key, kept, now)
        node.attempt.outputs = outputs
        self._end_attempt(node, AttemptState.SUCCEEDED, now, 0, None)
        self._settle(node, TaskState.SUCCEEDED, now, None)
        node.outputs = outputs

    def _fail(self, node: TaskNode, now: datetime, code: int | None, message: str) -> None:
        assert node.attempt is not None
        number = node.attempt.number
        self._end_attempt(node, AttemptState.FAILED, now, code, message)
        tries = node.attempts - node.retry_base
        key = AttemptKey(self.run_id, node.name, number)
        restarts = demands.restarts_allowed(node, self._template_of(node))
        if tries <= restarts and not self._stopping:  # restart_group: the gang, at once
            self._note(
                key,
                f"attempt {number} failed: {message}; restarting the whole group "
                f"({tries} of {restarts})",
            )
            self._move(node, TaskState.QUEUED, now, message=message)
            self._ready.append(node)
            self._after_commit.append(("retry_pending", node.name))
            return
        tries -= restarts
        if tries <= node.spec.retries and not (self._stopping and not node.is_exit):
            delay = node.spec.retry_delay_after(tries)
            self._note(key, f"attempt {number} failed: {message}; retrying in {delay:g}s")
            if delay <= 0:
                self._move(node, TaskState.QUEUED, now, message=message)
                self._ready.append(node)
            else:
                when = now + timedelta(seconds=delay)
                self._move(node, TaskState.PENDING, now, message=message, next_try_at=when)
                self._timers.set(when, "retry", node, number)
            self._after_commit.append(("retry_pending", node.name))
            return
        self._note(key, f"attempt {number} failed: {message}")
        self._settle(node, TaskState.FAILED, now, message)

    def _end_attempt(
        self,
        node: TaskNode,
        status: AttemptState,
        now: datetime,
        code: int | None,
        message: str | None,
    ) -> None:
        attempt = node.attempt
        assert attempt is not None
        attempt.status = status
        attempt.exit_code = code
        attempt.finished_at = now
        attempt.message = message
        self._batch.attempt_changed(node.name, attempt)
        self._free_grant(node)

    # -- the end ----------------------------------------------------------------------------
    def _run_outcome(self) -> str:
        """What the exit task sees as ``run_status``."""
        if self._stopping == STOP:
            return RunState.STOPPED.value
        bad = sum(self.counts[s] for s in TASK_BAD)
        if self.exit_node is not None and self.exit_node.status in TASK_BAD:
            bad -= 1
        failed = bad > 0 or self._stopping == RUN_TIMEOUT
        return RunState.FAILED.value if failed else RunState.SUCCEEDED.value

    def _maybe_finish_run(self, now: datetime) -> None:
        if self.done or sum(self.counts[s] for s in TASK_TERMINAL) < len(self.nodes):
            return
        if self._stopping == STOP:
            target = RunState.STOPPED
        elif self._stopping == RUN_TIMEOUT or any(self.counts[s] for s in TASK_BAD):
            target = RunState.FAILED
        else:
            target = RunState.SUCCEEDED
        if target is RunState.FAILED and self.message is None:
            bad = [n.name for n in self.nodes if n.status is TaskState.FAILED]
            self.message = "failed: " + ", ".join(bad[:10]) if bad else "upstream failures"
            self._batch.run["message"] = self.message
        self._set_run(target, now)
        self.finished_at = now
        self._batch.run.update(finished_at=now, engine_pid=None)
