"""The engine service with real processes: `cube submit` → `cube wait` and `cube engine
status`; the scheduler handing its runs to `cube engine`; another host (a UTS namespace with
its own hostname, same PostgreSQL) never taking a run a live engine holds; a database outage
(a TCP proxy cut and restored) losing no outcome. Fail-over, rolling restarts and fencing
are in test_engine_failover.py."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cubestudio.store.db import Database
from tests.conftest import CUBE, Cube, make_db_url
from tests.integration.engine_helpers import (
    COUNT,
    LEASE,
    POLL,
    TERMINAL,
    Replicas,
    TcpProxy,
    attempt_rows,
    check_counters,
    lease_history,
    replicas_for,
    run_statuses,
    store_for,
    wait_ended,
    wait_until,
)
from tests.integration.helpers import pipeline

pytestmark = pytest.mark.slow


WAITED = """
name: waited
params: {code: 0}
tasks:
  - {name: a, command: "while [ ! -e %s ]; do sleep 0.05; done"}
  - {name: b, depends: [a], command: "exit {{ params.code }}"}
"""


def test_submit_returns_at_once_and_wait_prints_what_run_prints(
    cube: Cube, replicas: Replicas, store: Database, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"  # task a runs until the test opens it
    file = str(pipeline(tmp_path, WAITED % gate))
    engine = replicas.start("e1")
    submitted = cube("submit", file, "--json")
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout.count("\n") == 1
    good = json.loads(submitted.stdout)
    assert list(good) == ["run_id"]
    good_id = good["run_id"]
    assert run_statuses(store, [good_id])[good_id] not in TERMINAL  # it returned at once
    bad_id = cube.json("submit", file, "--param", "code=3", "--json", expect=0)["run_id"]

    wait_until(lambda: engine.runs_of("claim") >= {good_id, bad_id}, "both runs claimed")
    status = cube.json("engine", "status", "--json", expect=0)
    assert status["waiting_runs"] == 0
    [alive] = status["engines"]
    assert (alive["id"], alive["pid"], alive["alive"]) == ("e1", engine.pid, True)
    held = {run["run_id"]: run for run in alive["runs"]}
    assert set(held) == {good_id, bad_id}
    for run in held.values():
        assert (run["pipeline"], run["status"], run["lease_epoch"]) == ("waited", "running", 1)
        # lease_left_s is read against the status command's own clock, taken just before
        # the query: a renewal in between may leave a little more than the lease.
        assert 0 < run["lease_left_s"] <= LEASE + 1
    twin = cube("engine", "--id", "e1", timeout=30)  # the same id as a live engine
    assert (twin.returncode, twin.stdout) == (2, ""), twin
    assert twin.stderr == (
        f"error: an engine with id e1 is already running (process {engine.pid} on host "
        f"{socket.gethostname()}): give this one another --id\n"
    )
    gate.touch()

    waited = cube("wait", good_id, "--json")
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.count("\n") == 1
    result = json.loads(waited.stdout)
    assert result["status"] == "succeeded"
    failed = cube.json("wait", bad_id, "--json", expect=1)
    assert (failed["status"], failed["tasks"]["b"]["exit_code"]) == ("failed", 3)

    # The very object `cube run --json` prints, with the same exit code, for the same file.
    ran = cube.json("run", file, "--param", "code=3", "--json", expect=1)
    for waited_result in (result, failed):
        assert list(waited_result) == list(ran)
        assert list(waited_result["tasks"]) == list(ran["tasks"])
        for name, task in waited_result["tasks"].items():
            assert list(task) == list(ran["tasks"][name])
    assert {n: t["status"] for n, t in failed["tasks"].items()} == {
        n: t["status"] for n, t in ran["tasks"].items()
    }
    assert engine.proc.poll() is None
    engine.signal(signal.SIGTERM)
    assert engine.wait() == 0
    assert engine.events("engine_stopped")


SCHEDULED = """
name: scheduled
schedule:
  cron: "0 0 * * *"
  start: "2026-01-01 00:00:00"
  catchup: true
  max_active_runs: 2
tasks:
  - name: a
    command: {count}
  - name: b
    depends: [a]
    command: {count}
"""


def test_the_scheduler_hands_its_runs_to_the_engine(
    cube: Cube, replicas: Replicas, store: Database, tmp_path: Path
) -> None:
    count = json.dumps(COUNT.format(counters=tmp_path))
    file = str(pipeline(tmp_path, SCHEDULED.format(count=count)))
    applied = cube("schedule", "apply", file, "--now", "2026-01-02T12:00")
    assert applied.returncode == 0, applied.stderr
    engine = replicas.start("e1")
    scheduled = cube("scheduler", "--now", "2026-01-02T12:00")
    assert scheduled.returncode == 0, scheduled.stderr
    assert scheduled.stderr.count(": launched run ") == 2
    ids = [r["run_id"] for r in cube.json("runs", "--json", "--pipeline", "scheduled")]
    assert len(ids) == 2
    assert set(wait_ended(store, ids).values()) == {"succeeded"}
    for run_id in ids:
        check_counters(store, tmp_path, run_id)
    assert engine.runs_of("claim") == set(ids)  # the engine drove them ...
    logs = cube.home / "scheduler" / "logs"
    assert not logs.exists() or not list(logs.iterdir())  # ... and no `cube resume` did


ONE_HOST = """
name: one-host
tasks:
  - name: a
    command: {count}; while [ ! -e {gate} ]; do sleep 0.05; done
  - name: b
    depends: [a]
    command: {count}
