"""The launch plan's model: who runs what, with which env, ports and resources, and what
happens when one of them fails. JSON-able both ways (``to_data`` / ``from_data``): the engine
stores it with the attempt to re-adopt every member after a restart."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cubestudio.errors import CubeError, NotFoundError
from cubestudio.spec.model import Resources

# The env var through which the MPI launcher's command finds the hostfile: the driver writes
# ``plan.mpi.hostfile`` to a file of its own and sets this to the file's path.
HOSTFILE_ENV = "CUBE_MPI_HOSTFILE"


class DistributedKind(StrEnum):
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    MPI = "mpi"
    RAY = "ray"


class Role(StrEnum):
    """A member's role, lower case as in TF_CONFIG and in log prefixes (``chief-0``)."""

    MASTER = "master"  # PyTorch rank 0
    CHIEF = "chief"  # TensorFlow
    PS = "ps"  # TensorFlow parameter server
    LAUNCHER = "launcher"  # MPI: runs mpirun
    HEAD = "head"  # Ray
    WORKER = "worker"  # every kind


# Replica type names of the Kubernetes objects (Kubeflow's PyTorchJob/TFJob/MPIJob replica
# specs; KubeRay's head and worker groups keep Ray's lower-case names).
_KUBEFLOW_TYPES = {
    Role.MASTER: "Master",
    Role.CHIEF: "Chief",
    Role.PS: "PS",
    Role.LAUNCHER: "Launcher",
    Role.WORKER: "Worker",
}


def replica_type(kind: DistributedKind, role: Role) -> str:
    if kind is DistributedKind.RAY:
        return str(role)
    return _KUBEFLOW_TYPES[role]


class OnFailure(StrEnum):
    FAIL_FAST = "fail_fast"
    RESTART_GROUP = "restart_group"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FailurePolicy(_Model):
    """What a member's failure (non-zero exit, a service that ends early, a member lost) does.

    ``on_failure``:
      - ``fail_fast`` (default): the driver stops every other member at once (SIGTERM to each
        group, SIGKILL after the grace) and the attempt fails; the task's ``retries`` then
        apply as to any task. Kubernetes: restartPolicy Never, backoffLimit 0 (Volcano:
        ``PodFailed -> AbortJob``).
      - ``restart_group``: the same stop, then the whole gang starts again, as a new attempt
        with a fresh plan (new ports), at most ``max_restarts`` times; after that the attempt
        fails as with fail_fast. Volcano: ``PodFailed -> RestartJob`` with maxRetry.
    ``max_restarts``: 0 with fail_fast; at least 1 with restart_group.
    """

    on_failure: OnFailure = OnFailure.FAIL_FAST
    max_restarts: int = Field(default=0, ge=0)


class WorkerSpec(_Model):
    """One member of the gang.

    ``rank`` is its position in the gang, 0 being the coordinator (master, chief, launcher,
    head); for PyTorch with one process per worker it is the torch RANK, with
    ``nproc_per_worker`` P the worker's processes hold ranks rank*P .. rank*P+P-1.
    ``command``: what runs, a shell command; None when another member starts it (MPI workers:
    mpirun starts their ranks) so the driver only books its resources.
    ``env``: the distributed variables, applied over the task's own env (which never enters
    the plan: it may hold secrets).
    ``ports``: name -> port this member listens on at ``host``.
    ``service``: it runs until stopped (TensorFlow ps, Ray workers): it does not decide the
    task's success, and ending before the task is done counts as a failure.
    """

    role: Role
    index: int = Field(ge=0)
    rank: int = Field(ge=0)
    host: str
    command: str | None
    env: dict[str, str] = Field(default_factory=dict)
    ports: dict[str, int] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    service: bool = False

    @property
    def name(self) -> str:
        """Its name and log prefix: ``worker-1``, ``chief-0``."""
        return f"{self.role}-{self.index}"

    @property
    def finishes(self) -> bool:
        """Its exit with 0 is needed for the task to succeed."""
        return self.command is not None and not self.service


class MpiPlan(_Model):
    hostfile: str  # OpenMPI hostfile text: "HOST slots=N" per host
    np: int  # ranks mpirun starts: workers x slots
    slots: int  # per worker (MPIJob's slotsPerWorker)


class RayPlan(_Model):
    address: str  # head's GCS, host:port: what workers join and the driver script uses
    head_start: str  # `ray start --head ... --block`, run in the background of the head
    driver: str  # the user's script, run on the head once the cluster is up


class LaunchPlan(_Model):
    version: Literal[1] = 1
    kind: DistributedKind
    task: str
    workers: tuple[WorkerSpec, ...]
    resources: Resources = Field(default_factory=Resources)  # per worker, as the task gives
    failure: FailurePolicy = Field(default_factory=FailurePolicy)
    nproc_per_worker: int = Field(default=1, ge=1)
    mpi: MpiPlan | None = None
    ray: RayPlan | None = None

    @property
    def gang_size(self) -> int:
        """Members that must all be placed at once (the Volcano Job's minAvailable)."""
        return len(self.workers)

    @property
    def demand(self) -> Resources:
        """The whole gang's resources: what admission books, all at once or not at all.
        cpu and memory stay None (unspecified) only when no member gives them."""
        cpus = [w.resources.cpu for w in self.workers if w.resources.cpu is not None]
        mems = [w.resources.memory for w in self.workers if w.resources.memory is not None]
        return Resources(
            cpu=sum(cpus) if cpus else None,
            memory=sum(mems) if mems else None,
            gpu=sum(w.resources.gpu for w in self.workers),
        )

    def booked(self) -> tuple[WorkerSpec, ...]:
        """The members that each book ``resources``, in rank order: every member but an MPI
        launcher (it only starts the ranks, and books nothing). Admission places them as
        ``len(booked())`` like workers of ``resources``; its i-th worker's GPUs are theirs."""
        return tuple(w for w in self.workers if w.role is not Role.LAUNCHER)

    def replicas(self) -> dict[str, int]:
        """Member count per Kubernetes replica type, in plan order: {"Master": 1, ...}."""
        counts: dict[str, int] = {}
        for worker in self.workers:
            kind = replica_type(self.kind, worker.role)
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def worker(self, selector: str | int) -> WorkerSpec:
        """A member by name (``worker-1``) or rank (1, or "1" as typed on a command line)."""
        for worker in self.workers:
            if selector in (worker.name, worker.rank, str(worker.rank)):
                return worker
        names = ", ".join(w.name for w in self.workers)
        raise NotFoundError(
            f"task {self.task} has no worker {selector!r}: give a rank (0-"
            f"{self.gang_size - 1}) or a name ({names})"
        )

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_data(cls, data: object) -> LaunchPlan:
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "plan"
            raise CubeError(
                f"the stored launch plan is not valid at {where}: {first['msg']} "
                "(it was written by another version: retry the task to plan it again)"
            ) from None
