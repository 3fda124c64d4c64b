"""The launch plan of each distributed kind, built with deterministic ports: roles, ranks,
env (exactly), ports, resources, total demand, the failure policy, round trips through
JSON, and the errors a wrong arg gets."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from cubestudio.engine.distributed import (
    HOSTFILE_ENV,
    LaunchPlan,
    OnFailure,
    Role,
    SequentialPorts,
    WorkerSpec,
    plan_for,
)
from cubestudio.errors import CubeError, NotFoundError, SpecError
from cubestudio.spec.model import Resources

GI = 2**30
PER_WORKER = Resources(cpu=2, memory=4 * GI, gpu=1)
COMMAND = "python train.py --note 'two words'"


def build(kind: str, **kwargs: Any) -> LaunchPlan:
    args: dict[str, Any] = {
        "task_name": "train",
        "command": COMMAND,
        "workers": 3,
        "resources": PER_WORKER,
        "ports": SequentialPorts(30000),
    }
    args.update(kwargs)
    return plan_for(kind, **args)


def cube_env(worker: WorkerSpec, gang: int) -> dict[str, str]:
    return {
        "CUBE_WORKER": worker.name,
        "CUBE_WORKER_RANK": str(worker.rank),
        "CUBE_GANG_SIZE": str(gang),
    }


def all_ports(plan: LaunchPlan) -> list[tuple[str, int]]:
    return [(w.host, p) for w in plan.workers for p in w.ports.values()]


def roundtrip(plan: LaunchPlan) -> LaunchPlan:
    return LaunchPlan.from_data(json.loads(json.dumps(plan.to_data())))


# -- PyTorch ----------------------------------------------------------------------------------
def test_pytorch_plan_has_a_master_and_workers_with_torchrun_env() -> None:
    plan = build("pytorch", workers=4)
    assert [(w.role, w.index, w.rank, w.name) for w in plan.workers] == [
        (Role.MASTER, 0, 0, "master-0"),
        (Role.WORKER, 0, 1, "worker-0"),
        (Role.WORKER, 1, 2, "worker-1"),
        (Role.WORKER, 2, 3, "worker-2"),
    ]
    assert plan.gang_size == 4
    assert plan.replicas() == {"Master": 1, "Worker": 3}
    assert plan.workers[0].ports == {"master": 30000}
    for worker in plan.workers:
        assert worker.command == COMMAND
        assert worker.host == "127.0.0.1"
        assert worker.finishes and not worker.service
        assert worker.env == {
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": "30000",
            "WORLD_SIZE": "4",
            "RANK": str(worker.rank),
            "LOCAL_RANK": "0",
            **cube_env(worker, 4),
        }
    assert plan.mpi is None and plan.ray is None


def test_pytorch_with_several_processes_per_worker_runs_torchrun_per_node() -> None:
    plan = build("pytorch", workers=2, nproc_per_worker=4)
    assert plan.nproc_per_worker == 4
    for worker in plan.workers:
        assert worker.env == {
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": "30000",
            "WORLD_SIZE": "8",
            "NNODES": "2",
            "NODE_RANK": str(worker.rank),
            "NPROC_PER_NODE": "4",
            **cube_env(worker, 2),
        }
        assert worker.command is not None
        assert shlex.split(worker.command) == [
            "torchrun",
            "--nnodes=2",
            "--nproc_per_node=4",
            f"--node_rank={worker.rank}",
            "--master_addr=127.0.0.1",
            "--master_port=30000",
            "--no_python",
            "sh",
            "-c",
            COMMAND,
        ]
    # admission counts nodes: resources stay per worker, not per process
    assert plan.resources == PER_WORKER
    assert len(plan.booked()) == 2
    assert plan.demand == Resources(cpu=4, memory=8 * GI, gpu=2)


def test_a_single_worker_is_a_gang_of_one() -> None:
    plan = build("pytorch", workers=1)
    assert [w.name for w in plan.workers] == ["master-0"]
    assert plan.workers[0].env["WORLD_SIZE"] == "1"


# -- TensorFlow -------------------------------------------------------------------------------
def test_tensorflow_plan_gives_each_member_its_tf_config() -> None:
    plan = build("tensorflow", workers=3, ps=1)
    cluster = {
        "chief": ["127.0.0.1:30000"],
        "worker": ["127.0.0.1:30001", "127.0.0.1:30002"],
        "ps": ["127.0.0.1:30003"],
    }
    expected = [("chief", 0), ("worker", 0), ("worker", 1), ("ps", 0)]
    assert [(w.role, w.index) for w in plan.workers] == expected
    assert [w.rank for w in plan.workers] == [0, 1, 2, 3]
    assert plan.replicas() == {"Chief": 1, "Worker": 2, "PS": 1}
    for worker, (kind, index) in zip(plan.workers, expected, strict=True):
        assert set(worker.env) == {"TF_CONFIG", *cube_env(worker, 4)}
        config = json.loads(worker.env["TF_CONFIG"])
        assert config == {"cluster": cluster, "task": {"type": kind, "index": index}}
        assert list(config) == ["cluster", "task"]
        assert list(config["cluster"]) == ["chief", "worker", "ps"]
        assert worker.ports == {"server": 30000 + worker.rank}
        assert worker.command == COMMAND


def test_tensorflow_parameter_servers_serve_until_stopped() -> None:
    plan = build("tensorflow", workers=2, ps=2)
    servers = [w for w in plan.workers if w.role is Role.PS]
    assert [w.name for w in servers] == ["ps-0", "ps-1"]
    for server in servers:
        assert server.service and not server.finishes
    assert [w.name for w in plan.workers if w.finishes] == ["chief-0", "worker-0"]
    # one resources per worker, parameter servers included: a gang of like workers
    assert all(w.resources == PER_WORKER for w in plan.workers)
    assert plan.booked() == plan.workers
    assert plan.demand == Resources(cpu=8, memory=16 * GI, gpu=4)


def test_tensorflow_cluster_leaves_out_empty_jobs() -> None:
    plan = build("tensorflow", workers=1)
    config = json.loads(plan.workers[0].env["TF_CONFIG"])
    assert config == {
        "cluster": {"chief": ["127.0.0.1:30000"]},
        "task": {"type": "chief", "index": 0},
    }
    two = json.loads(build("tensorflow", workers=2).workers[1].env["TF_CONFIG"])
    assert "ps" not in two["cluster"]
    assert two["task"] == {"type": "worker", "index": 0}


# -- MPI --------------------------------------------------------------------------------------
def test_mpi_plan_has_a_launcher_running_mpirun_over_a_hostfile() -> None:
    plan = build("mpi", workers=2, slots=3, env_names=["LR", "DATA_DIR"])
    assert [w.name for w in plan.workers] == ["launcher-0", "worker-0", "worker-1"]
    assert plan.replicas() == {"Launcher": 1, "Worker": 2}
    assert plan.gang_size == 3
    assert plan.mpi is not None
    assert plan.mpi.hostfile == "127.0.0.1 slots=6\n"
    assert (plan.mpi.np, plan.mpi.slots) == (6, 3)
    launcher = plan.workers[0]
    assert launcher.command is not None
    assert launcher.command.startswith("mpirun ")
    assert f'--hostfile "${HOSTFILE_ENV}"' in launcher.command  # the shell expands it
    assert shlex.split(launcher.command) == [
        "mpirun",
        "--allow-run-as-root",
        "--oversubscribe",
        "--bind-to",
        "none",
        "--hostfile",
        f"${HOSTFILE_ENV}",
        "-np",
        "6",
        "-x",
        "DATA_DIR",
        "-x",
        "LR",
        "-x",
        "PATH",
        "sh",
        "-c",
        COMMAND,
    ]
    assert launcher.env == cube_env(launcher, 3)
    assert launcher.resources == Resources()  # it only starts the ranks
    for worker in plan.workers[1:]:
        assert worker.command is None and not worker.finishes  # mpirun starts their ranks
        assert worker.resources == PER_WORKER
        assert worker.env == cube_env(worker, 3)
    assert all_ports(plan) == []
    assert plan.booked() == plan.workers[1:]
    assert plan.demand == Resources(cpu=4, memory=8 * GI, gpu=2)


def test_mpi_hostfile_lists_each_host_once_and_oversubscribes_only_locally() -> None:
    plan = build("mpi", workers=3, slots=2, host=lambda name: f"train-{name}.train")
    assert plan.mpi is not None
    assert plan.mpi.hostfile == (
        "train-worker-0.train slots=2\ntrain-worker-1.train slots=2\ntrain-worker-2.train slots=2\n"
    )
    command = plan.workers[0].command
    assert command is not None and "--oversubscribe" not in command
    assert plan.workers[0].host == "train-launcher-0.train"


# -- Ray --------------------------------------------------------------------------------------
def test_ray_plan_starts_a_head_then_workers_join_it() -> None:
    plan = build("ray", workers=3)
    assert [w.name for w in plan.workers] == ["head-0", "worker-0", "worker-1"]
    assert plan.replicas() == {"head": 1, "worker": 2}
    assert plan.ray is not None
    assert plan.ray.address == "127.0.0.1:30000"
    assert plan.ray.driver == COMMAND
    assert plan.ray.head_start == (
        "ray start --head --node-ip-address=127.0.0.1 --port=30000 "
        "--ray-client-server-port=30001 --dashboard-agent-listen-port=30002 "
        "--dashboard-agent-grpc-port=30003 --node-manager-port=30004 "
        "--object-manager-port=30005 --metrics-export-port=30006 "
        "--runtime-env-agent-port=30007 --include-dashboard=false --disable-usage-stats --block"
    )
    head = plan.workers[0]
    assert head.ports == {"gcs": 30000, "client_server": 30001, **_node_ports(30002)}
    assert head.finishes  # the driver script's exit is the task's
    assert head.command is not None
    lines = head.command.splitlines()
    assert lines[0] == plan.ray.head_start + " &"
    assert "ray health-check --address=127.0.0.1:30000" in lines[2]
    assert shlex.split(lines[-1]) == ["RAY_ADDRESS=127.0.0.1:30000", "sh", "-c", COMMAND]
    for worker in plan.workers[1:]:
        assert worker.service and not worker.finishes
        first = 30002 + 6 * worker.rank  # six ports of its own per node, in plan order
        assert worker.ports == _node_ports(first)
        assert worker.command is not None
        wait, sockets, start = worker.command.splitlines()
        assert sockets.startswith("cube_ray_tmp=$(mktemp -d /tmp/cube-ray.")
        assert "ray health-check --address=127.0.0.1:30000" in wait
        assert shlex.split(start) == [
            "ray",
            "start",
            "--address=127.0.0.1:30000",
            "--node-ip-address=127.0.0.1",
            *(
                f"{flag}={port}"
                for flag, port in zip(RAY_FLAGS, range(first, first + 6), strict=True)
            ),
            "--temp-dir=$cube_ray_tmp",
            "--disable-usage-stats",
            "--block",
        ]
    for worker in plan.workers:
        assert worker.env == cube_env(worker, 3)
        assert worker.resources == PER_WORKER
    assert plan.demand == Resources(cpu=6, memory=12 * GI, gpu=3)


RAY_FLAGS = (
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--node-manager-port",
    "--object-manager-port",
    "--metrics-export-port",
    "--runtime-env-agent-port",
)


def _node_ports(first: int) -> dict[str, int]:
    names = ("dashboard_agent", "dashboard_agent_grpc", "node_manager", "object_manager")
    names += ("metrics_export", "runtime_env_agent")
    return {name: first + i for i, name in enumerate(names)}


# -- every kind -------------------------------------------------------------------------------
KINDS = [
    ("pytorch", {"workers": 4}),
    ("tensorflow", {"workers": 3, "ps": 1}),
    ("mpi", {"workers": 2, "slots": 2}),
    ("ray", {"workers": 4}),
]


@pytest.mark.parametrize(("kind", "kwargs"), KINDS)
def test_ports_are_unique_and_the_plan_survives_json(kind: str, kwargs: dict[str, Any]) -> None:
    plan = build(kind, **kwargs)
    ports = all_ports(plan)
    assert len(set(ports)) == len(ports)
    assert len({w.name for w in plan.workers}) == plan.gang_size
    assert [w.rank for w in plan.workers] == list(range(plan.gang_size))
    again = roundtrip(plan)
    assert again == plan
    assert again.to_data() == plan.to_data()


@pytest.mark.parametrize(("kind", "kwargs"), KINDS)
def test_failure_policy_defaults_to_fail_fast(kind: str, kwargs: dict[str, Any]) -> None:
    plan = build(kind, **kwargs)
    assert plan.failure.on_failure is OnFailure.FAIL_FAST
    assert plan.failure.max_restarts == 0


def test_restart_group_keeps_its_limit_through_json() -> None:
    plan = build("pytorch", on_failure="restart_group", max_restarts=3)
    assert plan.failure.on_failure is OnFailure.RESTART_GROUP
    assert plan.failure.max_restarts == 3
    assert roundtrip(plan).failure == plan.failure


def test_unspecified_resources_stay_unspecified_in_the_demand() -> None:
    plan = build("pytorch", workers=2, resources=Resources(gpu=1))
    assert plan.demand == Resources(cpu=None, memory=None, gpu=2)


def test_a_worker_is_found_by_name_or_rank() -> None:
    plan = build("pytorch", workers=3)
    assert plan.worker("worker-1").rank == 2
    assert plan.worker(1).name == "worker-0"
    assert plan.worker("0").name == "master-0"
    with pytest.raises(NotFoundError, match=r"no worker 'worker-7'.*master-0, worker-0"):
        plan.worker("worker-7")


def test_a_corrupt_stored_plan_is_one_readable_error() -> None:
    data = build("pytorch").to_data()
    data["workers"][1]["role"] = "boss"
    with pytest.raises(CubeError, match=r"^the stored launch plan is not valid at workers\.1"):
        LaunchPlan.from_data(data)


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "kwargs", "message"),
    [
        ("none", {}, "distributed: 'none' is not distributed: use one of pytorch, tensorflow"),
        ("horovod", {}, "distributed: 'horovod' is not a distributed kind"),
        ("pytorch", {"workers": 0}, "workers: 0 is not a whole number from 1 to 512"),
        ("pytorch", {"workers": True}, "workers: True is not a whole number"),
        ("pytorch", {"workers": "2"}, "workers: '2' is not a whole number"),
        ("pytorch", {"ps": 1}, "ps: parameter servers are for tensorflow, not pytorch"),
        ("tensorflow", {"ps": -1}, "ps: -1 is not a whole number from 0"),
        ("pytorch", {"nproc_per_worker": 0}, "nproc_per_worker: 0 is not a whole number"),
        ("ray", {"nproc_per_worker": 2}, "nproc_per_worker: is for pytorch, not ray"),
        ("mpi", {"slots": 0}, "slots: 0 is not a whole number from 1"),
        ("tensorflow", {"slots": 2}, "slots: is for mpi, not tensorflow"),
        ("pytorch", {"command": "  "}, "command: give the command each worker runs"),
        ("pytorch", {"on_failure": "retry"}, "on_failure: 'retry' is not a policy"),
        ("pytorch", {"max_restarts": 2}, "max_restarts: fail_fast never restarts"),
        (
            "pytorch",
            {"on_failure": "restart_group"},
            "max_restarts: restart_group needs max_restarts of 1 or more",
        ),
        ("pytorch", {"max_restarts": -1}, "max_restarts: -1 is not a whole number from 0"),
    ],
)
def test_wrong_args_name_their_field(kind: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        build(kind, **kwargs)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_every_wrong_arg_is_reported_at_once() -> None:
    with pytest.raises(SpecError) as caught:
        build("mpi", workers=0, ps=2, nproc_per_worker=3)
    assert [e.path for e in caught.value.errors] == ["workers", "ps", "nproc_per_worker"]


class _BadPorts:
    def __init__(self, ports: list[int]) -> None:
        self.ports = ports

    def take(self, count: int) -> list[int]:
        return self.ports[:count]


@pytest.mark.parametrize("ports", [[30000, 30000], [30000], [0, 1], [30000, 70000]])
def test_a_port_source_that_misbehaves_is_caught(ports: list[int]) -> None:
    with pytest.raises(ValueError, match="port source gave"):
        build("tensorflow", workers=2, ports=_BadPorts(ports))


def test_one_port_may_repeat_across_hosts() -> None:
    plan = build(
        "tensorflow",
        workers=2,
        ports=_BadPorts([2222, 2222]),
        host=lambda name: f"job-{name}",
    )
    config = json.loads(plan.workers[0].env["TF_CONFIG"])
    assert config["cluster"] == {"chief": ["job-chief-0:2222"], "worker": ["job-worker-0:2222"]}


def test_sequential_ports_continue_across_plans() -> None:
    source = SequentialPorts(40000)
    first = build("pytorch", ports=source)
    second = build("pytorch", ports=source)
    assert first.workers[0].ports == {"master": 40000}
    assert second.workers[0].ports == {"master": 40001}
