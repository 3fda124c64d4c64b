"""What one engine turn changed, written in one transaction at the turn's end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from cubestudio.engine.nodes import AttemptNode, TaskNode
from cubestudio.store import alerts as alert_store
from cubestudio.store import queues as queue_store
from cubestudio.store import runs as store
from cubestudio.store.db import Database


@dataclass
class TurnBatch:
    run_id: str
    tasks: dict[str, TaskNode] = field(default_factory=dict)
    new_attempts: list[tuple[str, AttemptNode]] = field(default_factory=list)
    attempts: dict[tuple[str, int], AttemptNode] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # webhook deliveries to record
    allocations_dropped: list[str] = field(default_factory=list)  # tasks that freed the pool

    def attempt_changed(self, task: str, attempt: AttemptNode) -> None:
        self.attempts[(task, attempt.number)] = attempt

    @property
    def empty(self) -> bool:
        return not (
            self.tasks
            or self.new_attempts
            or self.attempts
            or self.run
            or self.artifacts
            or self.alerts
            or self.allocations_dropped
        )

    def commit(self, db: Database) -> None:
        """One transaction of its own (nothing when the turn changed nothing)."""
        if not self.empty:
            with db.turn() as conn:
                self.write(conn)
            self.clear()

    def write(self, conn: Connection) -> None:
        """Write the turn in the caller's transaction. The batch keeps what it holds until
        ``clear`` (after the commit): a transaction rolled back (a deadlock) is written again
        whole."""
        if self.empty:
            return
        store.save_changes(
            conn,
            run_id=self.run_id,
            run=self.run,
            tasks=[node.row() for node in self.tasks.values()],
            new_attempts=[a.row(self.run_id, task) for task, a in self.new_attempts],
            attempts_changed=[a.row(self.run_id, task) for (task, _), a in self.attempts.items()],
            new_artifacts=self.artifacts,
        )
        alert_store.record(conn, rows=self.alerts)
        if self.allocations_dropped:
            queue_store.drop_allocations(
                conn, keys=[(self.run_id, task) for task in self.allocations_dropped]
            )

    def clear(self) -> None:
        """The turn committed: start afresh."""
        self.tasks = {}
        self.new_attempts = []
        self.attempts = {}
        self.run = {}
        self.artifacts = []
        self.alerts = []
        self.allocations_dropped = []
