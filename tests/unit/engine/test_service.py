"""The engine service stepped by hand with injected time, two replicas over one database
(every backend) and in-memory drivers: claim, renew, fence, adopt, release, fail-over."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.launcher import AttemptKey, Outcome, Recovery
from cubestudio.engine.lease import Identity
from cubestudio.engine.lifecycle import create_run, load_controller, load_controllers, summary
from cubestudio.engine.service import EngineService, ServiceConfig
from cubestudio.errors import StateError
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store import leases as lease_store
from cubestudio.store import runs as runs_store
from cubestudio.store.db import Database
from cubestudio.store.tables import runs

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
CHAIN = """
name: chain
tasks:
  - {name: a, command: "true"}
  - {name: b, command: "true", depends: [a]}
"""
LEASE = 15.0


class Replica:
    """One engine service with its own in-memory driver and an event log."""

    def __init__(
        self, db: Database, engine_id: str, max_runs: int = 100, batched: bool = False
    ) -> None:
        self.db = db
        self.driver = MemoryDriver()
        self.events: list[dict[str, Any]] = []
        self.service = EngineService(
            db=db,
            driver=self.driver,
            me=Identity(engine_id=engine_id),
            load=self._load,
            config=ServiceConfig(lease_seconds=LEASE, max_runs=max_runs),
            log=lambda event, **f: self.events.append({"event": event, **f}),
            load_many=self._load_many if batched else None,
        )

    def _load_many(self, run_ids: list[str]) -> Any:
        return load_controllers(self.db, self.driver, run_ids, kill_grace=5, lease_seconds=LEASE)

    def _load(self, run_id: str) -> Any:
        return load_controller(self.db, self.driver, run_id, kill_grace=5, lease_seconds=LEASE)

    def held(self) -> set[str]:
        return set(self.service.held)

    def launched(self, run_id: str) -> list[str]:
        return [r.key.task for r in self.driver.launched if r.key.run_id == run_id]

    def kinds(self) -> list[str]:
        return [e["event"] for e in self.events]


def submit(db: Database, now: datetime = T0) -> str:
    spec = load_pipeline_text(CHAIN)
    return create_run(db, spec=spec, params={}, now=now)


def statuses(db: Database, run_id: str) -> dict[str, str]:
    return {n: t["status"] for n, t in summary(db, run_id)["tasks"].items()}


def run_row(db: Database, run_id: str) -> dict[str, Any]:
    with db.begin() as conn:
        return dict(conn.execute(select(runs).where(runs.c.id == run_id)).mappings().one())


def test_one_engine_claims_and_drives_many_runs(db: Database) -> None:
    ids = [submit(db) for _ in range(3)]
    a = Replica(db, "a")
    a.service.register(T0)
    assert a.held() == set(ids)
    for run_id in ids:
        assert a.launched(run_id) == ["a"]
    with db.begin() as conn:  # the store says which engine launched each attempt
        launched_by = {r["engine_id"] for r in runs_store.load_attempts(conn, run_id=ids[0])}
    assert launched_by == {"a"}
    for run_id in ids:
        a.driver.finish("a", run_id=run_id)
    a.service.turn(T0 + timedelta(seconds=1))
    for run_id in ids:
        assert a.launched(run_id) == ["a", "b"]
        a.driver.finish("b", run_id=run_id)
    a.service.turn(T0 + timedelta(seconds=2))
    assert a.held() == set()
    for run_id in ids:
        assert summary(db, run_id)["status"] == "succeeded"
        row = run_row(db, run_id)
        assert row["lease_owner"] is None  # released when it finished
        with db.begin() as conn:
            history = lease_store.leases_of(conn, run_id=run_id)
        assert [(h["engine_id"], h["end_reason"]) for h in history] == [("a", "finished")]


def test_a_live_lease_keeps_other_replicas_away_and_max_runs_caps_a_replica(
    db: Database,
) -> None:
    ids = [submit(db) for _ in range(3)]
    a, b = Replica(db, "a", max_runs=2), Replica(db, "b")
    a.service.register(T0)
    b.service.register(T0)
    assert len(a.held()) == 2 and len(b.held()) == 1
    assert a.held() | b.held() == set(ids)
    b.service.turn(T0 + timedelta(seconds=10))  # a's leases are alive: nothing to take
    assert len(b.held()) == 1
    assert all(len(r.driver.launched) == len(r.held()) for r in (a, b))


def test_a_dead_replica_s_runs_are_taken_over_after_the_lease_and_adopted(
    db: Database,
) -> None:
    run_id = submit(db)
    a, b = Replica(db, "a"), Replica(db, "b")
    a.service.register(T0)
    b.service.register(T0)
    assert a.held() == {run_id}
    # a dies (no more turns). Before the lease expires b leaves the run alone...
    b.service.turn(T0 + timedelta(seconds=LEASE - 1))
    assert b.held() == set()
    # ...after it, b takes it over and adopts the running attempt: no second launch.
    b.driver.recoveries[AttemptKey(run_id, "a", 1)] = Recovery.ADOPTED
    later = T0 + timedelta(seconds=LEASE + 1)
    b.service.turn(later)
    assert b.held() == {run_id}
    assert b.launched(run_id) == []
    assert "take_over" in b.kinds()
    assert run_row(db, run_id)["lease_epoch"] == 2
    b.driver._ended.append(Outcome(AttemptKey(run_id, "a", 1), 0))  # the adopted one ends
    b.service.turn(later + timedelta(seconds=1))
    assert b.launched(run_id) == ["b"]


def test_a_paused_replica_that_lost_its_run_writes_and_launches_nothing(db: Database) -> None:
    run_id = submit(db)
    a, b = Replica(db, "a"), Replica(db, "b")
    a.service.register(T0)
    b.service.register(T0)
    # a is paused (SIGSTOP) past its lease; b takes the run over and adopts task a.
    b.driver.recoveries[AttemptKey(run_id, "a", 1)] = Recovery.ADOPTED
    b.service.turn(T0 + timedelta(seconds=LEASE + 1))
    assert b.held() == {run_id}
    before = (statuses(db, run_id), run_row(db, run_id)["lease_epoch"])
    # a wakes up and sees task a end: it would launch b, but its fenced write fails.
    a.driver.finish("a", run_id=run_id)
    a.service.turn(T0 + timedelta(seconds=LEASE + 2))
    assert a.held() == set()
    assert a.launched(run_id) == ["a"]  # nothing launched after it lost the run
    assert "lease_lost" in a.kinds()
    assert (statuses(db, run_id), run_row(db, run_id)["lease_epoch"]) == before
    assert run_id in a.driver.forgotten


def test_sigterm_releases_leases_so_a_peer_takes_over_at_once(db: Database) -> None:
    run_id = submit(db)
    a, b = Replica(db, "a"), Replica(db, "b")
    woken: list[bool] = []
    a.service.wake_peers = lambda: woken.append(True)
    a.service.register(T0)
    a.service.shutdown(T0 + timedelta(seconds=1))
    assert run_row(db, run_id)["lease_owner"] is None
    assert woken == [True]  # the peers are told, not left to their next poll
    b.driver.recoveries[AttemptKey(run_id, "a", 1)] = Recovery.ADOPTED
    b.service.register(T0 + timedelta(seconds=2))  # long before a's lease would expire
    assert b.held() == {run_id}
    assert b.launched(run_id) == []


def test_a_second_engine_with_a_live_engine_s_id_refuses_to_start(db: Database) -> None:
    Replica(db, "same").service.register(T0)
    with pytest.raises(StateError, match="an engine with id same is already running"):
        Replica(db, "same").service.register(T0 + timedelta(seconds=1))


def test_a_restarted_engine_with_the_same_id_takes_its_runs_back_at_once(db: Database) -> None:
    run_id = submit(db)
    a = Replica(db, "a")
    a.service.register(T0)
    # a dies; its row says a process on this host that is gone (a pid that cannot be ours)
    with db.begin() as conn:
        conn.execute(update(lease_store.engines).values(pid=2**22 + 7))
    again = Replica(db, "a")
    again.driver.recoveries[AttemptKey(run_id, "a", 1)] = Recovery.ADOPTED
    again.service.register(T0 + timedelta(seconds=1))
    assert again.held() == {run_id}


def test_a_stop_request_reaches_the_engine_that_holds_the_run(db: Database) -> None:
    run_id = submit(db)
    a = Replica(db, "a")
    a.service.register(T0)
    with db.begin() as conn:
        runs_store.request_stop(conn, run_id=run_id)
    a.service.wake()
    a.service.turn(T0 + timedelta(seconds=1))
    assert (AttemptKey(run_id, "a", 1), signal.SIGTERM) in a.driver.signals
    a.driver.finish("a", None, run_id=run_id)  # killed with its group
    a.service.turn(T0 + timedelta(seconds=2))
    assert summary(db, run_id)["status"] == "stopped"


def test_a_run_that_cannot_be_loaded_fails_and_the_others_go_on(db: Database) -> None:
    bad, good = submit(db), submit(db)
    with db.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == bad).values(spec="{not json"))
    a = Replica(db, "a")
    a.service.register(T0)
    assert a.held() == {good}
    row = run_row(db, bad)
    assert row["status"] == "failed" and "cannot load this run" in row["message"]


def test_a_database_outage_loses_no_outcome(db: Database, monkeypatch: Any) -> None:
    run_id = submit(db)
    a = Replica(db, "a")
    a.service.register(T0)
    real_turn = db.turn
    calls = {"n": 0}

    def failing_turn() -> Any:
        calls["n"] += 1
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db, "turn", failing_turn)
    a.driver.finish("a", run_id=run_id)  # task a ends while the database is away
    a.service.turn(T0 + timedelta(seconds=1))
    a.service.turn(T0 + timedelta(seconds=1.2))  # still backing off: not even tried
    assert a.kinds().count("database_unreachable") == 1
    assert a.held() == set() and calls["n"] == 1
    monkeypatch.setattr(db, "turn", real_turn)
    # Back: the engine takes its run back; the driver's files say task a ended.
    a.driver.recoveries[AttemptKey(run_id, "a", 1)] = Recovery.FINISHED
    a.service.turn(T0 + timedelta(seconds=5))
    assert "database_back" in a.kinds()
    assert a.held() == {run_id}
    a.driver._ended.append(Outcome(AttemptKey(run_id, "a", 1), 0))  # read from its exit file
    a.service.turn(T0 + timedelta(seconds=5.1))
    assert statuses(db, run_id)["a"] == "succeeded"
    assert a.launched(run_id) == ["a", "b"]


def test_a_claimed_batch_loads_at_once_and_a_bad_run_in_it_fails_alone(db: Database) -> None:
    first, bad, last = submit(db), submit(db), submit(db)
    with db.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == bad).values(spec="[]"))
    a = Replica(db, "a", batched=True)
    a.service.register(T0)
    assert a.held() == {first, last}
    assert a.launched(first) == ["a"] and a.launched(last) == ["a"]
    assert run_row(db, bad)["status"] == "failed"
    a.driver.finish("a", run_id=first)
    a.service.turn(T0 + timedelta(seconds=1))
    assert a.launched(first) == ["a", "b"]
