"""Admission under random demands, completions, withdrawals and queue changes (fixed seeds):
whatever happens, the pool and every queue stay within their limits, GPU indices are never
shared by non-shareable workers, nothing deadlocks, and every waiting demand has a reason."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from cubestudio.engine.admission import Admission, Demand, Grant, Pool, Queue, Resources, Usage

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GI = 2**30
POOL = Pool(cpu=16, memory=64 * GI, gpus=tuple(range(6)))


def random_queue(rng: random.Random, name: str) -> Queue:
    return Queue(
        name,
        cpu=rng.choice([None, 4.0, 8.0, 12.0]),
        memory=rng.choice([None, 16 * GI, 32 * GI]),
        gpu=rng.choice([None, 2, 4]),
        weight=rng.choice([1.0, 2.0, 3.0]),
    )


def random_demand(rng: random.Random, n: int, queues: list[str]) -> Demand:
    return Demand(
        id=f"d{n}",
        queue=rng.choice(queues),
        submitted_at=T0 + timedelta(seconds=rng.randrange(0, 10 * (n + 1))),
        resources=Resources(
            cpu=rng.choice([0.0, 0.25, 0.5, 1.0, 2.0, 4.0]),
            memory=rng.choice([0, GI // 4, GI, 4 * GI, 16 * GI]),
            gpu=rng.choice([0, 0, 0, 1, 1, 2]),
            gpu_shareable=rng.random() < 0.2,
        ),
        workers=rng.choice([1, 1, 1, 2, 4]),
        priority=rng.randrange(0, 4),
    )


def check(adm: Admission, running: dict[str, Grant], queues: dict[str, Queue]) -> None:
    cpu_m = memory = 0
    per_queue: dict[str, list[int]] = {name: [0, 0, 0] for name in queues}
    exclusive: Counter[int] = Counter()
    shared: set[int] = set()
    for grant in running.values():
        res, workers = grant.demand.resources, grant.demand.workers
        assert len(grant.gpus) == workers, "a gang was admitted in part"
        used = per_queue[grant.demand.queue]
        used[0] += round(res.cpu * 1000) * workers
        used[1] += res.memory * workers
        used[2] += res.gpu * workers
        cpu_m += round(res.cpu * 1000) * workers
        memory += res.memory * workers
        for worker in grant.gpus:
            assert len(worker) == res.gpu == len(set(worker))
            assert set(worker) <= set(POOL.gpus)
            (shared.update if res.gpu_shareable else exclusive.update)(worker)
    assert cpu_m <= POOL.cpu * 1000 and memory <= POOL.memory, "pool over capacity"
    assert all(count == 1 for count in exclusive.values()), "an index given twice"
    assert not shared & set(exclusive), "a non-shareable index shared"
    for name, (q_cpu, q_mem, q_gpu) in per_queue.items():
        queue = queues[name]
        assert queue.cpu is None or q_cpu <= queue.cpu * 1000, f"{name} over its cpu"
        assert queue.memory is None or q_mem <= queue.memory, f"{name} over its memory"
        assert queue.gpu is None or q_gpu <= queue.gpu, f"{name} over its gpu"
    free = adm.free()
    assert round(free.cpu * 1000) == POOL.cpu * 1000 - cpu_m
    assert free.memory == POOL.memory - memory
    assert free.gpu == len(POOL.gpus) - len(set(exclusive) | shared)


@pytest.mark.parametrize("seed", [7, 2026, 31337])
def test_random_demands_and_completions_keep_every_invariant(seed: int) -> None:
    rng = random.Random(seed)
    queues = {name: random_queue(rng, name) for name in ("q0", "q1", "q2", "q3", "q4")}
    adm = Admission(POOL, queues.values())
    running: dict[str, Grant] = {}
    waiting: set[str] = set()
    ever_started: set[str] = set()
    now, n = T0, 0
    for _ in range(600):
        for _ in range(rng.randrange(0, 4)):
            demand = random_demand(rng, n, list(queues))
            n += 1
            adm.submit(demand)
            waiting.add(demand.id)
        for demand_id in rng.sample(sorted(running), k=min(len(running), rng.randrange(0, 3))):
            assert adm.release(demand_id) == running.pop(demand_id)
        if waiting and rng.random() < 0.1:
            gone = rng.choice(sorted(waiting))
            assert adm.withdraw(gone)
            waiting.discard(gone)
        if rng.random() < 0.03:  # raise a queue's capability: parked demands come back
            name = rng.choice(list(queues))
            queues[name] = Queue(name, weight=queues[name].weight)
            adm.set_queue(queues[name])
        now += timedelta(seconds=1)
        out = adm.decide(now)
        for grant in out.started:
            assert grant.id in waiting and grant.id not in ever_started
            assert grant.started_at == now
            waiting.discard(grant.id)
            ever_started.add(grant.id)
            running[grant.id] = grant
        check(adm, running, queues)
        assert all(adm.reason(d) is not None for d in waiting), "a demand without a reason"
        if not running:  # no deadlock: with nothing running, only impossible demands wait
            assert all("more than" in (adm.reason(d) or "") for d in waiting)
    assert len(ever_started) > 300
    for demand_id in list(running):
        adm.release(demand_id)
    assert adm.free() == Usage(cpu=POOL.cpu, memory=POOL.memory, gpu=len(POOL.gpus))
