"""The engine service: one process, one loop, every run it holds.

Each run keeps its own controller (in-memory DAG bookkeeping, intent before action); the
service multiplexes them. One turn:

1. **collect**: the driver's outcomes (one selector over every attempt's pidfd and the
   wake-up fds), routed to their runs;
2. **claim**: when woken, or every ``poll_seconds``: take free runs up to ``max_runs`` (a
   claim bumps the run's epoch) and read stop requests for the runs held;
3. **advance**: only the runs that had an outcome, a due timer or a request move;
4. **commit**: one transaction for all of them, each in a savepoint that starts with its
   fence, so a run this process lost rolls back alone; leases and the heartbeat are renewed
   in the same transaction every lease/3;
5. **act**: launches and signals of the runs that committed, strictly after the commit.

Nothing walks every held run per event: timers are one heap keyed by (due, run), renewal
is one UPDATE. Time is injected (``turn(now)``), so tests step the service without sleeping.
"""

from __future__ import annotations

import heapq
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from cubestudio.engine.controller import RunController
from cubestudio.engine.gate import AdmissionGate
from cubestudio.engine.launcher import Outcome
from cubestudio.engine.lease import Identity, Lease, LeaseLost
from cubestudio.errors import CubeError, StateError, StoreError
from cubestudio.procinfo import is_alive
from cubestudio.store import leases as store
from cubestudio.store.db import Database


class _Driver(Protocol):
    def poll(self) -> list[Outcome]: ...

    def wait(self, timeout: float | None) -> None: ...

    def forget(self, run_id: str) -> None: ...


Loader = Callable[[str], RunController]
# Many runs at once, one query per table: a run that cannot be loaded maps to its error.
ManyLoader = Callable[[list[str]], dict[str, "RunController | CubeError"]]
Log = Callable[..., None]


def json_log(event: str, **fields: Any) -> None:
    """One line per event on stderr, structured: what `cube engine` prints."""
    record = {"event": event, **{k: v for k, v in fields.items() if v is not None}}
    print(json.dumps(record, default=str, sort_keys=False), file=sys.stderr, flush=True)


@dataclass
class ServiceConfig:
    lease_seconds: float = 15.0
    max_runs: int = 10_000
    poll_seconds: float = 2.0  # the safety net behind wake-ups
    # Runs claimed per transaction: each batch is started (its first tasks launched) before
    # the next is claimed, so with 200 runs submitted at once the first ones start at once
    # instead of after every claim (and SQLite's write lock is never held for all of them).
    claim_batch: int = 16


@dataclass
class _Held:
    controller: RunController
    lease: Lease


