"""Engine replicas with real processes on every backend: `kill -9` of one replica mid-way
(its runs taken over within the lease time), a rolling restart (SIGTERM each replica in
turn), and fencing (a replica paused past its lease wakes and changes nothing). Every task
appends its attempt number to a counter file, so a task started twice shows."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import pytest

from cubestudio.store.db import Database
from tests.conftest import Cube
from tests.integration.engine_helpers import (
    COUNT,
    LEASE,
    POLL,
    Replicas,
    attempt_rows,
    check_counters,
    held_by,
    lease_expiry,
    lease_history,
    now,
    pause_idle,
    run_statuses,
    submit_many,
    wait_ended,
    wait_until,
)
from tests.integration.helpers import pipeline

pytestmark = pytest.mark.slow


# The tasks wait at gates the test opens, so that it knows what each replica holds when it
# acts: the first task at gate 1, the second level at gate 2. Fan-out and a chain, a retry
# (flaky fails its first attempt), a timeout (slow is killed after 1 s, c never runs).
GATE = "{count}; while [ ! -e {gate} ]; do sleep 0.05; done"
FAN = """
name: fan
tasks:
  - name: a
    command: {gate1}
  - name: b1
    depends: [a]
    command: {gate2}; sleep {s}
  - name: b2
    depends: [a]
    command: {gate2}; sleep {s}
  - name: c
    depends: [b1, b2]
    command: {count}
"""
FLAKY = """
name: flaky
tasks:
  - name: a
    command: {gate1}
  - name: flaky
    depends: [a]
    retries: 1
    retry_delay: 0.5
    command: {gate2}; sleep {s}; [ "$CUBE_ATTEMPT" -ge 2 ]
  - name: c
    depends: [flaky]
    command: {count}
"""
TIMEOUT = """
name: timeout
tasks:
  - name: a
    command: {gate1}
  - name: slow
    depends: [a]
    timeout: 1
    command: {count}; sleep 30
  - name: c
    depends: [slow]
    command: {count}
"""
EXPECTED = {
    "fan": ("succeeded", {"a": 1, "b1": 1, "b2": 1, "c": 1}),
    "flaky": ("succeeded", {"a": 1, "flaky": 2, "c": 1}),
    "timeout": ("failed", {"a": 1, "slow": 1, "c": 0}),
}


def _files(tmp_path: Path, seconds: float) -> dict[str, str]:
    counters = tmp_path / "counters"
    counters.mkdir()
    count = COUNT.format(counters=counters)
    fields = {
        "count": count,
        "gate1": GATE.format(count=count, gate=tmp_path / "gate1"),
        "gate2": GATE.format(count=count, gate=tmp_path / "gate2"),
        "s": seconds,
    }
    return {
        name: str(pipeline(tmp_path, text.format(**fields), f"{name}.yaml"))
        for name, text in (("fan", FAN), ("flaky", FLAKY), ("timeout", TIMEOUT))
    }


def _open(tmp_path: Path, *gates: str) -> None:
    for gate in gates:
        (tmp_path / gate).touch()


def _check_run(store: Database, tmp_path: Path, run_id: str, kind: str) -> None:
    status, attempts = EXPECTED[kind]
    tasks = check_counters(store, tmp_path / "counters", run_id)
    assert {name: t["attempts"] for name, t in tasks.items()} == attempts, (run_id, tasks)
    assert run_statuses(store, [run_id]) == {run_id: status}


def _full(store: Database, instance: str, runs: int) -> bool:
    return len(held_by(store, instance)) == runs


def test_kill_9_of_one_replica_of_three(
    cube: Cube, replicas: Replicas, store: Database, tmp_path: Path
) -> None:
    """60 runs over 3 replicas (at most 5 runs each at once); one replica is killed with
    SIGKILL while its 5 runs are at their second level (attempts running, a retry to come, a
    timeout due) and 45 runs still wait; the others take its runs over within the lease
    time, adopt their attempts, enforce their timeouts and retries, start none twice."""
    files = _files(tmp_path, 0.2)
    engines = [replicas.start(f"e{n}", "--max-runs", "5") for n in (1, 2, 3)]
    kinds = ["fan", "fan", "flaky", "fan", "timeout"] * 12
    ids = submit_many(cube, [files[kind] for kind in kinds])
    victim = engines[1]
    instance = victim.instance()
    wait_until(lambda: _full(store, instance, 5), "the victim holds 5 runs")
    held = held_by(store, instance)
    _open(tmp_path, "gate1")
    counters = tmp_path / "counters"
    wait_until(
        lambda: all(len(list(counters.glob(f"{r}.*"))) >= 2 for r in held),
        "the victim launched the second level of its runs",
    )
    victim.signal(signal.SIGKILL)
    killed_at = now()
    victim.wait()
    orphans = held_by(store, instance)  # all but timed-out runs it may have ended
    kind_of = dict(zip(ids, kinds, strict=True))
    assert orphans >= {r for r in held if kind_of[r] != "timeout"}, (held, orphans)
    expiry = {run_id: lease_expiry(store, run_id) for run_id in orphans}
    _open(tmp_path, "gate2")

    wait_ended(store, ids, timeout=90)
    for run_id, kind in kind_of.items():
        _check_run(store, tmp_path, run_id, kind)
    survivors = engines[0], engines[2]
    assert orphans <= set().union(*(e.runs_of("take_over") for e in survivors))
    for run_id in orphans:
        first, then = lease_history(store, run_id)[:2]
        assert (first["engine_id"], first["end_reason"]) == ("e2", "taken_over")
        assert then["engine_id"] in ("e1", "e3")
        # A peer waited for the lease to expire (at most LEASE after the kill: it was
        # renewed every LEASE/3), then took the run at its next look (every POLL).
        assert (
            expiry[run_id] <= then["claimed_at"] <= expiry[run_id] + timedelta(seconds=POLL + 2)
        ), (run_id, expiry[run_id], then["claimed_at"])
        assert (expiry[run_id] - killed_at).total_seconds() <= LEASE
    for engine in survivors:
        assert "Traceback" not in engine.text()
        engine.signal(signal.SIGTERM)
        assert engine.wait() == 0


def test_a_rolling_restart_kills_loses_and_repeats_no_task(
    cube: Cube, replicas: Replicas, store: Database, tmp_path: Path
) -> None:
    """Each replica in turn gets SIGTERM while it holds 4 runs whose first task runs: it
    releases its leases and exits 0, leaving its tasks running; a new process with the same
    id takes its place and the runs go on. Then once more while runs flow."""
    files = _files(tmp_path, 0.3)
    live = {f"e{n}": replicas.start(f"e{n}", "--max-runs", "4") for n in (1, 2, 3)}
    ids = submit_many(cube, [files["fan"]] * 24)
    released: set[str] = set()

    def restart(engine_id: str, holding: int) -> None:
        """SIGTERM once it holds ``holding`` runs (each waiting at the gate, or any)."""
        old = live[engine_id]
        instance = old.instance()
        wait_until(lambda: len(held_by(store, instance)) >= holding, f"{engine_id} holds runs")
        old.signal(signal.SIGTERM)
        assert old.wait() == 0, old.text()
        if holding == 4:  # none of its runs could end: it let go of all four
            assert len(old.events("released")) == 4, old.text()
        assert old.events("engine_stopped")
        released.update(old.runs_of("released"))
        live[engine_id] = replicas.start(engine_id, "--max-runs", "4")

    for engine_id in ("e1", "e2", "e3"):
        restart(engine_id, 4)  # every run it holds waits at the gate: it lets go of 4
    _open(tmp_path, "gate1", "gate2")
    wait_until(lambda: "succeeded" in run_statuses(store, ids).values(), "a run ended")
    restart("e2", 1)  # while tasks end and start: 12 runs still wait for a replica

    wait_ended(store, ids, timeout=90)
    for run_id in ids:
        tasks = check_counters(store, tmp_path / "counters", run_id)
        assert {n: (t["status"], t["attempts"], t["exit_code"]) for n, t in tasks.items()} == (
            dict.fromkeys(["a", "b1", "b2", "c"], ("succeeded", 1, 0))
        ), (run_id, tasks)
    for run_id in released:  # let go by one process, driven to its end by another
        reasons = [h["end_reason"] for h in lease_history(store, run_id)]
        assert reasons[-1] == "finished" and "released" in reasons, reasons
    for engine in live.values():
        assert "Traceback" not in engine.text()
        engine.signal(signal.SIGTERM)
        assert engine.wait() == 0


CHAIN = """
name: chain
tasks:
  - name: x
    command: {count}; sleep 1
  - name: y
    depends: [x]
    command: {count}; sleep 0.5
  - name: z
    depends: [y]
    command: {count}
