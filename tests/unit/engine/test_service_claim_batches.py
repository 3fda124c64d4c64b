"""The engine service claims free runs in batches of ``claim_batch`` and starts each batch (its
first tasks launched) before claiming the next: with many runs submitted at once the first
ones start at once rather than after every claim (bench/engine_service.py, submit -> first
task started)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.launcher import AttemptKey, Recovery
from cubestudio.engine.lease import Identity
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.engine.service import EngineService, ServiceConfig
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store import leases as lease_store
from cubestudio.store.db import Database
from cubestudio.store.tables import runs

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
ONE = """
name: one
tasks:
  - {name: a, command: "true"}
"""


class Engine:
    """An engine service over an in-memory driver; each claim event notes how many tasks
    had been launched when it was logged."""

    def __init__(self, db: Database, *, claim_batch: int, max_runs: int = 100) -> None:
        self.driver = MemoryDriver()
        self.claims: list[tuple[str, int]] = []  # (event, launches so far)
        self.service = EngineService(
            db=db,
            driver=self.driver,
            me=Identity(engine_id="a"),
            load=lambda rid: load_controller(db, self.driver, rid, kill_grace=5),
            config=ServiceConfig(max_runs=max_runs, claim_batch=claim_batch),
            log=self._log,
        )

    def _log(self, event: str, **_fields: Any) -> None:
        if event in ("claim", "take_over", "reclaim"):
            self.claims.append((event, len(self.driver.launched)))


def submit(db: Database, count: int) -> list[str]:
    spec = load_pipeline_text(ONE)
    return [create_run(db, spec=spec, params={}, now=T0) for _ in range(count)]


def owners(db: Database, ids: list[str]) -> list[str | None]:
    with db.begin() as conn:
        query = select(runs.c.lease_owner).where(runs.c.id.in_(ids))
        return list(conn.execute(query).scalars())


def test_each_batch_is_started_before_the_next_is_claimed(db: Database) -> None:
    engine = Engine(db, claim_batch=2)
    engine.service.register(T0)
    ids = submit(db, 5)
    engine.service.wake()
    engine.service.turn(T0 + timedelta(seconds=1))  # claims every free run, two at a time
    assert set(engine.service.held) == set(ids)
    assert engine.claims == [("claim", 0), ("claim", 0), ("claim", 2), ("claim", 2), ("claim", 4)]
    assert len(engine.driver.launched) == 5


def test_batches_stop_at_max_runs(db: Database) -> None:
    engine = Engine(db, claim_batch=2, max_runs=3)
    engine.service.register(T0)
    ids = submit(db, 5)
    engine.service.wake()
    engine.service.turn(T0 + timedelta(seconds=1))
    assert len(engine.service.held) == 3
    assert owners(db, ids).count(None) == 2  # left for another replica
    engine.service.wake()
    engine.service.turn(T0 + timedelta(seconds=2))  # a later claim takes nothing more
    assert len(engine.service.held) == 3


def test_a_restart_takes_all_its_earlier_runs_back_in_one_batch(db: Database) -> None:
    ids = submit(db, 5)
    Engine(db, claim_batch=100).service.register(T0)
    # the first process dies (its row names a pid that cannot be alive); a restart with the
    # same id takes every run back at once, however small its batches
    with db.begin() as conn:
        conn.execute(update(lease_store.engines).values(pid=2**22 + 7))
    again = Engine(db, claim_batch=2)
    for run_id in ids:
        again.driver.recoveries[AttemptKey(run_id, "a", 1)] = Recovery.ADOPTED
    again.service.register(T0 + timedelta(seconds=1))
    assert set(again.service.held) == set(ids)
    assert [event for event, _ in again.claims] == ["reclaim"] * 5
    assert again.driver.launched == []  # adopted, not launched again
