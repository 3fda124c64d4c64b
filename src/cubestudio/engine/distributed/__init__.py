"""Distributed tasks (F12): the launch plan, one plain model that every driver consumes.

A task whose template is ``distributed: pytorch | tensorflow | mpi | ray`` runs as a gang of
members (all start or none). ``plan_for`` turns the kind and the template's args into a
``LaunchPlan``: each member's role (named as Kubeflow and KubeRay name them), index, rank,
command, the env it gets on top of the task's env, its ports and its resources, plus the
failure policy. It is pure: ports come from an injected ``PortSource`` and nothing else is
read or written.

How the drivers consume it:

- **Admission** admits the task whole or not at all: ``len(plan.booked())`` like workers of
  ``plan.resources`` each (``plan.demand`` is their sum); the i-th granted worker's GPUs
  (CUDA_VISIBLE_DEVICES) go to ``plan.booked()[i]``.
- **The local driver** (drivers/local.py) writes the plan to the attempt's ``gang.json`` and
  runs the gang supervisor (drivers/gang.py) as the attempt's command, through the usual
  wrapper: one launch claim for the whole gang, so an engine restarted after ``kill -9``
  adopts it (every member with it) and none starts twice. The supervisor starts every member
  that has a ``command`` in a process group of its own, env = the task's env, then the
  member's ``env``, with the interpreter's ``bin`` folder first on ``PATH`` (``torchrun``,
  ``mpirun``, ``ray`` of cube's environment); for MPI it writes ``plan.mpi.hostfile`` and
  sets ``HOSTFILE_ENV`` to it. Members without a command (MPI workers) are only booked:
  mpirun starts their ranks. Each member's lines reach the attempt's log prefixed with its
  ``name`` (``[worker-1] ...``) and its own log in ``workers/<name>/``.
- **The Kubernetes driver** turns the same plan into a PyTorchJob / TFJob / MPIJob (replica
  counts from ``plan.replicas()``, one container command and env per replica type, resources
  per member; ``slots`` becomes ``slotsPerWorker``), a RayJob, or a Volcano Job with
  ``minAvailable = plan.gang_size``. There the addresses are the members' service names (pass
  ``host`` as a function of the member's name) and ports may repeat across hosts.

Member outcomes: the task succeeds when every member that ``finishes`` (has a command and is
not a ``service``) has exited 0; the driver then stops the rest (TensorFlow parameter servers,
Ray workers). Any member that fails (non-zero exit, a service ending early, a member lost)
triggers ``plan.failure``.
"""

from cubestudio.engine.distributed.build import HostOf, plan_for
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
from cubestudio.engine.distributed.ports import (
    LocalPorts,
    PortSource,
    SequentialPorts,
    free_ports,
)

__all__ = [
    "HOSTFILE_ENV",
    "DistributedKind",
    "FailurePolicy",
    "HostOf",
    "LaunchPlan",
    "LocalPorts",
    "MpiPlan",
    "OnFailure",
    "PortSource",
    "RayPlan",
    "Role",
    "SequentialPorts",
    "WorkerSpec",
    "free_ports",
    "plan_for",
]
