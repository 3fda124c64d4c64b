"""The admission gate: one per process that launches tasks, shared by its run controllers.

It holds the pure ``Admission`` core (engine/admission) with every task this process wants
to start, across all the runs it drives (the engine service's many, `cube run`'s one), and
makes the core's decisions durable and shared with other processes through the store:

* ``decide(conn, now)`` runs inside a turn's transaction, holding the pool lock
  (store/queues.lock_pool). It first takes in what other processes hold (every
  ``allocations`` row it does not own) and the queues' current settings, then decides, and
  writes an ``allocations`` row for each grant in the same transaction: no other process
  can hand out that GPU, and after a crash the store says who holds what.
* A controller ``submit``s a task when it is ready and launches it once the gate hands it
  a grant (``take``); waiting reasons come the same way. Grants decided for another
  controller of this process wait in the gate until that controller's next turn
  (``news`` tells the engine service whom to turn).
* When an attempt ends, its controller ``release``s the task: the core frees it at once
  and the controller's turn deletes the row (TurnBatch), in the transaction that records
  the end.

A grant's rows are "pending" until the transaction commits (``committed``): a turn that is
rolled back and written again (a deadlock) writes them again. Releases by other processes
are seen at the next ``decide``: a gate with waiting tasks decides at least every
``poll_seconds`` (the controllers' timers ask for it).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cubestudio.engine.admission import (
    Admission,
    AdmissionError,
    Demand,
    Grant,
    Pool,
    Queue,
    reasons,
)
from cubestudio.engine.admission import Resources as Need
from cubestudio.store import queues as store

POLL_SECONDS = 1.0

Key = tuple[str, str]  # (run id, task name)


def demand_id(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


@dataclass
class _News:
    grants: dict[str, Grant] = field(default_factory=dict)  # task -> grant
    reasons: dict[str, str] = field(default_factory=dict)  # task -> waiting reason


class AdmissionGate:
    def __init__(self, pool: Pool, *, owner: str = "", poll_seconds: float = POLL_SECONDS) -> None:
        self.pool = pool
        # Recorded with its rows: what another process's rows are told apart by.
        self.owner = owner or f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"
        self.poll_seconds = poll_seconds
        self._core = Admission(pool, [Queue(store.DEFAULT_QUEUE)])
        self._queues: dict[str, Queue] = {store.DEFAULT_QUEUE: Queue(store.DEFAULT_QUEUE)}
        self._waiting: dict[Key, Demand] = {}
        self._own: dict[Key, Grant] = {}  # held by this process (granted or adopted)
        self._foreign: dict[Key, tuple[Any, ...]] = {}  # other processes' rows, as seen
        self._news: dict[str, _News] = {}
        self._pending: list[dict[str, Any]] = []  # rows of grants not yet committed
        self._dirty = False
        self._decided_at = 0.0

    # -- what controllers tell it --------------------------------------------------------------
    def submit(
        self,
        key: Key,
        *,
        queue: str,
        need: Need,
        workers: int,
        priority: int,
        now: datetime,
    ) -> None:
        if key in self._waiting or key in self._own:
            return
        self._ensure_queue(queue)
        demand = Demand(demand_id(key), queue, now, need, workers, priority)
        self._core.submit(demand)
        self._waiting[key] = demand
        self._dirty = True

    def never_fits(self, need: Need, workers: int) -> str | None:
        """Why a task can never start on this process's pool (more than all of it), or
        None. Such a task fails at once rather than wait for a pool that will not grow
        (a queue's capability can be raised: a task over it waits, with its reason)."""
        pool = self.pool
        asked = {
            "gpu": (need.gpu * workers, len(pool.gpus)),
            "cpu": (round(need.cpu * 1000) * workers, round(pool.cpu * 1000)),
            "memory": (need.memory * workers, pool.memory),
        }
        for dim, (wanted, total) in asked.items():
            if wanted > total:
                reason = reasons.pool_never(dim, wanted, total)
                return "cannot start: " + reason.removeprefix("queued: ")
        return None

    def withdraw(self, key: Key) -> None:
        """A waiting task will not start (stopped, or its run is no longer ours)."""
        if self._waiting.pop(key, None) is not None:
            self._core.withdraw(demand_id(key))
        news = self._news.get(key[0])
        if news is not None:
            news.reasons.pop(key[1], None)
            grant = news.grants.pop(key[1], None)
            if grant is not None:  # granted but never launched: give it back
                self.release(key)

    def release(self, key: Key) -> None:
        """The task's attempt ended: what it held is free (its row goes in the caller's turn)."""
        if self._own.pop(key, None) is not None:
            self._core.release(demand_id(key))
            self._dirty = True

    def adopt(self, key: Key, row: Any, now: datetime) -> Grant | None:
        """A task that already holds an allocation (its run taken over after a restart): count
        it as this process's, with the GPU indices it was given."""
        if key in self._own:
            return self._own[key]
        if key in self._foreign:
            self._core.release(demand_id(key))
            del self._foreign[key]
        grant = self._restore(key, row, now)
        if grant is not None:
            self._own[key] = grant
        return grant

    def forget_run(self, run_id: str) -> None:
        """This process no longer drives the run: whoever takes it adopts its rows."""
        for key in [k for k in self._waiting if k[0] == run_id]:
            self._waiting.pop(key)
            self._core.withdraw(demand_id(key))
        for key in [k for k in self._own if k[0] == run_id]:
            self._own.pop(key)
            self._core.release(demand_id(key))
        self._news.pop(run_id, None)

    # -- deciding ------------------------------------------------------------------------------
    def due(self) -> bool:
        if self._pending:
            return True
        if not self._waiting:
            return False
        return self._dirty or time.monotonic() - self._decided_at >= self.poll_seconds

    def decide(self, conn: Connection, now: datetime) -> None:
        """Decide under the pool lock, in the caller's transaction (see the module doc)."""
        store.lock_pool(conn)
        if self._pending:  # a turn rolled back: its grants' rows go in again
            store.add_allocations(conn, rows=self._pending)
        self._sync_queues(store.list_queues(conn))
        self._sync_foreign(store.live_allocations(conn, other_than=self.owner), now)
        decisions = self._core.decide(now)
        rows = []
        for grant in decisions.started:
            key = _key_of(grant.id)
            demand = self._waiting.pop(key)
            self._own[key] = grant
            self._news_of(key[0]).grants[key[1]] = grant
            rows.append(_row(key, demand, grant, now, self.owner))
        for did, reason in decisions.waiting.items():
            key = _key_of(did)
            if key in self._waiting:
                self._news_of(key[0]).reasons[key[1]] = reason
        if rows:
            store.add_allocations(conn, rows=rows)
            self._pending += rows
        self._dirty = False
        self._decided_at = time.monotonic()

    def committed(self) -> None:
        """The transaction that held ``decide`` committed: its rows are stored."""
        self._pending.clear()

    # -- what controllers read -----------------------------------------------------------------
    def take(self, run_id: str) -> tuple[dict[str, Grant], dict[str, str]]:
        """The grants and new waiting reasons for the run's tasks, once each."""
        news = self._news.pop(run_id, None)
        return (news.grants, news.reasons) if news else ({}, {})

    def has_news(self, run_id: str) -> bool:
        return run_id in self._news

    def news(self) -> list[str]:
        """Runs with grants or reasons waiting to be taken."""
        return list(self._news)

    def waiting_in(self, run_id: str) -> bool:
        return any(key[0] == run_id for key in self._waiting)

    # -- internals -------------------------------------------------------------------------------
    def _news_of(self, run_id: str) -> _News:
        return self._news.setdefault(run_id, _News())

    def _ensure_queue(self, name: str) -> None:
        if name not in self._queues:
            self._queues[name] = Queue(name)
            self._core.set_queue(self._queues[name])

    def _sync_queues(self, rows: list[Any]) -> None:
        for row in rows:
            queue = Queue(row["name"], None, row["cpu"], row["memory"], row["gpu"], row["weight"])
            if self._queues.get(queue.name) != queue:
                self._queues[queue.name] = queue
                self._core.set_queue(queue)
                self._dirty = True

    def _sync_foreign(self, rows: list[Any], now: datetime) -> None:
        seen: set[Key] = set()
        for row in rows:
            key = (row["run_id"], row["task_name"])
            if key in self._own:
                continue
            seen.add(key)
            signature = tuple(row[c] for c in ("queue", "cpu", "memory", "gpu", "gpus"))
            if self._foreign.get(key) == signature:
                continue
            if key in self._foreign:
                self._core.release(demand_id(key))
            if self._restore(key, row, now) is not None:
                self._foreign[key] = signature
        for key in [k for k in self._foreign if k not in seen]:
            del self._foreign[key]
            self._core.release(demand_id(key))

    def _restore(self, key: Key, row: Any, now: datetime) -> Grant | None:
        self._ensure_queue(row["queue"])
        need = Need(row["cpu"], row["memory"], row["gpu"], bool(row["shareable"]))
        # when it was granted does not matter to a running demand: ``now`` stands in
        demand = Demand(demand_id(key), row["queue"], now, need, row["workers"], row["priority"])
        try:
            return self._core.restore(demand, json.loads(row["gpus"]), now)
        except AdmissionError:
            # Rows that contradict each other (a GPU held twice): count what fits rather
            # than stop deciding; the task itself runs whatever we decide.
            return None


def _key_of(did: str) -> Key:
    run_id, _, task = did.partition("/")
    return run_id, task


def _row(key: Key, demand: Demand, grant: Grant, now: datetime, owner: str) -> dict[str, Any]:
    res = demand.resources
    return {
        "run_id": key[0],
        "task_name": key[1],
        "owner": owner,
        "queue": demand.queue,
        "priority": demand.priority,
        "cpu": res.cpu,
        "memory": res.memory,
        "gpu": res.gpu,
        "shareable": res.gpu_shareable,
        "workers": demand.workers,
        "gpus": json.dumps([list(w) for w in grant.gpus]),
        "granted_at": now,
    }
