"""Measure admission: decisions per second with 10,000 queued tasks over 20 queues.

A decision is one demand admitted or given its waiting reason (``len(Decisions)``; reasons
that did not change are not counted, though their demands were looked at). The workload: a
pool of 256 cpu, 1 TiB and 32 GPUs; 20 queues of weights 1-4, some with cpu or gpu
capabilities; demands of 1 worker or gangs of 2-8, some with GPUs, four priorities. After
the queues are filled, each round releases a few running tasks, submits as many new tasks
as the previous round started (so about 10,000 stay queued), and calls ``decide(now)``.

The baseline, timed in the same invocation on the same events, is the same rules written
the obvious way: every decision scans every waiting demand for the next one (O(n)). Both
run in lockstep for --check-rounds rounds and must start exactly the same demands, which
also checks the fast one against the plain reading of the rules; then the fast one runs
alone for --rounds rounds. Target: >= 20,000 decisions/s. Exits 1 only if the two differ.

Usage: .venv/bin/python bench/admission.py [--tasks 10000] [--queues 20] [--rounds 3000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cubestudio.engine.admission import Admission, Demand, Pool, Queue, Resources
from cubestudio.engine.admission.gpus import GpuIndices
from cubestudio.engine.admission.model import Need

GI = 2**30
T0 = datetime(2026, 1, 1, tzinfo=UTC)
POOL = Pool(cpu=256, memory=1024 * GI, gpus=tuple(range(32)))
TARGET = 20_000


def make_queues(count: int) -> list[Queue]:
    caps = [(None, None), (64.0, None), (None, 8), (32.0, 4)]
    return [
        Queue(f"team-{i:02}", cpu=caps[i % 4][0], gpu=caps[i % 4][1], weight=1 + i % 4)
        for i in range(count)
    ]


def make_demand(rng: random.Random, n: int, queues: list[Queue]) -> Demand:
    gang = rng.random() < 0.15
    return Demand(
        id=f"t{n}",
        queue=rng.choice(queues).name,
        submitted_at=T0 + timedelta(seconds=n),
        resources=Resources(
            cpu=rng.choice([0.5, 1.0, 2.0, 4.0]),
            memory=rng.choice([1, 2, 4, 8]) * GI,
            gpu=1 if rng.random() < 0.3 else 0,
        ),
        workers=rng.randint(2, 8) if gang else 1,
        priority=rng.randrange(4),
    )


@dataclass
class Naive:
    """The same rules, the obvious way: each decision scans every waiting demand."""

    queues: dict[str, Queue]
    waiting: dict[str, tuple[Demand, Need, tuple[int, float, int]]] = field(default_factory=dict)
    running: dict[str, tuple[Demand, Need, tuple[tuple[int, ...], ...]]] = field(
        default_factory=dict
    )
    parked: set[str] = field(default_factory=set)
    seq: int = 0

    def __post_init__(self) -> None:
        self.free = [round(POOL.cpu * 1000), POOL.memory]
        self.gpus = GpuIndices(POOL.gpus)
        self.used = {name: [0, 0, 0] for name in self.queues}

    def submit(self, d: Demand) -> None:
        self.seq += 1
        self.waiting[d.id] = (d, Need.of(d), (-d.priority, d.submitted_at.timestamp(), self.seq))

    def release(self, demand_id: str) -> None:
        d, need, gpus = self.running.pop(demand_id)
        self._add(d.queue, need, +1)
        self.gpus.give_back(gpus, need.shareable)

    def _add(self, queue: str, need: Need, sign: int) -> None:
        self.free[0] += sign * need.cpu_m
        self.free[1] += sign * need.memory
        used = self.used[queue]
        used[0] -= sign * need.cpu_m
        used[1] -= sign * need.memory
        used[2] -= sign * need.gpu

    def share(self, name: str) -> float:
        # written as Admission computes it, so that float rounding breaks ties the same way
        used, q = self.used[name], self.queues[name]
        inv = (1.0 / round(POOL.cpu * 1000), 1.0 / POOL.memory, 1.0 / len(POOL.gpus))
        return max(used[0] * inv[0], used[1] * inv[1], used[2] * inv[2]) * (1.0 / q.weight)

    def decide(self) -> list[str]:
        started: list[str] = []
        blocked: set[str] = set()
        reserved: Need | None = None
        while True:
            shares = {name: self.share(name) for name in self.queues}
            best = None
            for demand_id, (d, _need, key) in self.waiting.items():  # the O(n) scan
                if d.queue in blocked or demand_id in self.parked:
                    continue
                rank = (shares[d.queue], *key)
                if best is None or rank < best[0]:
                    best = (rank, demand_id)
            if best is None:
                return started
            d, need, _ = self.waiting[best[1]]
            if self._never(d, need):
                self.parked.add(d.id)
                continue
            fits, reserve = self._fits(d, need, reserved)
            if not fits:
                blocked.add(d.queue)
                if reserve and reserved is None:
                    reserved = need
                continue
            del self.waiting[d.id]
            gpus = self.gpus.take(need.gpu_each, d.workers, need.shareable)
            self.running[d.id] = (d, need, gpus)
            self._add(d.queue, need, -1)
            started.append(d.id)

    def _never(self, d: Demand, need: Need) -> bool:
        q = self.queues[d.queue]
        caps = (None if q.cpu is None else round(q.cpu * 1000), q.memory, q.gpu)
        over = any(c is not None and w > c for w, c in zip(_need(need), caps, strict=True))
        too_big = need.cpu_m > POOL.cpu * 1000 or need.memory > POOL.memory
        return over or too_big or not self.gpus.possible(need.gpu_each, d.workers, need.shareable)

    def _fits(self, d: Demand, need: Need, held: Need | None) -> tuple[bool, bool]:
        """(fits now, short of pool room)"""
        q, used = self.queues[d.queue], self.used[d.queue]
        caps = (None if q.cpu is None else round(q.cpu * 1000), q.memory, q.gpu)
        for w, u, c in zip(_need(need), used, caps, strict=True):
            if c is not None and w and u + w > c:
                return False, False
        gpu = self.gpus.consumes(need.gpu_each, d.workers, need.shareable)
        wants = (need.cpu_m, need.memory, gpu)
        free = (self.free[0], self.free[1], self.gpus.free)
        if any(w > f for w, f in zip(wants, free, strict=True)):
            return False, True
        if held is not None:
            hold = (held.cpu_m, held.memory, held.gpu)
            if any(w and w > f - h for w, f, h in zip(wants, free, hold, strict=True)):
                return False, False
        return True, False


def _need(need: Need) -> tuple[int, int, int]:
    return (need.cpu_m, need.memory, need.gpu)


@dataclass
class Workload:
    """The same events for both: which running tasks end, which new ones arrive."""

    rng: random.Random
    queues: list[Queue]
    n: int = 0
    running: list[str] = field(default_factory=list)

    def new(self, count: int) -> list[Demand]:
        out = [make_demand(self.rng, self.n + i, self.queues) for i in range(count)]
        self.n += count
        return out

    def ending(self) -> list[str]:
        count = min(len(self.running), self.rng.randint(1, 8))
        picked = set(self.rng.sample(range(len(self.running)), count))
        ended = [self.running[i] for i in sorted(picked)]
        self.running = [t for i, t in enumerate(self.running) if i not in picked]
        return ended


def run(args: argparse.Namespace) -> int:
    queues = make_queues(args.queues)
    fast, naive = Admission(POOL, queues), Naive({q.name: q for q in queues})
    work = Workload(random.Random(args.seed), queues)
    demands = work.new(args.tasks)
    began = time.perf_counter()
    for d in demands:
        fast.submit(d)
    first = fast.decide(T0)
    fill_s = time.perf_counter() - began
    for d in demands:
        naive.submit(d)
    began = time.perf_counter()
    naive_first = naive.decide()
    naive_fill_s = time.perf_counter() - began
    if [g.id for g in first.started] != naive_first:
        print("  WRONG: the first decide differs from the baseline's")
        return 1
    work.running = list(naive_first)
    print(
        f"  fill: {args.tasks:,} submitted, {len(first.started)} started, first decide + "
        f"submits {fill_s * 1000:.1f} ms (baseline's first decide {naive_fill_s * 1000:.0f} ms)"
    )
    now, last_started = T0, len(first.started)
    fast_s = fast_cpu = naive_s = 0.0
    decisions = started_total = 0
    for round_no in range(args.rounds):
        ended, arriving = work.ending(), work.new(last_started)
        now += timedelta(seconds=1)
        began, began_cpu = time.perf_counter(), time.process_time()
        for demand_id in ended:
            fast.release(demand_id)
        for d in arriving:
            fast.submit(d)
        out = fast.decide(now)
        fast_s += time.perf_counter() - began
        fast_cpu += time.process_time() - began_cpu
        ids = [g.id for g in out.started]
        if round_no < args.check_rounds:
            began = time.perf_counter()
            for demand_id in ended:
                naive.release(demand_id)
            for d in arriving:
                naive.submit(d)
            naive_ids = naive.decide()
            naive_s += time.perf_counter() - began
            if naive_ids != ids:
                print(f"  WRONG: round {round_no} started {ids}, the baseline {naive_ids}")
                return 1
            if round_no == args.check_rounds - 1:
                check_decisions, check_fast_s = decisions + len(out), fast_s
        work.running.extend(ids)
        decisions += len(out)
        started_total += len(out.started)
        last_started = len(out.started)
    timing = (fast_s, fast_cpu, naive_s, check_fast_s)
    report(args, fast, decisions, started_total, timing, check_decisions)
    return 0


def report(
    args: argparse.Namespace,
    fast: Admission,
    decisions: int,
    started: int,
    timing: tuple[float, float, float, float],
    check_decisions: int,
) -> None:
    fast_s, fast_cpu, naive_s, check_fast_s = timing
    rate = decisions / fast_s
    waiting = sum(s.waiting for s in fast.queue_status())
    print(
        f"  admission, {args.rounds:,} rounds     {fast_s:7.3f} s  {rate:>10,.0f} decisions/s  "
        f"({started:,} started, {decisions - started:,} reasons; {waiting:,} still queued)"
    )
    print(
        f"  the same, per CPU second            {fast_cpu:7.3f} s  "
        f"{decisions / fast_cpu:>10,.0f} decisions/s  (load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores)"
    )
    naive_rate = check_decisions / naive_s
    print(
        f"  baseline O(n) scan, {args.check_rounds} rounds  {naive_s:7.3f} s  "
        f"{naive_rate:>10,.0f} decisions/s  (same rounds, fast: "
        f"{check_decisions / check_fast_s:,.0f}/s, {naive_s / check_fast_s:,.0f}x faster)"
    )
    print(
        f"  {rate:,.0f} decisions/s (target >= {TARGET:,}/s: "
        f"{'ok' if rate >= TARGET else 'MISSED'}); "
        f"{fast_s / args.rounds * 1e6:,.0f} us per round; the baseline started the same tasks"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--check-rounds", type=int, default=40)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    args.check_rounds = max(1, min(args.check_rounds, args.rounds))
    print(
        f"admission: {args.tasks:,} queued tasks over {args.queues} queues, pool "
        f"{POOL.cpu:g} cpu / {POOL.memory // GI} Gi / {len(POOL.gpus)} gpu"
    )
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
