"""Measure admission as the engine runs it: through the gate (engine/gate.py) and the store.

The workload of bench/admission.py (10,000 queued tasks over 20 queues, gangs, GPUs,
priorities): each round some running tasks end, as many new ones arrive, and one decision
pass runs as a controller's turn does: in a transaction, under the pool lock, reading the
queues and every other process's allocations, writing a row per grant and deleting the rows
of the tasks that ended. A second process's 200 allocations stand in the store throughout.

Baseline, timed in the same invocation on the same events: the pure core (engine/admission)
deciding alone, in memory. The figure: decisions per second through the gate (target, as
for the core: >= 20,000/s), and the cost of one pass.

Usage: .venv/bin/python bench/admission_gate.py [--tasks 10000] [--rounds 300] [--url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parent))
from admission import POOL, T0, Workload, make_queues  # noqa: E402

from cubestudio.engine.admission import Admission  # noqa: E402
from cubestudio.engine.gate import AdmissionGate, demand_id  # noqa: E402
from cubestudio.store import queues as queue_store  # noqa: E402
from cubestudio.store import runs as run_store  # noqa: E402
from cubestudio.store.db import Database  # noqa: E402
from cubestudio.store.tables import allocations, runs  # noqa: E402

RUN = "bench-run"
OTHER = "other-run"


def _store(url: str) -> Database:
    db = Database(url)
    db.ensure_schema()
    with db.begin() as conn:
        pipeline_id, _ = run_store.upsert_pipeline(
            conn, name="bench", spec_json="{}", creator="bench", now=T0
        )
        for run_id in (RUN, OTHER):
            conn.execute(
                insert(runs).values(
                    id=run_id,
                    pipeline_id=pipeline_id,
                    pipeline_name="bench",
                    spec="{}",
                    params="{}",
                    status="running",
                    trigger="manual",
                    creator="bench",
                    runner="bench",
                    cluster_name="local",
                    execution_date=T0,
                    created_at=T0,
                )
            )
        conn.execute(
            insert(allocations),
            [
                {
                    "run_id": OTHER,
                    "task_name": f"held-{i}",
                    "owner": "another engine",
                    "queue": "team-00",
                    "priority": 0,
                    "cpu": 0.01,
                    "memory": 1,
                    "gpu": 0,
                    "shareable": False,
                    "workers": 1,
                    "gpus": json.dumps([[]]),
                    "granted_at": T0,
                }
                for i in range(200)
            ],
        )
    return db


def run(args: argparse.Namespace) -> None:
    queues = make_queues(args.queues)
    db = _store(args.url)
    gate = AdmissionGate(POOL, poll_seconds=0.0)
    core = Admission(POOL, queues)
    with db.begin() as conn:
        for queue in queues:
            row = {"name": queue.name, "cpu": queue.cpu, "memory": queue.memory}
            row |= {"gpu": queue.gpu, "weight": queue.weight, "updated_at": T0}
            queue_store.save_queue(conn, row=row)
    work = Workload(random.Random(args.seed), queues)
    arriving = work.new(args.tasks)
    gate_s = core_s = 0.0
    decisions = core_decisions = 0
    now = T0
    for round_no in range(args.rounds + 1):
        ended = work.ending() if round_no else []
        began = time.perf_counter()
        with db.turn() as conn:
            for task in ended:
                gate.release((RUN, task))
            queue_store.drop_allocations(conn, keys=[(RUN, task) for task in ended])
            for d in arriving:
                gate.submit(
                    (RUN, d.id),
                    queue=d.queue,
                    need=d.resources,
                    workers=d.workers,
                    priority=d.priority,
                    now=d.submitted_at,
                )
            gate.decide(conn, now)
        gate.committed()
        grants, reasons = gate.take(RUN)
        if round_no:
            gate_s += time.perf_counter() - began
            decisions += len(grants) + len(reasons)
        began = time.perf_counter()
        for task in ended:
            core.release(demand_id((RUN, task)))
        for d in arriving:
            core.submit(
                d.__class__(
                    demand_id((RUN, d.id)),
                    d.queue,
                    d.submitted_at,
                    d.resources,
                    d.workers,
                    d.priority,
                )
            )
        out = core.decide(now)
        if round_no:
            core_s += time.perf_counter() - began
            core_decisions += len(out)
        work.running.extend(grants)
        arriving = work.new(len(grants))
        now += timedelta(seconds=1)
    rounds = args.rounds
    backend = args.url.split(":")[0]
    print(f"  {args.tasks:,} queued tasks, {args.queues} queues, {rounds} passes ({backend})")
    print(
        f"  core alone (baseline)  {core_s / rounds * 1000:7.2f} ms/pass  "
        f"{core_decisions / core_s:>10,.0f} decisions/s"
    )
    print(
        f"  through gate + store   {gate_s / rounds * 1000:7.2f} ms/pass  "
        f"{decisions / gate_s:>10,.0f} decisions/s  (target >= 20,000/s)"
    )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        args.url = args.url or f"sqlite:///{folder}/bench.db"
        run(args)


if __name__ == "__main__":
    main()
