"""Admission: which waiting task starts now, on which GPU indices, and why the others wait.

Admission is one of the engine's three small interfaces (STYLE.md, after Dagster): it decides
*whether* a task may start; the launcher decides *where* (local process, Kubernetes pod); the
task's command is *what* runs. This package is pure: no store, no processes, no clock (time
is passed in), so the engine service, ``cube run`` on its own and the tests all drive the same
rules, and the Kubernetes driver can emit them as Volcano objects (a ``Queue`` is a Volcano
Queue with ``weight`` and ``capability``; a ``Demand`` is a PodGroup with ``minMember =
workers``, ``minResources`` = the totals, its priority and queue).

Models (``model.py``)
    ``Pool(cpu, memory, gpus)``: what there is to hand out; ``machine_pool()`` (machine.py)
    builds this machine's, overridable with CUBE_POOL_CPU / CUBE_POOL_MEMORY / CUBE_POOL_GPU.
    ``Queue(name, project, cpu, memory, gpu, weight)``: a capability per resource (None: no
    limit) and a weight for fair share. ``Demand(id, queue, submitted_at, resources, workers,
    priority)``: ``workers`` workers of ``Resources(cpu, memory, gpu, gpu_shareable)`` each.
    ``Grant``: an admitted demand and the GPU indices of each worker.

Rules
    1. A demand starts only whole: all of its workers at once, or none (a gang). Nothing is
       ever allocated in part, so two gangs cannot each hold half of what both need.
    2. It waits while its queue would go over its capability, or the pool lacks room.
    3. Within a queue, higher ``priority`` first, then FIFO by ``submitted_at``. The order is
       strict: a queue's later demands wait behind its first one ("waiting for its turn").
    4. Across queues, fair share by weight: the next demand comes from the queue with the
       lowest weighted dominant share (the largest fraction of the pool's cpu, memory or gpu
       it uses, divided by its weight); ties go to the higher priority, then the older
       demand. Priority orders a queue, it does not jump other queues' shares (as with
       Volcano's priority and proportion plugins).
    5. Reservation, against starvation (as Slurm's backfill does on each pass): in each
       ``decide``, the first demand in this order that the pool cannot fit gets the
       reservation, and every demand after it starts only in the *surplus*: in each
       resource it uses, what is free beyond what the reserved demand needs. So smaller
       demands backfill only into what the reservation does not need, and what finishes
       accumulates for it until it fits. A large gang reaches the front of the order because
       its queue's share only falls while it waits (its queue's later demands wait behind
       it, rule 3) while the others' rises with what they start: at the latest once its own
       queue's running tasks ended, no stream of small tasks can delay it further.
    6. A demand larger than its queue's capability, or than the whole pool, can never start:
       it is parked with a reason that says how to fix it, and blocks nothing (no deadlock).
       ``set_queue`` looks at a queue's parked demands again.
    7. GPUs are indices for CUDA_VISIBLE_DEVICES, lowest first. Two non-shareable workers
       never get one index; shareable workers (``gpu_shareable``, the template says so) pack
       onto indices that are already shared, then take free ones. A queue's gpu usage counts
       what is asked (gpu x workers), shared or not.

Waiting reasons (``reasons.py``) start with ``queued:`` and name the first short resource in
the order gpu, cpu, memory: ``queued: needs 4 gpu, queue team-a has 0 of 4 free``, ``queued:
needs 4 gpu, the pool has 2 of 8 gpu free``, ``queued: waiting behind a reservation for
<id>``, ``queued: waiting for its turn in queue team-a``.

How the engine drives it
    * Build one per process that launches tasks: ``Admission(machine_pool(), queues)`` with
      the queues from the store; ``set_queue`` when `cube queue set` changes one.
    * After a restart, first ``restore(demand, gpus, now)`` every attempt still running or
      adopted (with the indices stored for it), then ``submit`` the queued tasks again.
    * Where the controller's ``_launch_ready`` now launches a ready task, ``submit`` a
      ``Demand`` (id: "<run>/<task>", the project's queue, the task's resources, its workers,
      priority, ``submitted_at``: when it became ready). Once per turn, before the turn's
      commit, call ``decide(now)``: launch each ``Grant`` in ``started`` (worker ``i`` gets
      ``CUDA_VISIBLE_DEVICES = grant.cuda_visible_devices(i)``; "" hides every GPU from a
      worker that asked for none) and store each reason in ``waiting`` on its task (only new
      or changed reasons come back, so nothing is rewritten every turn).
    * When an attempt ends: ``release(id)`` (and ``decide`` in the same turn, so what it freed
      is used at once); when a queued task is stopped: ``withdraw(id)``.
    * Reads for `cube queue list` and the API: ``queue_status()``, ``free()``, ``reason(id)``,
      ``reserved``.
    * The spec's ``resources`` are per worker; its ``gpu`` is a float: a whole number n maps
      to ``gpu=n``, a fraction (0.5) to ``gpu=1, gpu_shareable=True``, as does a template
      that says its GPUs may be shared.
    * Several processes on one pool (`cube run` on its own beside an engine service): the
      store stays the truth; a process can rebuild an ``Admission`` from it at any time
      (``restore`` the running attempts, ``submit`` the queued ones; both O(log n) per task)
      while holding a lock on the pool, so the pure core needs no shared memory.
"""

from cubestudio.engine.admission.core import Admission
from cubestudio.engine.admission.machine import machine_pool
from cubestudio.engine.admission.model import (
    AdmissionError,
    Decisions,
    Demand,
    Grant,
    Pool,
    Queue,
    QueueStatus,
    Resources,
    Usage,
)

__all__ = [
    "Admission",
    "AdmissionError",
    "Decisions",
    "Demand",
    "Grant",
    "Pool",
    "Queue",
    "QueueStatus",
    "Resources",
    "Usage",
    "machine_pool",
]
