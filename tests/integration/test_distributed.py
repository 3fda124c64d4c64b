"""Distributed tasks through the real CLI and engine (F12, F13): each member's env and log,
a crash that stops the gang and the failure policies, the seeds' four-GPU case (two gangs
of four one-GPU workers: one runs, the other waits whole), and kill -9 of the engine while
a gang runs (every member adopted, none started twice)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cubestudio.store.db import Database
from tests.conftest import Cube
from tests.integration.engine_helpers import Replicas, replicas_for, store_for, wait_until
from tests.integration.helpers import pipeline

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "distributed_scripts"
MEMBER = Path(__file__).parents[1] / "unit" / "drivers" / "gang_scripts" / "member.py"
TEMPLATE = """
name: gang-{kind}
category: distributed
distributed: {kind}
command: >-
  "$CUBE_PYTHON" {{{{ args.script | quote }}}}
  {{{{ args.script_args | map("quote") | join(" ") }}}}
parameters:
  - {{name: script, type: str}}
  - {{name: script_args, type: list, default: []}}
  - {{name: workers, type: int, default: 2}}
  - {{name: ps, type: int, default: 0}}
  - {{name: on_failure, type: enum, choices: [fail_fast, restart_group], default: fail_fast}}
  - {{name: max_restarts, type: int, default: 0}}