@dataclass
class EngineService:
    db: Database
    driver: _Driver
    me: Identity
    load: Loader
    config: ServiceConfig = field(default_factory=ServiceConfig)
    log: Log = json_log
    held: dict[str, _Held] = field(default_factory=dict)
    claiming: bool = True
    _timers: list[tuple[datetime, int, str]] = field(default_factory=list)
    _seq: int = 0
    _next_claim: datetime | None = None
    _next_renew: datetime | None = None
    _woken: bool = True
    _outage_since: datetime | None = None
    _retry_at: datetime | None = None
    _reclaim_own: bool = False  # after a database outage: take back what this process held
    # Wakes the other engines (their sockets, NOTIFY): called after leases are released, so
    # a peer takes the runs at once instead of at its next look at the store.
    wake_peers: Callable[[], None] | None = None
    load_many: ManyLoader | None = None  # else ``load``, run by run
    # Admission for every run this engine drives (engine/gate.py); None: none.
    gate: AdmissionGate | None = None

    # -- life ---------------------------------------------------------------------------------
    def register(self, now: datetime) -> None:
        """Record this engine; refuse when a live process already has its id."""
        with self.db.begin() as conn:
            row = store.get_engine(conn, engine_id=self.me.engine_id)
            if row is not None and row["stopped_at"] is None:
                fresh = row["heartbeat_at"] > now - timedelta(seconds=self.config.lease_seconds)
                same_host = row["host"] == self.me.host
                alive = is_alive(row["pid"], row["process_start"]) if same_host else fresh
                if alive and row["instance"] != self.me.instance:
                    raise StateError(
                        f"an engine with id {self.me.engine_id} is already running (process "
                        f"{row['pid']} on host {row['host']}): give this one another --id"
                    )
            store.register_engine(
                conn,
                row={
                    "id": self.me.engine_id,
                    "instance": self.me.instance,
                    "host": self.me.host,
                    "pid": self.me.pid,
                    "process_start": self.me.process_start,
                    "kind": "service",
                    "max_runs": self.config.max_runs,
                    "started_at": now,
                    "heartbeat_at": now,
                    "stopped_at": None,
                },
            )
        self.log("engine_started", engine=self.me.engine_id, instance=self.me.instance)
        self._claim(now, own_prefix=f"{self.me.engine_id}/")

    def shutdown(self, now: datetime) -> None:
        """Stop claiming, release every lease at once (a peer claims them now: attempts keep
        running and are adopted there), record the engine stopped."""
        self.claiming = False
        ids = list(self.held)
        for run_id in ids:
            self._drop(run_id)
        try:
            with self.db.begin() as conn:
                store.release(conn, owner=self.me.instance, run_ids=ids, now=now, reason="released")
                store.stop_engine(conn, instance=self.me.instance, now=now)
        except (StoreError, DBAPIError) as err:
            self.log("release_failed", error=_one_line(err), runs=len(ids))
        else:
            for run_id in ids:
                self.log("released", run=run_id)
            if ids and self.wake_peers is not None:
                self.wake_peers()
        self.held.clear()
        self.log("engine_stopped", engine=self.me.engine_id)

    def wake(self) -> None:
        """A wake-up fd fired: claim and read requests in the next turn."""
        self._woken = True

    # -- one turn -----------------------------------------------------------------------------
    def seconds_until_next(self, now: datetime) -> float:
        """How long the loop may sleep: the earliest timer, claim or renewal."""
        times = [t for t in (self._next_claim, self._next_renew, self._retry_at) if t]
        if self._timers:
            times.append(self._timers[0][0])
        if self._woken:
            return 0.0
        return max(0.0, min((t - now).total_seconds() for t in times)) if times else 1.0

    def turn(self, now: datetime) -> None:
        if self._retry_at is not None and now < self._retry_at:
            return
        try:
            self._turn(now)
        except (StoreError, DBAPIError) as err:
            self._outage(now, err)
        else:
            if self._outage_since is not None:
                self.log("database_back", after_s=(now - self._outage_since).total_seconds())
                self._outage_since = self._retry_at = None

    def _turn(self, now: datetime) -> None:
        by_run: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.driver.poll():
            by_run[outcome.key.run_id].append(outcome)
        moved: set[str] = {run_id for run_id in by_run if run_id in self.held}
        if self._woken or self._next_claim is None or now >= self._next_claim:
            self._woken = False
            self._next_claim = now + timedelta(seconds=self.config.poll_seconds)
            moved |= self._read_stop_requests(now)
            if self.claiming:
                own = f"{self.me.engine_id}/" if self._reclaim_own else None
                self._reclaim_own = False
                self._claim(now, own_prefix=own)
        while self._timers and self._timers[0][0] <= now:
            _, _, run_id = heapq.heappop(self._timers)
            if run_id in self.held:
                moved.add(run_id)
        for run_id in moved:
            self.held[run_id].controller.advance(now, by_run.get(run_id, []))
        self._commit(now, moved)

    def _commit(self, now: datetime, moved: set[str]) -> None:
        renew = self._next_renew is None or now >= self._next_renew
        for attempt in range(1, DEADLOCK_TRIES + 1):
            try:
                lost, committed = self._write_turn(now, moved, renew)
                break
            except DBAPIError as err:  # the batches are intact: the turn is written again
                if attempt == DEADLOCK_TRIES or not _deadlock(err):
                    raise
                self.log("turn_retried", error=_one_line(err), attempt=attempt)
        self._after_commit(now, renew, lost, committed)

    def _write_turn(
        self, now: datetime, moved: set[str], renew: bool
    ) -> tuple[set[str], list[str]]:
        """The turn's one transaction: (runs whose lease was lost, runs written)."""
        lost: set[str] = set()
        committed: list[str] = []
        with self.db.turn() as conn:
            if len(moved) > 1 and store.fence_many(
                conn,
                owner=self.me.instance,
                epochs={run_id: self.held[run_id].lease.epoch for run_id in moved},
                expires_at=now + timedelta(seconds=self.config.lease_seconds),
            ):  # every lease still ours: one fence for all, no savepoints
                for run_id in moved:
                    self.held[run_id].controller.write_turn(conn, now, fenced=True)
                    committed.append(run_id)
            else:
                committed = self._write_one_by_one(conn, now, moved, lost)
            if renew:
                # A run that finished in this turn released its lease in write_turn: it is
                # neither renewed nor lost (else it would be logged lease_lost, not acted on).
                lost |= store.renew_all(
                    conn,
                    owner=self.me.instance,
                    held=[
                        r for r in self.held if r not in lost and not self.held[r].controller.done
                    ],
                    now=now,
                    expires_at=now + timedelta(seconds=self.config.lease_seconds),
                )
                store.beat(conn, instance=self.me.instance, now=now)
        return lost, committed

    def _after_commit(
        self, now: datetime, renew: bool, lost: set[str], committed: list[str]
    ) -> None:
        if renew:
            self._next_renew = now + timedelta(seconds=self.config.lease_seconds / 3)
            for held in self.held.values():
                held.lease.expires_at = now + timedelta(seconds=self.config.lease_seconds)
        for run_id in committed:
            if run_id in lost:
                continue
            controller = self.held[run_id].controller
            controller.act()
            if controller.done:
                self._drop(run_id)
                self.log("finished", run=run_id, status=controller.status.value)
                self._woken = True  # a slot is free: claim the next pending run now
            else:
                self._schedule(run_id, now)
        for run_id in lost:
            self._drop(run_id)
            self.log("lease_lost", run=run_id)
        if self.gate is not None:  # grants decided in another run's turn: launch them now
            for run_id in self.gate.news():
                if run_id in self.held and run_id not in committed:
                    self._seq += 1
                    heapq.heappush(self._timers, (now, self._seq, run_id))

    def _write_one_by_one(
        self, conn: Connection, now: datetime, moved: set[str], lost: set[str]
    ) -> list[str]:
        """Each run's turn fenced in a savepoint of its own, so that a lost run rolls back
        alone (its id goes to ``lost``); the runs written."""
        committed = []
        for run_id in moved:
            try:
                with conn.begin_nested():
                    self.held[run_id].controller.write_turn(conn, now)  # releases a finished run
            except LeaseLost:
                lost.add(run_id)
                continue
            committed.append(run_id)
        return committed

    # -- claiming -----------------------------------------------------------------------------
    def _claim(self, now: datetime, own_prefix: str | None = None) -> None:
        """Claim free runs in batches, starting each batch before claiming the next. Taking
        an earlier process's runs back (``own_prefix``) is one batch: a second query would
        list the runs just taken again."""
        while True:
            room = self.config.max_runs - len(self.held)
            if room <= 0:
                return
            limit = room if own_prefix is not None else min(room, self.config.claim_batch)
            seen, taken = self._claim_batch(now, limit, own_prefix)
            loaded = self.load_many([r for r, _ in taken]) if self.load_many and taken else {}
            begun = {r for r, lease in taken if self._begin(r, lease, now, loaded.get(r))}
            if begun:
                self._commit(now, begun)  # the batch's first moves: one transaction
            if own_prefix is not None or seen < limit or not taken:
                return  # no more free runs (or only ones a peer took first)

    def _claim_batch(
        self, now: datetime, limit: int, own_prefix: str | None
    ) -> tuple[int, list[tuple[str, Lease]]]:
        """One claiming transaction: (rows seen, runs taken with their leases)."""
        taken: list[tuple[str, Lease]] = []
        until = now + timedelta(seconds=self.config.lease_seconds)
        with self.db.begin() as conn:
            rows = store.claimable(
                conn, now=now, host=self.me.host, limit=limit, own_prefix=own_prefix
            )
            seen = len(rows)
            rows = [row for row in rows if row["id"] not in self.held]
            epochs = store.claim(
                conn,
                seen={row["id"]: row["lease_epoch"] for row in rows},
                owner=self.me.instance,
                engine_id=self.me.engine_id,
                host=self.me.host,
                pid=self.me.pid,
                process_start=self.me.process_start,
                now=now,
                expires_at=until,
            )
        for row in rows:
            epoch = epochs.get(row["id"])
            if epoch is None:
                continue
            lease = Lease(row["id"], self.me.instance, epoch, self.config.lease_seconds, until)
            taken.append((row["id"], lease))
            previous = row["lease_owner"]
            event = _claim_event(previous, self.me.engine_id)
            self.log(event, run=row["id"], epoch=epoch, previous=previous)
        return seen, taken

    def _begin(
        self,
        run_id: str,
        lease: Lease,
        now: datetime,
        loaded: RunController | CubeError | None = None,
    ) -> bool:
        """Load a claimed run and make its first moves in memory (the caller writes and acts
        on them); False when it cannot be loaded (it is failed with a message)."""
        try:
            if isinstance(loaded, CubeError):
                raise loaded
            controller = loaded if loaded is not None else self.load(run_id)
            controller.begin(now, lease=lease)
        except CubeError as err:  # its snapshot cannot be loaded: fail it, go on
            self.driver.forget(run_id)
            self._fail_unloadable(run_id, lease, now, err)
            return False
        self.held[run_id] = _Held(controller, lease)
        return True

    def _fail_unloadable(self, run_id: str, lease: Lease, now: datetime, err: Exception) -> None:
        from cubestudio.store import runs as runs_store

        message = f"the engine cannot load this run: {_one_line(err)}"
        with self.db.begin() as conn:
            lease.fence(conn, now)
            runs_store.save_changes(
                conn,
                run_id=run_id,
                run={"status": "failed", "message": message, "finished_at": now},
            )
            store.release(conn, owner=self.me.instance, run_ids=[run_id], now=now, reason="failed")
        self.log("run_failed", run=run_id, error=message)

    def _read_stop_requests(self, now: datetime) -> set[str]:
        if not self.held:
            return set()
        with self.db.begin() as conn:
            requested = store.stop_requests(conn, owner=self.me.instance)
        moved = set()
        for run_id in requested:
            held = self.held.get(run_id)
            if held is not None and not held.controller.stop_requested:
                held.controller.request_stop(now)
                moved.add(run_id)
                self.log("stop_requested", run=run_id)
        return moved

    # -- bookkeeping ----------------------------------------------------------------------------
    def _schedule(self, run_id: str, now: datetime) -> None:
        seconds = self.held[run_id].controller.seconds_until_timer(now)
        if seconds is not None:
            self._seq += 1
            heapq.heappush(self._timers, (now + timedelta(seconds=seconds), self._seq, run_id))

    def _drop(self, run_id: str) -> None:
        self.held.pop(run_id, None)
        self.driver.forget(run_id)
        if self.gate is not None:
            self.gate.forget_run(run_id)

    def _outage(self, now: datetime, err: Exception) -> None:
        """The database went away: keep the processes running, forget the in-memory state
        (it may be ahead of the store), and take the runs back when it returns: recovery
        collects what finished meanwhile from the driver's files."""
        if self._outage_since is None:
            self._outage_since = now
            self.log("database_unreachable", error=_one_line(err), runs=len(self.held))
        for run_id in list(self.held):
            self._drop(run_id)
        self._timers.clear()
        self._next_renew = None
        waited = (now - self._outage_since).total_seconds()
        self._retry_at = now + timedelta(seconds=min(10.0, 0.5 + waited / 2))
        self._woken = True
        self._reclaim_own = True


def _claim_event(previous: str | None, engine_id: str) -> str:
    """claim (nobody held it), reclaim (this engine id held it: a restart or an outage),
    take_over (another engine held it)."""
    if previous is None:
        return "claim"
    return "reclaim" if previous.rsplit("/", 1)[0] == engine_id else "take_over"


# A turn that loses a deadlock (MySQL/MariaDB 1213, a lock wait timeout 1205, PostgreSQL
# 40P01/40001) is rolled back whole and written again at once, not taken for an outage.
DEADLOCK_TRIES = 3
_DEADLOCK_CODES = {1213, 1205}
_DEADLOCK_STATES = {"40P01", "40001"}


def _deadlock(err: DBAPIError) -> bool:
    orig = err.orig
    if getattr(orig, "sqlstate", None) in _DEADLOCK_STATES:
        return True
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    return bool(args) and args[0] in _DEADLOCK_CODES


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