"""


def _elsewhere(cube: Cube, *args: str) -> subprocess.CompletedProcess[str]:
    """`cube ARGS` on another host: a UTS namespace whose hostname is otherhost."""
    return subprocess.run(
        ["unshare", "--uts", "sh", "-c", 'hostname otherhost && exec "$@"', "sh", CUBE, *args],
        env=cube.env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def cube_pg(tmp_path: Path) -> Iterator[Cube]:
    for url in make_db_url("postgresql", tmp_path):
        yield Cube(tmp_path / "home", url)


@pytest.fixture
def pg_replicas(cube_pg: Cube, tmp_path: Path) -> Iterator[Replicas]:
    yield from replicas_for(cube_pg, tmp_path)


@pytest.fixture
def pg_store(cube_pg: Cube) -> Iterator[Database]:
    yield from store_for(cube_pg)


def _can_unshare() -> str | None:
    try:
        probe = subprocess.run(["unshare", "--uts", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    return None if probe.returncode == 0 else probe.stderr.decode().strip()


def test_another_host_never_takes_a_run_from_this_one(
    cube_pg: Cube, pg_replicas: Replicas, pg_store: Database, tmp_path: Path
) -> None:
    """`cube resume` and `cube engine` on another host (same PostgreSQL): they never take a
    run a live engine holds, nor, once that engine died, a run whose task processes are on
    this host (only an engine here can adopt them); the engine's restart here takes it."""
    why = _can_unshare()  # the test machines run tests as root, where it is allowed
    assert why is None, f"`unshare --uts` (another hostname) failed: {why}"
    cube, here, gate = cube_pg, socket.gethostname(), tmp_path / "gate"
    text = ONE_HOST.format(count=COUNT.format(counters=tmp_path), gate=gate)
    engine = pg_replicas.start("e1")
    run_id = cube.json("submit", str(pipeline(tmp_path, text)), "--json", expect=0)["run_id"]
    wait_until(lambda: (tmp_path / f"{run_id}.a").exists(), "task a started")

    refused = _elsewhere(cube, "resume", run_id)
    assert refused.returncode == 2, refused
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith(
        f"error: run {run_id} is driven by engine e1 (process {engine.pid} on host {here}, "
    ), refused.stderr
    far = pg_replicas.start("far", host="otherhost")
    time.sleep(LEASE + POLL)  # time enough to take the run, were it free
    assert far.runs_of("claim") | far.runs_of("take_over") == set()

    engine.signal(signal.SIGKILL)
    engine.wait()
    time.sleep(LEASE + POLL + 1)  # the lease expired: still, far must leave the run alone
    assert far.runs_of("claim") | far.runs_of("take_over") == set()
    refused = _elsewhere(cube, "resume", run_id)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (
        f"error: run {run_id} has tasks started on host {here}: resume it there (the local "
        "driver adopts processes only on the host they run on)\n"
    )
    assert run_statuses(pg_store, [run_id]) == {run_id: "running"}

    again = pg_replicas.start("e1")  # the same id, on this host: takes its run back at once
    gate.touch()
    assert wait_ended(pg_store, [run_id]) == {run_id: "succeeded"}
    assert again.runs_of("reclaim") == {run_id}  # its own id: taken back
    check_counters(pg_store, tmp_path, run_id)
    assert len(attempt_rows(pg_store, run_id)) == 2  # a and b, once each
    history = lease_history(pg_store, run_id)
    assert [(h["engine_id"], h["host"], h["end_reason"]) for h in history] == [
        ("e1", here, "taken_over"),
        ("e1", here, "finished"),
    ]
    assert far.runs_of("claim") | far.runs_of("take_over") == set()
    for proc in (far, again):
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    assert "Traceback" not in far.text() + again.text()


OUTAGE = """
name: outage
tasks:
  - name: a
    command: {count}
  - name: quick
    depends: [a]
    command: {count}; sleep 1
  - name: middle
    depends: [a]
    command: {count}; sleep 4
  - name: slow
    depends: [a]
    command: {count}; sleep 9
  - name: last
    depends: [quick, middle, slow]
    command: {count}
"""


def test_a_database_outage_loses_no_outcome(
    cube_pg: Cube, pg_replicas: Replicas, pg_store: Database, tmp_path: Path
) -> None:
    """The engine reaches PostgreSQL through a proxy that the test cuts for 6 s (connections
    reset, new ones refused, as when the server stops) while three tasks run: one ends
    during the outage, one just before it returns, one after."""
    cube = cube_pg
    file = str(pipeline(tmp_path, OUTAGE.format(count=COUNT.format(counters=tmp_path))))
    proxy = TcpProxy(("127.0.0.1", 5432))
    try:
        via_proxy = cube.env["CUBE_DATABASE_URL"].replace(":5432/", f":{proxy.port}/")
        engine = pg_replicas.start("e1", env={"CUBE_DATABASE_URL": via_proxy})
        run_id = cube.json("submit", file, "--json", expect=0)["run_id"]
        for task in ("quick", "middle", "slow"):
            wait_until(lambda t=task: (tmp_path / f"{run_id}.{t}").exists(), f"{task} started")
        proxy.cut()
        time.sleep(6)
        assert engine.proc.poll() is None, engine.text()
        proxy.restore()
        assert wait_ended(pg_store, [run_id], timeout=60) == {run_id: "succeeded"}
        engine.signal(signal.SIGTERM)  # while the database is still reachable through it
        assert engine.wait() == 0, engine.text()
    finally:
        proxy.close()
    tasks = check_counters(pg_store, tmp_path, run_id)
    assert {name: (t["status"], t["attempts"]) for name, t in tasks.items()} == dict.fromkeys(
        ["a", "quick", "middle", "slow", "last"], ("succeeded", 1)
    )
    outage = [e["event"] for e in engine.events() if e["event"].startswith("database_")]
    assert outage == ["database_unreachable", "database_back"], engine.text()
    assert "Traceback" not in engine.text()
