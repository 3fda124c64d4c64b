"""``plan_for``: a distributed kind and its template args -> a ``LaunchPlan``.

``workers`` counts the members that compute: PyTorch master + workers, TensorFlow chief +
workers (parameter servers come on top, ``ps``), MPI workers (the launcher comes on top), Ray
head + workers. Ranks follow plan order, the coordinator first.

PyTorch with ``nproc_per_worker`` P > 1 runs ``torchrun --nproc_per_node P`` in each worker
rather than one member per rank: a worker stays one node (one pod on Kubernetes, as
PyTorchJob's nprocPerNode does), so its resources, GPUs (CUDA_VISIBLE_DEVICES) and log are
per node and admission counts nodes; torchrun sets RANK, LOCAL_RANK and WORLD_SIZE for each of
its processes and stops its siblings when one dies. With P = 1 the command runs as is with
the five torchrun variables set, so it needs no torch to start (and ``init_process_group``'s
env:// reads them).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from cubestudio.engine.distributed.model import (
    HOSTFILE_ENV,
    DistributedKind,
    FailurePolicy,
    LaunchPlan,
    MpiPlan,
    OnFailure,
    RayPlan,
    Role,
    WorkerSpec,
)
from cubestudio.engine.distributed.ports import PortSource
from cubestudio.errors import FieldError, SpecError
from cubestudio.spec.model import Resources

HostOf = Callable[[str], str]  # member name ("worker-1") -> the address others reach it at
MAX_WORKERS = 512
MAX_RESTARTS = 100
RAY_WAIT_SECONDS = 300  # how long a Ray member waits for the head before it gives up
_KINDS = ", ".join(DistributedKind)

_Member = tuple[Role, int]


def plan_for(
    kind: str,
    *,
    task_name: str,
    command: str,
    workers: int,
    resources: Resources,
    ports: PortSource,
    ps: int = 0,
    nproc_per_worker: int = 1,
    slots: int = 1,
    host: str | HostOf = "127.0.0.1",
    env_names: Collection[str] = (),
    on_failure: str = "fail_fast",
    max_restarts: int = 0,
) -> LaunchPlan:
    """The plan of one attempt. ``resources`` are per worker. ``env_names``: the task's env
    names, forwarded by mpirun (``-x``) to its ranks; their values never enter the plan.
    Raises SpecError naming each field that is wrong."""
    problems = _problems(kind, task_name, command, workers, ps, nproc_per_worker, slots)
    problems += _policy_problems(on_failure, max_restarts)
    if problems:
        raise SpecError(problems)
    dkind = DistributedKind(kind)
    members = _members(dkind, workers, ps)
    host_of: HostOf = (lambda _name: host) if isinstance(host, str) else host
    hosts = [host_of(f"{role}-{index}") for role, index in members]
    ray_ports = 2 + len(RAY_NODE_PORTS) * len(members)
    counts = {"pytorch": 1, "tensorflow": len(members), "mpi": 0, "ray": ray_ports}
    taken = _checked_ports(ports, counts[dkind], hosts, dkind)
    build = _BUILDERS[dkind]
    specs, mpi, ray = build(
        _Context(members, hosts, taken, command, resources, nproc_per_worker, slots, env_names)
    )
    return LaunchPlan(
        kind=dkind,
        task=task_name,
        workers=tuple(specs),
        resources=resources,
        failure=FailurePolicy(on_failure=OnFailure(on_failure), max_restarts=max_restarts),
        nproc_per_worker=nproc_per_worker,
        mpi=mpi,
        ray=ray,
    )


# -- validation -------------------------------------------------------------------------------
def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(name: str, value: object, low: int, high: int) -> list[FieldError]:
    if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
        return [FieldError(name, f"{value!r} is not a whole number from {low} to {high}")]
    return []


def _problems(
    kind: str,
    task_name: str,
    command: str,
    workers: int,
    ps: int,
    nproc: int,
    slots: int,
) -> list[FieldError]:
    if kind not in DistributedKind._value2member_map_:
        why = "is not distributed" if kind == "none" else "is not a distributed kind"
        return [FieldError("distributed", f"{kind!r} {why}: use one of {_KINDS}")]
    problems = _count("workers", workers, 1, MAX_WORKERS)
    problems += _count("ps", ps, 0, MAX_WORKERS)
    problems += _count("nproc_per_worker", nproc, 1, 1024)
    problems += _count("slots", slots, 1, 1024)
    if not task_name:
        problems.append(FieldError("task_name", "give the task's name"))
    if not command.strip():
        problems.append(FieldError("command", "give the command each worker runs"))
    if ps and kind != DistributedKind.TENSORFLOW and _is_int(ps):
        problems.append(
            FieldError("ps", f"parameter servers are for tensorflow, not {kind}: remove ps")
        )
    if nproc != 1 and kind != DistributedKind.PYTORCH and _is_int(nproc):
        problems.append(
            FieldError(
                "nproc_per_worker", f"is for pytorch, not {kind}: remove it (or use workers)"
            )
        )
    if slots != 1 and kind != DistributedKind.MPI and _is_int(slots):
        problems.append(FieldError("slots", f"is for mpi, not {kind}: remove it"))
    return problems


def _policy_problems(on_failure: str, max_restarts: int) -> list[FieldError]:
    if on_failure not in OnFailure._value2member_map_:
        choices = " or ".join(OnFailure)
        return [FieldError("on_failure", f"{on_failure!r} is not a policy: use {choices}")]
    problems = _count("max_restarts", max_restarts, 0, MAX_RESTARTS)
    if problems:
        return problems
    if on_failure == OnFailure.RESTART_GROUP and max_restarts < 1:
        return [FieldError("max_restarts", "restart_group needs max_restarts of 1 or more")]
    if on_failure == OnFailure.FAIL_FAST and max_restarts > 0:
        return [
            FieldError("max_restarts", "fail_fast never restarts: use on_failure restart_group")
        ]
    return []


def _checked_ports(
    source: PortSource, count: int, hosts: list[str], kind: DistributedKind
) -> Iterator[int]:
    """The source's ports, checked: the right count, valid, and distinct on a shared host
    (the coordinator's host for kinds whose extra ports all sit there)."""
    taken = source.take(count) if count else []
    if len(taken) != count or not all(_is_int(p) and 0 < p < 65536 for p in taken):
        raise ValueError(f"port source gave {taken!r} for {count} ports")
    owners = hosts if kind is DistributedKind.TENSORFLOW else [hosts[0]] * count
    if kind is DistributedKind.RAY:  # head: gcs, client server; then each member's own
        owners = [hosts[0], hosts[0], *(h for h in hosts for _ in RAY_NODE_PORTS)]
    pairs = list(zip(owners, taken, strict=True))
    if len(set(pairs)) != len(pairs):
        raise ValueError(f"port source gave a port twice on one host: {taken!r}")
    return iter(taken)


# -- members ----------------------------------------------------------------------------------
def _members(kind: DistributedKind, workers: int, ps: int) -> list[_Member]:
    first, rest = {
        DistributedKind.PYTORCH: (Role.MASTER, workers - 1),
        DistributedKind.TENSORFLOW: (Role.CHIEF, workers - 1),
        DistributedKind.MPI: (Role.LAUNCHER, workers),
        DistributedKind.RAY: (Role.HEAD, workers - 1),
    }[kind]
    members = [(first, 0)] + [(Role.WORKER, i) for i in range(rest)]
    return members + [(Role.PS, i) for i in range(ps)]


_SAME = "\0"  # spec(): the task's own command


@dataclass(frozen=True, slots=True)
class _Context:
    members: list[_Member]
    hosts: list[str]
    ports: Iterator[int]
    command: str
    resources: Resources
    nproc: int
    slots: int
    env_names: Collection[str]

    def spec(
        self,
        rank: int,
        *,
        env: dict[str, str] | None = None,
        command: str | None = _SAME,
        ports: dict[str, int] | None = None,
        resources: Resources | None = None,
        service: bool = False,
    ) -> WorkerSpec:
        role, index = self.members[rank]
        cube = {
            "CUBE_WORKER": f"{role}-{index}",
            "CUBE_WORKER_RANK": str(rank),
            "CUBE_GANG_SIZE": str(len(self.members)),
        }
        return WorkerSpec(
            role=role,
            index=index,
            rank=rank,
            host=self.hosts[rank],
            command=self.command if command == _SAME else command,
            env={**(env or {}), **cube},
            ports=ports or {},
            resources=self.resources if resources is None else resources,
            service=service,
        )


_Built = tuple[list[WorkerSpec], MpiPlan | None, RayPlan | None]


# -- per kind ---------------------------------------------------------------------------------
def _pytorch(ctx: _Context) -> _Built:
    port = next(ctx.ports)
    addr, nodes = ctx.hosts[0], len(ctx.members)
    specs = []
    for rank in range(nodes):
        env = {"MASTER_ADDR": addr, "MASTER_PORT": str(port)}
        if ctx.nproc == 1:
            env |= {"WORLD_SIZE": str(nodes), "RANK": str(rank), "LOCAL_RANK": "0"}
            command = ctx.command
        else:
            env |= {
                "WORLD_SIZE": str(nodes * ctx.nproc),
                "NNODES": str(nodes),
                "NODE_RANK": str(rank),
                "NPROC_PER_NODE": str(ctx.nproc),
            }
            command = shlex.join(
                [
                    "torchrun",
                    f"--nnodes={nodes}",
                    f"--nproc_per_node={ctx.nproc}",
                    f"--node_rank={rank}",
                    f"--master_addr={addr}",
                    f"--master_port={port}",
                    "--no_python",
                    "sh",
                    "-c",
                    ctx.command,
                ]
            )
        ports = {"master": port} if rank == 0 else {}
        specs.append(ctx.spec(rank, env=env, command=command, ports=ports))
    return specs, None, None


def _tensorflow(ctx: _Context) -> _Built:
    ports = [next(ctx.ports) for _ in ctx.members]
    cluster: dict[str, list[str]] = {}
    for (role, _), host, port in zip(ctx.members, ctx.hosts, ports, strict=True):
        cluster.setdefault(str(role), []).append(f"{host}:{port}")
    specs = []
    for rank, (role, index) in enumerate(ctx.members):
        config = {"cluster": cluster, "task": {"type": str(role), "index": index}}
        env = {"TF_CONFIG": json.dumps(config)}
        ports_of = {"server": ports[rank]}
        # a parameter server serves until stopped; it books a worker's resources like the
        # others: admission places a gang of like workers
        specs.append(ctx.spec(rank, env=env, ports=ports_of, service=role is Role.PS))
    return specs, None, None


def _mpi(ctx: _Context) -> _Built:
    workers = range(1, len(ctx.members))
    per_host: dict[str, int] = {}
    for rank in workers:
        per_host[ctx.hosts[rank]] = per_host.get(ctx.hosts[rank], 0) + ctx.slots
    hostfile = "".join(f"{host} slots={n}\n" for host, n in per_host.items())
    np = len(workers) * ctx.slots
    mpirun = ["mpirun", "--allow-run-as-root"]
    if len(set(ctx.hosts)) == 1:  # every rank on this machine: may exceed its cores
        mpirun.append("--oversubscribe")
    mpirun += ["--bind-to", "none", "--hostfile", f'"${HOSTFILE_ENV}"', "-np", str(np)]
    for name in sorted({"PATH", *ctx.env_names}):
        mpirun += ["-x", shlex.quote(name)]
    mpirun += ["sh", "-c", shlex.quote(ctx.command)]
    launcher = ctx.spec(0, command=" ".join(mpirun), resources=Resources())
    specs = [launcher] + [ctx.spec(rank, command=None) for rank in workers]
    return specs, MpiPlan(hostfile=hostfile, np=np, slots=ctx.slots), None


def _wait_for_head(address: str, *, head_pid: str = "") -> str:
    """A shell loop until the Ray head answers, for at most RAY_WAIT_SECONDS (and, on the
    head itself, only while its `ray start` lives)."""
    check = f"ray health-check --address={address} >/dev/null 2>&1"
    give_up = f'n=$((n+1)); [ "$n" -lt {RAY_WAIT_SECONDS} ] || exit 1'
    if head_pid:
        give_up = f"kill -0 {head_pid} 2>/dev/null || exit 1; {give_up}"
    return f"n=0; until {check}; do {give_up}; sleep 1; done"


# Run on the head: returns once ``sys.argv[2]`` nodes are alive (the whole gang joined, as a
# RayJob waits for its cluster), exits 1 after ``sys.argv[3]`` seconds.
_NODES_PY = """import sys, time, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
want, end = int(sys.argv[2]), time.time() + float(sys.argv[3])
while sum(1 for node in ray.nodes() if node["Alive"]) < want:
    if time.time() > end:
        sys.exit(f"ray: fewer than {want} nodes joined within {sys.argv[3]}s")
    time.sleep(0.5)
"""


def _wait_for_nodes(address: str, count: int) -> str:
    """A shell line until every member joined the cluster: the script then sees them all."""
    if count <= 1:
        return ":"
    python = '"${CUBE_PYTHON:-python3}"'
    return f"{python} -c {shlex.quote(_NODES_PY)} {address} {count} {RAY_WAIT_SECONDS} || exit 1"


# Each Ray node's own ports, given explicitly: left to Ray, the nodes of a gang, all started
# at once on one machine, pick free ports at the same moment and may pick the same one (a
# raylet then fails with "Address already in use").
RAY_NODE_PORTS = (
    "dashboard_agent",
    "dashboard_agent_grpc",
    "node_manager",
    "object_manager",
    "metrics_export",
    "runtime_env_agent",
)
_RAY_FLAGS = {
    "dashboard_agent": "--dashboard-agent-listen-port",
    "dashboard_agent_grpc": "--dashboard-agent-grpc-port",
    "node_manager": "--node-manager-port",
    "object_manager": "--object-manager-port",
    "metrics_export": "--metrics-export-port",
    "runtime_env_agent": "--runtime-env-agent-port",
}


# A worker node's temporary folder (its sockets, logs) of its own: left to Ray, the worker
# nodes of a gang, sharing one at a time, each take the first socket name not yet there
# ("raylet.1", ...) and two may take the same one. Short, as a socket's path must be.
_SOCKETS_DIR = (
    "cube_ray_tmp=$(mktemp -d /tmp/cube-ray.XXXXXX) || exit 1; "
    """trap 'rm -rf "$cube_ray_tmp"' EXIT; trap 'exit 143' TERM INT HUP"""
)
_SOCKETS = '--temp-dir="$cube_ray_tmp"'


def _node_flags(ports: dict[str, int]) -> str:
    return " ".join(f"{_RAY_FLAGS[name]}={ports[name]}" for name in RAY_NODE_PORTS)


def _ray(ctx: _Context) -> _Built:
    gcs, client = next(ctx.ports), next(ctx.ports)
    nodes = [{name: next(ctx.ports) for name in RAY_NODE_PORTS} for _ in ctx.members]
    head_host = ctx.hosts[0]
    address = f"{head_host}:{gcs}"
    head_start = (
        f"ray start --head --node-ip-address={head_host} --port={gcs} "
        f"--ray-client-server-port={client} {_node_flags(nodes[0])} "
        "--include-dashboard=false --disable-usage-stats --block"
    )
    head_command = "\n".join(
        [
            f"{head_start} &",
            "cube_ray_head=$!",
            _wait_for_head(address, head_pid="$cube_ray_head"),
            _wait_for_nodes(address, len(ctx.members)),
            f"RAY_ADDRESS={address} sh -c {shlex.quote(ctx.command)}",
        ]
    )
    head_ports = {"gcs": gcs, "client_server": client, **nodes[0]}
    specs = [ctx.spec(0, command=head_command, ports=head_ports)]
    for rank in range(1, len(ctx.members)):
        start = (
            f"ray start --address={address} --node-ip-address={ctx.hosts[rank]} "
            f"{_node_flags(nodes[rank])} {_SOCKETS} --disable-usage-stats --block"
        )
        command = f"{_wait_for_head(address)}\n{_SOCKETS_DIR}\n{start}"
        ports = nodes[rank]
        specs.append(ctx.spec(rank, command=command, ports=ports, service=True))
    ray = RayPlan(address=address, head_start=head_start, driver=ctx.command)
    return specs, None, ray


_BUILDERS: dict[DistributedKind, Callable[[_Context], _Built]] = {
    DistributedKind.PYTORCH: _pytorch,
    DistributedKind.TENSORFLOW: _tensorflow,
    DistributedKind.MPI: _mpi,
    DistributedKind.RAY: _ray,
}
