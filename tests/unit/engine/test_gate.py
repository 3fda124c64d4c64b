"""The admission gate over a real store (every backend): two gates stand for two processes
on one pool (an engine service and `cube run` on its own), sharing it through the
``allocations`` rows; and a controller with a gate (the in-memory driver, injected time)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.admission import Pool
from cubestudio.engine.admission import Resources as Need
from cubestudio.engine.gate import AdmissionGate
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store import queues as queue_store
from cubestudio.store.db import Database
from tests.unit.engine.conftest import T0

GI = 2**30
POOL = Pool(cpu=8, memory=64 * GI, gpus=(0, 1, 2, 3))
ONE_TASK = "name: p\ntasks:\n  - {name: t, command: 'true'}\n"


def _run(db: Database) -> str:
    spec = load_pipeline_text(ONE_TASK)
    return create_run(db, spec=spec, params={}, now=T0)


def _decide(
    db: Database, gate: AdmissionGate, run_id: str
) -> tuple[dict[str, Any], dict[str, str]]:
    with db.begin() as conn:
        gate.decide(conn, T0)
    gate.committed()
    return gate.take(run_id)


def _submit(gate: AdmissionGate, run_id: str, gpu: int) -> None:
    gate.submit((run_id, "t"), queue="default", need=Need(gpu=gpu), workers=1, priority=0, now=T0)


def test_a_second_process_never_gets_what_the_first_holds(db: Database) -> None:
    first, second = _run(db), _run(db)
    engine, cli = AdmissionGate(POOL, owner="engine"), AdmissionGate(POOL, owner="cli")
    _submit(engine, first, 4)
    grants, _ = _decide(db, engine, first)
    assert grants["t"].gpus == ((0, 1, 2, 3),)
    _submit(cli, second, 1)
    grants, reasons = _decide(db, cli, second)
    assert grants == {}
    assert reasons["t"].startswith("queued: needs 1 gpu, the pool has 0 of 4 gpu free")
    engine.release((first, "t"))  # its attempt ended: the turn deletes the row
    with db.begin() as conn:
        queue_store.drop_allocations(conn, keys=[(first, "t")])
    grants, _ = _decide(db, cli, second)
    assert grants["t"].gpus == ((0,),)


def test_a_decision_rolled_back_is_written_again(db: Database) -> None:
    run_id, other = _run(db), _run(db)
    gate, rival = AdmissionGate(POOL, owner="a"), AdmissionGate(POOL, owner="b")
    _submit(gate, run_id, 4)
    with pytest.raises(RuntimeError), db.begin() as conn:
        gate.decide(conn, T0)
        raise RuntimeError("a deadlock: the turn is rolled back")
    assert gate.due()  # its grant's row is still to be written
    with db.begin() as conn:
        gate.decide(conn, T0)
    gate.committed()
    _submit(rival, other, 1)
    grants, _ = _decide(db, rival, other)
    assert grants == {}, "the rival saw the row written on the second try"


def test_a_run_taken_over_keeps_its_gpu_indices(db: Database) -> None:
    run_id = _run(db)
    old, new = AdmissionGate(POOL, owner="old"), AdmissionGate(POOL, owner="new")
    _submit(old, run_id, 2)
    grants, _ = _decide(db, old, run_id)
    old.forget_run(run_id)  # its lease was lost
    with db.begin() as conn:
        rows = queue_store.adopt_allocations(conn, run_id=run_id, owner=new.owner)
    grant = new.adopt((run_id, "t"), rows["t"], T0)
    assert grant is not None and grant.gpus == grants["t"].gpus
    with db.begin() as conn:
        owners = {r["owner"] for r in queue_store.allocations_of(conn, run_id=run_id).values()}
    assert owners == {"new"}


GPU_TASKS = """
name: gpus
tasks:
  - {name: a, command: 'true', resources: {gpu: 2}}
  - {name: b, command: 'true', resources: {gpu: 2}}
  - {name: c, command: 'true', resources: {gpu: 2}}
  - {name: free, command: 'true'}
"""


def test_a_controller_launches_what_its_gate_grants(db: Database) -> None:
    spec = load_pipeline_text(GPU_TASKS)
    run_id = create_run(db, spec=spec, params={}, now=T0)
    driver, gate = MemoryDriver(), AdmissionGate(POOL, poll_seconds=0)
    ctl = load_controller(db, driver, run_id, kill_grace=5, gate=gate)
    ctl.start(T0)
    launched = {r.key.task: r.env.get("CUDA_VISIBLE_DEVICES") for r in driver.launched}
    assert launched == {"free": None, "a": "0,1", "b": "2,3"}  # free asked for nothing
    with db.begin() as conn:
        waiting = {
            r["name"]: r["message"]
            for r in conn.exec_driver_sql(
                "SELECT name, message FROM task_runs WHERE status = 'queued'"
            ).mappings()
        }
    assert waiting == {
        "c": "queued: needs 2 gpu, the pool has 0 of 4 gpu free; reserved for it as they free up"
    }
    driver.finish("a")
    ctl.tick(T0 + timedelta(seconds=1))
    assert [r.env["CUDA_VISIBLE_DEVICES"] for r in driver.launched if r.key.task == "c"] == ["0,1"]
    with db.begin() as conn:
        held = {r["task_name"]: json.loads(r["gpus"]) for r in queue_store.live_allocations(conn)}
    assert held == {"b": [[2, 3]], "c": [[0, 1]]}  # a's row went with its attempt's end


def test_a_task_larger_than_the_whole_pool_fails_at_once_with_the_fix(db: Database) -> None:
    text = "name: big\ntasks:\n  - {name: t, command: 'true', resources: {gpu: 8}}\n"
    run_id = create_run(db, spec=load_pipeline_text(text), params={}, now=T0)
    driver = MemoryDriver()
    ctl = load_controller(db, driver, run_id, kill_grace=5, gate=AdmissionGate(POOL))
    ctl.start(T0)
    assert driver.launched == [] and ctl.done
    node = ctl.by_name["t"]
    assert node.message == (
        "cannot start: needs 8 gpu, more than the pool's 4 gpu; lower the task's resources "
        "or raise CUBE_POOL_GPU"
    )
