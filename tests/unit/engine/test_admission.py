"""Admission's rules, stepped by hand with injected time: limits, order, fair share, gangs,
reservations, GPU indices and the waiting reasons users read."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from cubestudio.engine.admission import (
    Admission,
    AdmissionError,
    Decisions,
    Demand,
    Pool,
    Queue,
    Resources,
    Usage,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
GI = 2**30


def ask(
    demand_id: str,
    queue: str = "q",
    *,
    cpu: float = 0.0,
    memory: int = 0,
    gpu: int = 0,
    workers: int = 1,
    priority: int = 0,
    at: float = 0.0,
    shareable: bool = False,
) -> Demand:
    return Demand(
        id=demand_id,
        queue=queue,
        submitted_at=T0 + timedelta(seconds=at),
        resources=Resources(cpu=cpu, memory=memory, gpu=gpu, gpu_shareable=shareable),
        workers=workers,
        priority=priority,
    )


def started(decisions: Decisions) -> list[str]:
    return [grant.id for grant in decisions.started]


def pool(cpu: float = 64, memory: int = 256 * GI, gpus: int = 0) -> Pool:
    return Pool(cpu=cpu, memory=memory, gpus=tuple(range(gpus)))


# -- limits -----------------------------------------------------------------------------------
def test_queue_capability_limits_what_starts() -> None:
    adm = Admission(pool(gpus=8), [Queue("team-a", gpu=2)])
    for i in range(3):
        adm.submit(ask(f"t{i}", "team-a", gpu=1, at=i))
    out = adm.decide(T0)
    assert started(out) == ["t0", "t1"]
    assert out.waiting == {"t2": "queued: needs 1 gpu, queue team-a has 0 of 2 free"}
    adm.release("t0")
    assert started(adm.decide(T0)) == ["t2"]


def test_a_capability_change_takes_effect_at_the_next_decide() -> None:
    adm = Admission(pool(gpus=8), [Queue("team-a", gpu=2)])
    for i in range(4):
        adm.submit(ask(f"t{i}", "team-a", gpu=1, at=i))
    assert started(adm.decide(T0)) == ["t0", "t1"]
    adm.set_queue(Queue("team-a", gpu=3))  # raised: one more fits, nothing was released
    out = adm.decide(T0)
    assert started(out) == ["t2"]
    assert out.waiting == {"t3": "queued: needs 1 gpu, queue team-a has 0 of 3 free"}
    adm.submit(ask("pair", "team-a", gpu=2, priority=1, at=9))
    adm.set_queue(Queue("team-a", gpu=1))  # lowered below what "pair" needs: parked
    out = adm.decide(T0)
    assert out.waiting["pair"].startswith("queued: needs 2 gpu, more than queue team-a's")
    assert out.waiting["t3"] == "queued: needs 1 gpu, queue team-a has 0 of 1 free"
    assert [s.waiting for s in adm.queue_status()] == [2]


def test_pool_limits_cpu_and_memory() -> None:
    adm = Admission(pool(cpu=8, memory=64 * GI), [Queue("q")])
    adm.submit(ask("big", cpu=6, memory=48 * GI))
    adm.submit(ask("cpu", cpu=4, at=1))
    out = adm.decide(T0)
    assert started(out) == ["big"]
    assert out.waiting["cpu"] == (
        "queued: needs 4 cpu, the pool has 2 of 8 cpu free; reserved for it as they free up"
    )
    adm.release("big")
    adm.submit(ask("mem", cpu=1, memory=48 * GI, at=2))
    adm.submit(ask("mem2", cpu=1, memory=32 * GI, at=3))
    out = adm.decide(T0)
    assert started(out) == ["cpu", "mem"]
    assert out.waiting["mem2"] == (
        "queued: needs 32Gi memory, the pool has 16Gi of 64Gi memory free; "
        "reserved for it as they free up"
    )


# -- order ------------------------------------------------------------------------------------
def test_higher_priority_starts_first() -> None:
    adm = Admission(pool(cpu=1), [Queue("q")])
    adm.submit(ask("low", cpu=1, priority=0, at=0))
    adm.submit(ask("high", cpu=1, priority=5, at=1))
    adm.submit(ask("mid", cpu=1, priority=2, at=2))
    order = []
    for _ in range(3):
        (grant,) = adm.decide(T0).started
        order.append(grant.id)
        adm.release(grant.id)
    assert order == ["high", "mid", "low"]


def test_fifo_by_submitted_at_within_a_priority() -> None:
    adm = Admission(pool(cpu=1), [Queue("q")])
    for name, at in [("third", 30), ("first", 10), ("second", 20)]:
        adm.submit(ask(name, cpu=1, at=at))
    order = []
    for _ in range(3):
        (grant,) = adm.decide(T0).started
        order.append(grant.id)
        adm.release(grant.id)
    assert order == ["first", "second", "third"]


def test_fair_share_by_weight_one_to_three_over_40_tasks() -> None:
    adm = Admission(pool(cpu=4), [Queue("light", weight=1), Queue("heavy", weight=3)])
    for i in range(40):
        adm.submit(ask(f"l{i}", "light", cpu=1, at=i))
        adm.submit(ask(f"h{i}", "heavy", cpu=1, at=i))
    now, running, counts = T0, deque[str](), {"light": 0, "heavy": 0}
    while sum(counts.values()) < 40:
        for grant in adm.decide(now).started:
            running.append(grant.id)
            counts[grant.demand.queue] += 1
        now += timedelta(seconds=1)
        adm.release(running.popleft())  # one at a time, oldest first
    assert counts["light"] + counts["heavy"] == 40
    assert 9 <= counts["light"] <= 11 and 29 <= counts["heavy"] <= 31


# -- gangs and reservations -------------------------------------------------------------------
def test_gang_is_admitted_whole_or_not_at_all() -> None:
    adm = Admission(pool(gpus=4), [Queue("q")])
    adm.submit(ask("single", gpu=1))
    adm.submit(ask("gang", gpu=1, workers=4, at=1))
    out = adm.decide(T0)
    assert started(out) == ["single"]
    assert adm.free().gpu == 3  # nothing of the gang was taken
    adm.release("single")
    (grant,) = adm.decide(T0).started
    assert grant.id == "gang" and grant.gpus == ((0,), (1,), (2,), (3,))


def test_seeds_case_four_gpus_two_gangs_of_four() -> None:
    adm = Admission(pool(gpus=4), [Queue("team-a")])
    adm.submit(ask("job-1", "team-a", cpu=1, gpu=1, workers=4, at=0))
    adm.submit(ask("job-2", "team-a", cpu=1, gpu=1, workers=4, at=1))
    out = adm.decide(T0)
    assert started(out) == ["job-1"]
    assert [g.cuda_visible_devices(w) for g in out.started for w in range(4)] == list("0123")
    assert out.waiting == {
        "job-2": "queued: needs 4 gpu, the pool has 0 of 4 gpu free; "
        "reserved for it as they free up"
    }
    assert adm.decide(T0 + timedelta(seconds=5)).started == []
    assert adm.free() == Usage(cpu=60, memory=256 * GI, gpu=0)
    adm.release("job-1")
    out = adm.decide(T0 + timedelta(seconds=10))
    assert started(out) == ["job-2"] and out.started[0].started_at == T0 + timedelta(seconds=10)


def test_large_gang_is_not_starved_by_a_stream_of_small_tasks() -> None:
    adm = Admission(pool(gpus=4), [Queue("small", weight=10), Queue("big", weight=1)])
    for i in range(4):
        adm.submit(ask(f"s{i}", "small", gpu=1, at=i))
    assert len(adm.decide(T0).started) == 4
    adm.submit(ask("gang", "big", gpu=1, workers=4, at=10))
    now, seq, running = T0, 100, deque(f"s{i}" for i in range(4))
    for _ in range(3):
        for _ in range(2):  # the stream: two new small tasks for each one that ends
            seq += 1
            adm.submit(ask(f"s{seq}", "small", gpu=1, at=seq))
        adm.release(running.popleft())
        now += timedelta(seconds=1)
        assert adm.decide(now).started == []  # a freed GPU is kept for the gang
        assert adm.reserved == "gang"
        assert adm.reason("s101") == "queued: waiting behind a reservation for gang"
    adm.release(running.popleft())
    assert started(adm.decide(now)) == ["gang"]  # as soon as the four small ones ended


def test_backfill_uses_only_what_the_reservation_does_not_need() -> None:
    adm = Admission(pool(cpu=8, gpus=4), [Queue("hogs"), Queue("big"), Queue("b")])
    adm.submit(ask("hog", "hogs", cpu=2, gpu=3))
    adm.decide(T0)
    adm.submit(ask("gang", "big", cpu=1, gpu=1, workers=2, at=1))  # 2 gpu, 1 is free
    adm.submit(ask("gpu-small", "b", gpu=1, at=2))
    adm.submit(ask("cpu-only", "b", cpu=4, at=3))
    out = adm.decide(T0)
    assert adm.reserved == "gang"
    assert out.waiting["gang"] == (
        "queued: needs 2 gpu, the pool has 1 of 4 gpu free; reserved for it as they free up"
    )
    assert out.waiting["gpu-small"] == "queued: waiting behind a reservation for gang"
    assert started(out) == []  # b is strict FIFO: cpu-only waits behind gpu-small
    adm.withdraw("gpu-small")
    out = adm.decide(T0)
    assert started(out) == ["cpu-only"]  # 6 cpu free, the gang needs 2: 4 are surplus
    adm.submit(ask("cpu-more", "b", cpu=1, at=4))
    out = adm.decide(T0)
    assert out.waiting["cpu-more"] == "queued: waiting behind a reservation for gang"
    adm.release("hog")
    assert started(adm.decide(T0)) == ["gang", "cpu-more"]
    assert adm.reserved is None


def test_the_reservation_follows_the_order_within_a_queue() -> None:
    adm = Admission(pool(gpus=4), [Queue("a"), Queue("b")])
    adm.submit(ask("other", "b", gpu=3))
    adm.decide(T0)
    adm.submit(ask("gang", "a", gpu=1, workers=2, at=1))
    adm.decide(T0)
    assert adm.reserved == "gang"
    adm.submit(ask("urgent", "a", gpu=1, priority=9, at=2))  # first in a now, and it fits
    out = adm.decide(T0)
    assert started(out) == ["urgent"] and adm.reserved == "gang"
    assert adm.reason("gang") == (
        "queued: needs 2 gpu, the pool has 0 of 4 gpu free; reserved for it as they free up"
    )
    adm.release("other")
    assert started(adm.decide(T0)) == ["gang"]


def test_withdrawing_the_reserved_demand_frees_the_reservation() -> None:
    adm = Admission(pool(gpus=2), [Queue("a"), Queue("b"), Queue("c")])
    adm.submit(ask("one", "c", gpu=1))
    adm.decide(T0)
    adm.submit(ask("gang", "a", gpu=1, workers=2, at=1))
    adm.submit(ask("small", "b", gpu=1, at=2))
    assert started(adm.decide(T0)) == [] and adm.reserved == "gang"
    assert adm.withdraw("gang") and not adm.withdraw("gang")
    assert started(adm.decide(T0)) == ["small"]


# -- demands that can never fit ---------------------------------------------------------------
def test_a_demand_larger_than_its_queue_is_parked_and_blocks_nothing() -> None:
    adm = Admission(pool(gpus=8), [Queue("team-a", gpu=4)])
    adm.submit(ask("huge", "team-a", gpu=1, workers=8))
    adm.submit(ask("after", "team-a", gpu=1, at=1))
    out = adm.decide(T0)
    assert started(out) == ["after"]
    assert out.waiting["huge"] == (
        "queued: needs 8 gpu, more than queue team-a's capability of 4; "
        "raise it with: cube queue set team-a --gpu 8"
    )
    assert adm.queue_status()[0].waiting == 1
    adm.set_queue(Queue("team-a", gpu=8))
    adm.release("after")
    assert started(adm.decide(T0)) == ["huge"]


def test_a_demand_larger_than_the_pool_is_parked_with_the_setting_to_raise() -> None:
    adm = Admission(pool(cpu=4, gpus=2), [Queue("q")])
    adm.submit(ask("gpus", gpu=3))
    adm.submit(ask("cpus", cpu=5, at=1))
    adm.submit(ask("fits", cpu=1, at=2))
    out = adm.decide(T0)
    assert started(out) == ["fits"] and adm.reserved is None
    assert out.waiting == {
        "gpus": "queued: needs 3 gpu, more than the pool's 2 gpu; "
        "lower the task's resources or raise CUBE_POOL_GPU",
        "cpus": "queued: needs 5 cpu, more than the pool's 4 cpu; "
        "lower the task's resources or raise CUBE_POOL_CPU",
    }


# -- GPU indices ------------------------------------------------------------------------------
def test_gpu_indices_are_never_shared_unless_shareable() -> None:
    adm = Admission(pool(gpus=3), [Queue("q")])
    adm.submit(ask("ex1", gpu=1))
    adm.submit(ask("sh1", gpu=1, shareable=True, at=1))
    adm.submit(ask("sh2", gpu=1, shareable=True, at=2))
    adm.submit(ask("ex2", gpu=1, at=3))
    adm.submit(ask("ex3", gpu=1, at=4))
    out = adm.decide(T0)
    got = {g.id: g.cuda_visible_devices() for g in out.started}
    assert got == {"ex1": "0", "sh1": "1", "sh2": "1", "ex2": "2"}
    assert out.waiting["ex3"].startswith("queued: needs 1 gpu, the pool has 0 of 3 gpu free")
    adm.release("sh1")
    assert started(adm.decide(T0)) == []  # index 1 still held by sh2
    adm.release("sh2")
    (grant,) = adm.decide(T0).started
    assert (grant.id, grant.cuda_visible_devices()) == ("ex3", "1")


def test_workers_get_distinct_indices_and_empty_devices_without_gpus() -> None:
    adm = Admission(pool(gpus=4), [Queue("q")])
    adm.submit(ask("pair", gpu=2, workers=2))
    adm.submit(ask("cpu", cpu=1, workers=2, at=1))
    grants = {g.id: g for g in adm.decide(T0).started}
    assert grants["pair"].gpus == ((0, 1), (2, 3))
    assert grants["pair"].cuda_visible_devices(1) == "2,3"
    assert grants["cpu"].cuda_visible_devices(0) == ""


# -- reasons ----------------------------------------------------------------------------------
def test_reasons_are_reported_once_and_when_they_change() -> None:
    adm = Admission(pool(gpus=4), [Queue("team-a", gpu=4)])
    adm.submit(ask("run", "team-a", gpu=4))
    adm.submit(ask("next", "team-a", gpu=4, at=1))
    adm.submit(ask("later", "team-a", gpu=1, at=2))
    out = adm.decide(T0)
    assert out.waiting == {
        "next": "queued: needs 4 gpu, queue team-a has 0 of 4 free",
        "later": "queued: waiting for its turn in queue team-a",
    }
    assert adm.decide(T0).waiting == {}  # nothing changed: nothing to store again
    adm.submit(ask("vip", "team-a", gpu=1, priority=3, at=3))
    out = adm.decide(T0)
    assert out.waiting == {
        "vip": "queued: needs 1 gpu, queue team-a has 0 of 4 free",
        "next": "queued: waiting for its turn in queue team-a",
    }
    assert adm.reason("later") == "queued: waiting for its turn in queue team-a"
    adm.release("run")
    out = adm.decide(T0)
    assert started(out) == ["vip"]
    assert out.waiting == {"next": "queued: needs 4 gpu, queue team-a has 3 of 4 free"}
    assert adm.reason("vip") is None


# -- release, restore, errors -----------------------------------------------------------------
def test_release_returns_everything_to_the_pool_and_the_queue() -> None:
    adm = Admission(pool(cpu=8, memory=32 * GI, gpus=4), [Queue("a", cpu=8), Queue("b")])
    adm.submit(ask("x", "a", cpu=2.5, memory=3 * GI, gpu=1, workers=2))
    adm.submit(ask("y", "b", cpu=0.1, memory=GI // 2, gpu=1, shareable=True, at=1))
    adm.submit(ask("z", "b", cpu=0.2, gpu=1, shareable=True, at=2))
    assert len(adm.decide(T0).started) == 3
    assert adm.free() == Usage(cpu=2.7, memory=32 * GI - 6 * GI - GI // 2, gpu=1)
    for demand_id in ("x", "y", "z"):
        grant = adm.release(demand_id)
        assert grant is not None and grant.id == demand_id
    assert adm.release("x") is None  # twice: nothing more comes back
    assert adm.free() == Usage(cpu=8, memory=32 * GI, gpu=4)
    assert all(s.used == Usage() and s.running == 0 for s in adm.queue_status())
    adm.submit(ask("all", "a", cpu=2, memory=8 * GI, gpu=1, workers=4, at=3))
    assert started(adm.decide(T0)) == ["all"]


def test_restore_counts_an_adopted_task_with_its_indices() -> None:
    adm = Admission(pool(gpus=4), [Queue("q", gpu=4)])
    grant = adm.restore(ask("old", gpu=1, workers=2), [[2], [3]], T0)
    assert grant.gpus == ((2,), (3,)) and adm.running("old") == grant
    adm.submit(ask("new", gpu=1, workers=2, at=1))
    adm.submit(ask("more", gpu=1, at=2))
    assert [g.gpus for g in adm.decide(T0).started] == [((0,), (1,))]
    with pytest.raises(AdmissionError, match="expected 1 for each of 2 workers"):
        adm.restore(ask("bad", gpu=1, workers=2), [[1]], T0)


def test_errors_name_the_field_and_the_fix() -> None:
    adm = Admission(pool(), [Queue("q")])
    with pytest.raises(AdmissionError, match="queue nope does not exist; create it with"):
        adm.submit(ask("t", "nope"))
    adm.submit(ask("t"))
    with pytest.raises(AdmissionError, match="task t is already waiting"):
        adm.submit(ask("t"))
    with pytest.raises(AdmissionError, match="queue q: weight must be more than 0"):
        Queue("q", weight=0)
    with pytest.raises(AdmissionError, match="workers must be at least 1"):
        ask("w", workers=0)
    with pytest.raises(AdmissionError, match="must not be negative"):
        Resources(cpu=-1)
