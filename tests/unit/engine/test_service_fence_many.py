"""A turn in which several runs moved fences all their leases with one statement; when any
of them was lost, the turn falls back to fencing run by run, so that the lost run rolls back
alone and the others are still written and acted on. Claiming a batch of runs is one
statement per table as well, and a run claimed by someone else in between is left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, update

from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.lease import Identity
from cubestudio.engine.lifecycle import create_run, load_controller, summary
from cubestudio.engine.service import EngineService, ServiceConfig
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store import leases as lease_store
from cubestudio.store.db import Database
from cubestudio.store.tables import runs

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
CHAIN = """
name: chain
tasks:
  - {name: a, command: "true"}
  - {name: b, command: "true", depends: [a]}
"""


def _engine(db: Database, events: list[str]) -> tuple[EngineService, MemoryDriver]:
    driver = MemoryDriver()
    service = EngineService(
        db=db,
        driver=driver,
        me=Identity(engine_id="a"),
        load=lambda rid: load_controller(db, driver, rid, kill_grace=5),
        config=ServiceConfig(lease_seconds=15.0),
        log=lambda event, **fields: events.append(f"{event} {fields.get('run', '')}".strip()),
    )
    return service, driver


def _claim(conn: Connection, seen: dict[str, int], until: datetime) -> dict[str, int]:
    """Claim for engine instance a/1."""
    return lease_store.claim(
        conn,
        seen=seen,
        owner="a/1",
        engine_id="a",
        host="h",
        pid=1,
        process_start="1",
        now=T0,
        expires_at=until,
    )


def _submit(db: Database, count: int) -> list[str]:
    spec = load_pipeline_text(CHAIN)
    return [create_run(db, spec=spec, params={}, now=T0) for _ in range(count)]


def test_one_lost_run_among_many_rolls_back_alone(db: Database) -> None:
    ids = _submit(db, 4)
    events: list[str] = []
    service, driver = _engine(db, events)
    service.register(T0)
    assert set(service.held) == set(ids)
    stolen = ids[1]
    with db.begin() as conn:  # another engine took one run over (its epoch moved on)
        conn.execute(
            update(runs)
            .where(runs.c.id == stolen)
            .values(lease_owner="b/x", lease_epoch=runs.c.lease_epoch + 1)
        )
    for run_id in ids:
        driver.finish("a", run_id=run_id)
    service.turn(T0 + timedelta(seconds=1))

    launched = {(r.key.run_id, r.key.task) for r in driver.launched}
    for run_id in ids:
        if run_id == stolen:
            assert (run_id, "b") not in launched
            assert summary(db, run_id)["tasks"]["a"]["status"] == "running"  # nothing written
        else:
            assert (run_id, "b") in launched
            assert summary(db, run_id)["tasks"]["a"]["status"] == "succeeded"
    assert f"lease_lost {stolen}" in events
    assert set(service.held) == set(ids) - {stolen}


def test_the_batched_fence_renews_every_lease_it_holds(db: Database) -> None:
    ids = _submit(db, 3)
    with db.begin() as conn:
        until = T0 + timedelta(seconds=30)
        epochs = dict.fromkeys(ids, 0)
        assert not lease_store.fence_many(conn, owner="a/1", epochs=epochs, expires_at=until)
        taken = _claim(conn, epochs, until)
        assert taken == dict.fromkeys(ids, 1)
        later = until + timedelta(seconds=5)
        assert lease_store.fence_many(conn, owner="a/1", epochs=taken, expires_at=later)
        expiries = {r: lease_store.lease_of(conn, run_id=r)["lease_expires_at"] for r in ids}
    assert expiries == dict.fromkeys(ids, later)


def test_a_claim_leaves_out_a_run_claimed_meanwhile(db: Database) -> None:
    ids = _submit(db, 3)
    with db.begin() as conn:  # a peer claimed ids[0] after we read its epoch 0
        conn.execute(update(runs).where(runs.c.id == ids[0]).values(lease_epoch=1))
        taken = _claim(conn, dict.fromkeys(ids, 0), T0 + timedelta(seconds=15))
        history = {r: lease_store.leases_of(conn, run_id=r) for r in ids}
    assert taken == {ids[1]: 1, ids[2]: 1}
    assert history[ids[0]] == []
    assert [h["epoch"] for h in history[ids[1]]] == [1]


class _Deadlock(Exception):
    """What pymysql raises for a deadlock: errno 1213 first in its args."""

    def __init__(self) -> None:
        super().__init__(1213, "Deadlock found when trying to get lock; try restarting transaction")


def test_a_turn_that_loses_a_deadlock_is_written_again_whole(db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    ids = _submit(db, 2)
    events: list[str] = []
    service, driver = _engine(db, events)
    service.register(T0)
    real = lease_store.renew_all
    failures = [OperationalError("UPDATE runs ...", {}, _Deadlock())]

    def renew_once_deadlocked(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures:  # the whole first try of the turn rolls back
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(lease_store, "renew_all", renew_once_deadlocked)
    for run_id in ids:
        driver.finish("a", run_id=run_id)
    service.turn(T0 + timedelta(seconds=6))  # past lease/3: a renewal turn, renew_all in it
    launched = [(r.key.run_id, r.key.task) for r in driver.launched]
    assert sorted(launched) == sorted([(r, "a") for r in ids] + [(r, "b") for r in ids])
    for run_id in ids:
        assert summary(db, run_id)["tasks"]["a"]["status"] == "succeeded"
    assert any(e.startswith("turn_retried") for e in events)
    assert not any(e.startswith("database_unreachable") for e in events)
    assert set(service.held) == set(ids)