"""


@pytest.fixture
def gangs(cube_sqlite: Cube, tmp_path: Path) -> Cube:
    """The CLI with test templates of distributed kind pytorch and tensorflow."""
    for kind in ("pytorch", "tensorflow"):
        text = TEMPLATE.format(kind=kind)
        if kind == "pytorch":
            text = text.replace("  - {name: ps, type: int, default: 0}\n", "")
        path = tmp_path / f"gang-{kind}.yaml"
        path.write_text(text)
        registered = cube_sqlite("template", "register", str(path))
        assert registered.returncode == 0, registered.stderr
    return cube_sqlite


def _task(kind: str, args: dict[str, object], **extra: object) -> str:
    data = {"name": "train", "template": f"gang-{kind}", "args": args, **extra}
    return json.dumps(data)


def _run(cube: Cube, tmp_path: Path, task: str, *, expect: int | None, timeout: float = 60) -> Any:
    file = pipeline(tmp_path, f"name: dist\ntasks:\n  - {task}\n")
    return cube.json("run", str(file), "--json", expect=expect, timeout=timeout)


def _env_of(cube: Cube, run_id: str, worker: str) -> dict[str, str]:
    shown = cube("logs", run_id, "train", "--worker", worker)
    assert shown.returncode == 0, shown.stderr
    return dict(json.loads(shown.stdout.splitlines()[0]))


def test_every_pytorch_member_gets_its_rank_and_the_masters_address(
    gangs: Cube, tmp_path: Path
) -> None:
    args = {"script": str(MEMBER), "script_args": ["*=env"], "workers": 3}
    result = _run(gangs, tmp_path, _task("pytorch", args), expect=0)
    run_id = result["run_id"]
    envs = [_env_of(gangs, run_id, str(rank)) for rank in range(3)]
    assert [e["RANK"] for e in envs] == ["0", "1", "2"]
    assert [e["CUBE_WORKER"] for e in envs] == ["master-0", "worker-0", "worker-1"]
    assert {e["WORLD_SIZE"] for e in envs} == {"3"} and {e["LOCAL_RANK"] for e in envs} == {"0"}
    assert {e["MASTER_ADDR"] for e in envs} == {"127.0.0.1"}
    assert len({e["MASTER_PORT"] for e in envs}) == 1
    assert len({e["CUBE_STATE_DIR"] for e in envs}) == 1  # one folder kept across attempts
    log = gangs("logs", run_id, "train").stdout.splitlines()
    assert sorted(line.split(" ", 1)[0] for line in log) == [
        "[master-0]",
        "[worker-0]",
        "[worker-1]",
    ]
    named = gangs("logs", run_id, "train", "--worker", "worker-1")
    assert json.loads(named.stdout)["RANK"] == "2"
    wrong = gangs("logs", run_id, "train", "--worker", "9")
    assert wrong.returncode != 0 and "give a rank (0-2)" in wrong.stderr


def test_tensorflow_members_get_tf_config_and_the_ps_is_stopped_at_the_end(
    gangs: Cube, tmp_path: Path
) -> None:
    ready = tmp_path / "ps-ready"  # the others finish only once the ps is up
    plans = [f"ps-0=env,touch:{ready},sleep", f"*=wait:{ready},env"]
    args = {"script": str(MEMBER), "script_args": plans, "ps": 1}
    result = _run(gangs, tmp_path, _task("tensorflow", args), expect=0)
    run_id = result["run_id"]
    configs = [json.loads(_env_of(gangs, run_id, str(r))["TF_CONFIG"]) for r in range(3)]
    cluster = configs[0]["cluster"]
    assert sorted(cluster) == ["chief", "ps", "worker"]
    assert [len(cluster[k]) for k in ("chief", "worker", "ps")] == [1, 1, 1]
    assert all(c["cluster"] == cluster for c in configs)
    assert [c["task"] for c in configs] == [
        {"type": "chief", "index": 0},
        {"type": "worker", "index": 0},
        {"type": "ps", "index": 0},
    ]
    log = gangs("logs", run_id, "train").stdout
    assert "[cube] every worker finished; stopping ps-0" in log


def _member_pids(home: Path, run_id: str, attempt: int) -> list[int]:
    folder = home / "runs" / run_id / "train" / str(attempt) / "workers"
    return [int((d / "pid").read_text()) for d in sorted(folder.iterdir()) if (d / "pid").exists()]


def test_a_crashing_worker_stops_the_others_and_fails_the_task(gangs: Cube, tmp_path: Path) -> None:
    args = {"script": str(MEMBER), "script_args": ["worker-0=exit:3", "*=sleep"], "workers": 3}
    result = _run(gangs, tmp_path, _task("pytorch", args), expect=1)
    run_id = result["run_id"]
    shown = gangs.json("show", run_id, "--json", expect=0)
    assert shown["tasks"]["train"]["message"] == "worker-0 exited with code 3"
    assert shown["tasks"]["train"]["exit_code"] == 3
    for pid in _member_pids(gangs.home, run_id, 1):
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid), f"member {pid} still runs"
    log = gangs("logs", run_id, "train").stdout
    assert "[cube] worker-0 failed: exit code 3; stopping the other workers" in log


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_restart_group_starts_the_whole_gang_again_up_to_max_restarts(
    gangs: Cube, tmp_path: Path
) -> None:
    args = {
        "script": str(MEMBER),
        "script_args": ["worker-0=exit:3", "*=sleep"],
        "on_failure": "restart_group",
        "max_restarts": 2,
    }
    result = _run(gangs, tmp_path, _task("pytorch", args), expect=1)
    assert result["tasks"]["train"]["attempts"] == 3  # the first and two restarts
    log = gangs("logs", result["run_id"], "train", "--attempt", "1").stdout
    assert "restarting the whole group (1 of 2)" in log


# -- the engine service: the seeds' four-GPU case, kill -9 during a gang ---------------------


@pytest.fixture
def replicas(cube_sql: Cube, tmp_path: Path) -> Iterator[Replicas]:
    yield from replicas_for(cube_sql, tmp_path)


@pytest.fixture
def store(cube_sql: Cube) -> Iterator[Database]:
    yield from store_for(cube_sql)


def _journal(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def _gang_pipeline(tmp_path: Path, name: str, journal: Path, gate: Path) -> Path:
    task = {
        "name": "train",
        "template": "gang-pytorch",
        "resources": {"gpu": 1},
        "args": {
            "script": str(SCRIPTS / "journal_member.py"),
            "script_args": [str(journal), str(gate)],
            "workers": 4,
        },
    }
    return pipeline(tmp_path, f"name: {name}\ntasks:\n  - {json.dumps(task)}\n", f"{name}.yaml")


def _register(cube: Cube, tmp_path: Path) -> None:
    path = tmp_path / "gang-pytorch.yaml"
    path.write_text(
        TEMPLATE.format(kind="pytorch").replace("  - {name: ps, type: int, default: 0}\n", "")
    )
    assert cube("template", "register", str(path)).returncode == 0


def test_four_gpus_two_gangs_of_four_one_runs_the_other_waits_whole(
    cube_sql: Cube, replicas: Replicas, tmp_path: Path
) -> None:
    cube = cube_sql
    _register(cube, tmp_path)
    journal, gate = tmp_path / "journal", tmp_path / "gate"
    ids = []
    for name in ("first", "second"):
        submitted = cube.json(
            "submit", str(_gang_pipeline(tmp_path, name, journal, gate)), "--json", expect=0
        )
        ids.append(submitted["run_id"])
    replicas.start("e1", env={"CUBE_POOL_GPU": "4"})
    wait_until(lambda: len(_journal(journal)) >= 4, "one gang started")
    time.sleep(0.5)  # the other gang had every chance to start a member, and must not
    started = _journal(journal)
    assert len(started) == 4 and len({row[2] for row in started}) == 1, started
    assert sorted(row[5] for row in started) == ["0", "1", "2", "3"]  # one GPU each
    waiting_run = ids[1] if started[0][2] == "first" else ids[0]
    shown = cube.json("show", waiting_run, "--json")
    assert shown["tasks"]["train"]["status"] == "queued"
    assert shown["tasks"]["train"]["message"].startswith("queued: needs 4 gpu"), shown
    gate.touch()
    for run_id in ids:
        waited = cube.json("wait", run_id, "--json", timeout=90)
        assert waited["status"] == "succeeded", waited
    rows = _journal(journal)
    ends = {row[2]: float(row[1]) for row in rows if row[0] == "end"}
    starts = {row[2]: float(row[1]) for row in rows if row[0] == "start"}
    first, second = sorted(ends, key=lambda name: starts[name])
    assert min(float(r[1]) for r in rows if r[0] == "start" and r[2] == second) >= max(
        float(r[1]) for r in rows if r[0] == "end" and r[2] == first
    ), "the second gang started whole after the first ended"


def test_kill_9_of_the_engine_during_a_gang_adopts_every_member(
    cube_sql: Cube, replicas: Replicas, store: Database, tmp_path: Path
) -> None:
    cube = cube_sql
    _register(cube, tmp_path)
    journal, gate = tmp_path / "journal", tmp_path / "gate"
    submitted = cube.json(
        "submit", str(_gang_pipeline(tmp_path, "solo", journal, gate)), "--json", expect=0
    )
    engine = replicas.start("e1", env={"CUBE_POOL_GPU": "4"})
    wait_until(lambda: len(_journal(journal)) >= 4, "the gang started")
    engine.signal(signal.SIGKILL)
    engine.wait()
    replicas.start("e1", env={"CUBE_POOL_GPU": "4"})
    gate.touch()
    waited = cube.json("wait", submitted["run_id"], "--json", timeout=90)
    assert waited["status"] == "succeeded", waited
    assert waited["tasks"]["train"]["attempts"] == 1
    rows = _journal(journal)
    starts = sorted(row[3] for row in rows if row[0] == "start")
    assert starts == ["master-0", "worker-0", "worker-1", "worker-2"], "each member started once"
    assert len([row for row in rows if row[0] == "end"]) == 4
    with store.begin() as conn:
        left = conn.exec_driver_sql("SELECT count(*) FROM allocations").scalar()
    assert left == 0, "the gang's allocation was released when it ended"


# -- the built-in mpi and ray templates: real mpirun and a real Ray cluster --------------------


def _needs(tool_found: bool, what: str) -> None:
    """A tool the test install has (`make test` runs `make mpi` and `make extras`): a
    missing one fails the test with the command that installs it, never skips it."""
    if not tool_found:
        pytest.fail(f"{what} is not installed: `make mpi extras` installs it")


def test_the_mpi_template_starts_workers_times_slots_ranks(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    _needs(shutil.which("mpirun") is not None, "mpirun (Debian's openmpi-bin)")
    task = {
        "name": "train",
        "template": "mpi",
        "args": {
            "command": 'echo "rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE $CUBE_RUN_ID"',
            "workers": 2,
            "slots": 2,
        },
    }
    result = _run(cube_sqlite, tmp_path, json.dumps(task), expect=0)
    log = cube_sqlite("logs", result["run_id"], "train").stdout.splitlines()
    ranks = sorted(line for line in log if " rank " in line)
    run_id = result["run_id"]
    assert ranks == [f"[launcher-0] rank {r} of 4 {run_id}" for r in range(4)], log
    hostfile = cube_sqlite.home / "runs" / run_id / "train" / "1" / "hostfile"
    assert hostfile.read_text() == "127.0.0.1 slots=4\n"


RAY_SCRIPT = """
import os, ray
ray.init()  # RAY_ADDRESS: the gang's head
alive = [n for n in ray.nodes() if n["Alive"]]
@ray.remote
def square(x):
    return x * x
