"""A plan's env reaches real processes: each member's command runs under ``sh -c`` in its
own process group (as the local driver runs an attempt) with the plan's env on top of the
task's, and a worker script prints what it got. No torch needed: dump_env.py stands in for
the training script. Also: the local port source hands out ports one can listen on."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cubestudio.engine.distributed import LaunchPlan, LocalPorts, free_ports, plan_for
from cubestudio.spec.model import Resources

DUMP_ENV = Path(__file__).parent / "distributed_scripts" / "dump_env.py"
COMMAND = f"{shlex.quote(sys.executable)} {shlex.quote(str(DUMP_ENV))}"
TASK_ENV = {"LR": "0.1"}


@pytest.fixture
def groups() -> Iterator[list[subprocess.Popen[str]]]:
    """Started member processes; whatever is left of their groups is killed afterwards."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:  # not reaped yet: its pid is still its group's id
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def run_members(
    plan: LaunchPlan, started: list[subprocess.Popen[str]]
) -> dict[str, dict[str, str]]:
    for worker in plan.workers:
        assert worker.command is not None
        env = {"PATH": os.environ["PATH"], **TASK_ENV, **worker.env}
        started.append(
            subprocess.Popen(
                ["sh", "-c", worker.command],
                env=env,
                stdout=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
        )
    printed: dict[str, dict[str, str]] = {}
    for worker, proc in zip(plan.workers, started, strict=True):
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        printed[worker.name] = json.loads(out)
    return printed


def test_pytorch_members_get_ranks_and_the_master_port(
    groups: list[subprocess.Popen[str]],
) -> None:
    plan = plan_for(
        "pytorch",
        task_name="train",
        command=COMMAND,
        workers=3,
        resources=Resources(cpu=1),
        ports=LocalPorts(),
    )
    port = str(plan.workers[0].ports["master"])
    printed = run_members(plan, groups)
    assert list(printed) == ["master-0", "worker-0", "worker-1"]
    for rank, (name, env) in enumerate(printed.items()):
        assert env["MASTER_ADDR"] == "127.0.0.1"
        assert env["MASTER_PORT"] == port
        assert (env["WORLD_SIZE"], env["RANK"], env["LOCAL_RANK"]) == ("3", str(rank), "0")
        assert (env["CUBE_WORKER"], env["CUBE_WORKER_RANK"]) == (name, str(rank))
        assert env["LR"] == "0.1"  # the task's own env is still there


def test_tensorflow_members_get_their_tf_config(groups: list[subprocess.Popen[str]]) -> None:
    plan = plan_for(
        "tensorflow",
        task_name="train",
        command=COMMAND,
        workers=2,
        ps=1,
        resources=Resources(cpu=1),
        ports=LocalPorts(),
    )
    printed = run_members(plan, groups)
    addresses = [f"127.0.0.1:{w.ports['server']}" for w in plan.workers]
    cluster = {"chief": addresses[:1], "worker": addresses[1:2], "ps": addresses[2:]}
    tasks = [("chief", 0), ("worker", 0), ("ps", 0)]
    for env, (kind, index) in zip(printed.values(), tasks, strict=True):
        config = json.loads(env["TF_CONFIG"])
        assert config == {"cluster": cluster, "task": {"type": kind, "index": index}}


def test_free_ports_are_distinct_and_can_be_listened_on() -> None:
    ports = free_ports(8)
    assert len(set(ports)) == 8
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
            sock.listen()