"""


def test_a_paused_replica_wakes_fenced_and_changes_nothing(
    cube: Cube, replicas: Replicas, store: Database, tmp_path: Path
) -> None:
    """A holds 3 runs and is paused (SIGSTOP) while their first tasks run; B takes them
    over once the leases expire; A is resumed while its pidfds say those tasks ended (it
    would launch y): its turn is fenced, it logs lease_lost and launches and writes nothing."""
    counters = tmp_path / "counters"
    counters.mkdir()
    file = str(pipeline(tmp_path, CHAIN.format(count=COUNT.format(counters=counters))))
    a = replicas.start("a")
    ids = submit_many(cube, [file] * 3)
    wait_until(lambda: all((counters / f"{r}.x").exists() for r in ids), "x started in all")
    pause_idle(a, store, ids)
    expiry = {run_id: lease_expiry(store, run_id) for run_id in ids}  # a renews no more
    b = replicas.start("b")
    wait_until(lambda: b.runs_of("take_over") == set(ids), "b took every run", timeout=20)
    wait_until(lambda: all((counters / f"{r}.y").exists() for r in ids), "b launched y")
    a.signal(signal.SIGCONT)
    wait_until(lambda: a.runs_of("lease_lost") == set(ids), "a learnt it lost them", 20)

    assert set(wait_ended(store, ids).values()) == {"succeeded"}
    for run_id in ids:
        tasks = check_counters(store, counters, run_id)
        assert {n: t["attempts"] for n, t in tasks.items()} == {"x": 1, "y": 1, "z": 1}
        assert len(attempt_rows(store, run_id)) == 3  # nothing added by a
        history = lease_history(store, run_id)
        assert [(h["engine_id"], h["epoch"], h["end_reason"]) for h in history] == [
            ("a", 1, "taken_over"),
            ("b", 2, "finished"),
        ]
        assert history[1]["claimed_at"] >= expiry[run_id]  # b waited for a's lease to end
    assert a.runs_of("finished") == set()
    assert b.runs_of("finished") == set(ids)
    for engine in (a, b):
        assert "Traceback" not in engine.text()
        engine.signal(signal.SIGTERM)
        assert engine.wait() == 0