print("nodes", len(alive), "sum", sum(ray.get([square.remote(i) for i in range(10)])))
print("address", os.environ["RAY_ADDRESS"])
"""


def test_the_ray_template_runs_the_script_once_every_worker_joined(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    _needs(importlib.util.find_spec("ray") is not None, "ray (the ray extra)")
    script = tmp_path / "job.py"
    script.write_text(RAY_SCRIPT)
    task = {"name": "train", "template": "ray", "args": {"script": str(script), "workers": 3}}
    result = _run(cube_sqlite, tmp_path, json.dumps(task), expect=None, timeout=240)
    log = cube_sqlite("logs", result["run_id"], "train").stdout
    assert result["status"] == "succeeded", log
    assert "[head-0] nodes 3 sum 285" in log, log
    gang = json.loads(
        (cube_sqlite.home / "runs" / result["run_id"] / "train" / "1" / "gang.json").read_text()
    )
    assert f"[head-0] address {gang['plan']['ray']['address']}" in log


def test_cube_top_shows_each_members_own_use_under_its_task(gangs: Cube, tmp_path: Path) -> None:
    script = tmp_path / "hold.py"
    script.write_text(
        "import os, time\n"
        "b = bytearray((48 if os.environ['RANK'] == '1' else 4) << 20)\n"
        "time.sleep(2)\n"
    )
    result = _run(gangs, tmp_path, _task("pytorch", {"script": str(script)}), expect=0)
    top = gangs.json("top", result["run_id"], "--json", expect=0)
    members = {w["name"]: w for w in top["tasks"][0]["workers"]}
    assert sorted(members) == ["master-0", "worker-0"]
    assert members["worker-0"]["peak"]["rss_bytes"] >= 48 << 20
    assert members["master-0"]["peak"]["rss_bytes"] < 48 << 20
    table = gangs("top", result["run_id"], "--once").stdout
    assert "  worker-0" in table and "  master-0" in table
