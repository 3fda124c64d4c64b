"""A run that ends in the turn that also renews the engine's leases: it released its lease in
that turn, so it is finished (logged, acted on), not mistaken for a lease lost. Found by
bench/engine_service.py, where 2 of 200 runs were logged lease_lost and never finished."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.lease import Identity
from cubestudio.engine.lifecycle import create_run, load_controller, summary
from cubestudio.engine.service import EngineService, ServiceConfig
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store.db import Database

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
LEASE = 15.0
CHAIN = """
name: chain
tasks:
  - {name: a, command: "true"}
  - {name: b, command: "false", depends: [a]}
"""


def test_a_run_ending_in_a_renewal_turn_is_finished_not_lost(db: Database) -> None:
    run_id = create_run(db, spec=load_pipeline_text(CHAIN), params={}, now=T0)
    driver = MemoryDriver()
    events: list[dict[str, Any]] = []
    service = EngineService(
        db=db,
        driver=driver,
        me=Identity(engine_id="a"),
        load=lambda rid: load_controller(db, driver, rid, kill_grace=5, lease_seconds=LEASE),
        config=ServiceConfig(lease_seconds=LEASE),
        log=lambda event, **f: events.append({"event": event, **f}),
    )
    service.register(T0)
    driver.finish("a", run_id=run_id)
    service.turn(T0 + timedelta(seconds=1))  # b launched; not a renewal turn
    key_b = driver.finish("b", exit_code=1, run_id=run_id)
    service.turn(T0 + timedelta(seconds=LEASE / 3 + 1))  # b fails, the run ends, leases renew

    assert summary(db, run_id)["status"] == "failed"
    assert [e["event"] for e in events if e["event"] in ("finished", "lease_lost")] == ["finished"]
    assert events[-1] == {"event": "finished", "run": run_id, "status": "failed"}
    # acted on after the commit: the failed attempt's log got its platform line
    assert (key_b, "attempt 1 failed: exit code 1") in driver.notes
    assert service.held == {}
