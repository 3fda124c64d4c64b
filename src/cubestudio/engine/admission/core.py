"""``Admission``: the pool, the queues and their waiting demands, in memory; pure and fast.

Each queue keeps a heap of its demands keyed (-priority, submitted_at, submission order);
a ``decide`` call orders the queues that have demands by fair share (a heap of at most one
entry per queue), so one decision costs O(log n + log queues), never a scan of everything.
A withdrawn demand is only marked, and dropped when it reaches the top of its heap. A queue
whose head its capability holds back is skipped until that queue's usage or capability
changes, and a demand is checked against "can it ever fit" once per capability change.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cubestudio.engine.admission import reasons
from cubestudio.engine.admission.gpus import GpuIndices
from cubestudio.engine.admission.model import (
    AdmissionError,
    Decisions,
    Demand,
    Grant,
    Need,
    Pool,
    Queue,
    QueueStatus,
    Usage,
)

_Key = tuple[int, float, int]


class _QueueState:
    __slots__ = (
        "queue",
        "inv_weight",
        "cap",
        "epoch",
        "heap",
        "waiting",
        "parked",
        "used",
        "running",
        "held_back",
    )

    def __init__(self, queue: Queue) -> None:
        self.heap: list[tuple[int, float, int, _Entry]] = []
        self.waiting = 0  # live entries in the heap
        self.parked: dict[str, _Entry] = {}  # can never fit the capability or the pool
        self.used = [0, 0, 0]  # millicores, bytes, gpus
        self.running = 0
        self.epoch = 0  # bumped when the capability changes
        # The head its capability held back, until this queue's usage or capability changes:
        # looking at it again would give the same answer.
        self.held_back: _Entry | None = None
        self.configure(queue)

    def configure(self, queue: Queue) -> None:
        self.epoch += 1
        self.held_back = None
        self.queue = queue
        self.inv_weight = 1.0 / queue.weight
        cpu_m = None if queue.cpu is None else round(queue.cpu * 1000)
        self.cap = (cpu_m, queue.memory, queue.gpu)


@dataclass(slots=True, eq=False)
class _Entry:
    demand: Demand
    need: Need
    key: _Key
    queue: _QueueState
    in_heap: bool = True
    parked: bool = False
    fits_epoch: int = -1  # the queue epoch at which it was found able to fit, some day


@dataclass(slots=True, eq=False)
class _Running:
    grant: Grant
    need: Need
    queue: _QueueState


@dataclass(slots=True)
class _Block:
    """Why the demand examined cannot start; ``kind``: queue, pool, park or reservation."""

    kind: str
    reason: str


class Admission:
    """Decides which demands start; see the package docstring for the rules."""

    def __init__(self, pool: Pool, queues: Iterable[Queue] = ()) -> None:
        self.pool = pool
        self._queues: dict[str, _QueueState] = {}
        self._waiting: dict[str, _Entry] = {}
        self._running: dict[str, _Running] = {}
        self._reported: dict[str, str] = {}  # demand id -> the last reason given
        self._recheck: list[_Entry] = []  # may need "its turn" at the end of the next decide
        self._reserved: _Entry | None = None
        self._seq = 0
        self._total = (round(pool.cpu * 1000), pool.memory)
        self._free = list(self._total)  # millicores, bytes
        self._gpus = GpuIndices(pool.gpus)
        self._inv_total = tuple(1.0 / t if t else 0.0 for t in (*self._total, self._gpus.total))
        for queue in queues:
            self.set_queue(queue)

    # -- queues -------------------------------------------------------------------------------
    def set_queue(self, queue: Queue) -> None:
        """Add a queue or change one (its usage is kept); demands it parked are looked at
        again at the next ``decide``."""
        state = self._queues.get(queue.name)
        if state is None:
            self._queues[queue.name] = _QueueState(queue)
            return
        state.configure(queue)
        for entry in state.parked.values():
            entry.parked, entry.in_heap = False, True
            heapq.heappush(state.heap, (*entry.key, entry))
            state.waiting += 1
            self._recheck.append(entry)
        state.parked.clear()

    # -- demands ------------------------------------------------------------------------------
    def submit(self, demand: Demand) -> None:
        """Queue a demand; it starts at a later ``decide``."""
        if demand.id in self._waiting or demand.id in self._running:
            where = "waiting" if demand.id in self._waiting else "running"
            raise AdmissionError(f"task {demand.id} is already {where}: submit it once")
        state = self._queues.get(demand.queue)
        if state is None:
            raise AdmissionError(
                f"task {demand.id}: queue {demand.queue} does not exist; create it with "
                f"`cube queue set {demand.queue}` or use an existing queue"
            )
        self._seq += 1
        key = (-demand.priority, demand.submitted_at.timestamp(), self._seq)
        entry = _Entry(demand, Need.of(demand), key, state)
        head = self._head(state)
        heapq.heappush(state.heap, (*key, entry))
        state.waiting += 1
        self._waiting[demand.id] = entry
        self._recheck.append(entry)
        if head is not None and key < head.key:
            self._recheck.append(head)  # no longer first: its reason becomes "its turn"

    def withdraw(self, demand_id: str) -> bool:
        """Forget a waiting demand (its task was stopped); False when it is not waiting."""
        entry = self._waiting.pop(demand_id, None)
        if entry is None:
            return False
        self._leave(entry)
        if entry.parked:
            del entry.queue.parked[demand_id]
        return True

    def release(self, demand_id: str) -> Grant | None:
        """Give a finished demand's resources and GPU indices back to the pool and its
        queue. Releasing one that is not running (twice, say) does nothing and gives None."""
        run = self._running.pop(demand_id, None)
        if run is None:
            return None
        need, used = run.need, run.queue.used
        self._free[0] += need.cpu_m
        self._free[1] += need.memory
        used[0] -= need.cpu_m
        used[1] -= need.memory
        used[2] -= need.gpu
        run.queue.running -= 1
        run.queue.held_back = None
        self._gpus.give_back(run.grant.gpus, need.shareable)
        return run.grant

    def restore(self, demand: Demand, gpus: Sequence[Sequence[int]], now: datetime) -> Grant:
        """Count a demand that already runs (an attempt adopted after a restart) with the
        GPU indices it was given, without checking room: it runs whatever we decide."""
        if demand.id in self._waiting or demand.id in self._running:
            raise AdmissionError(f"task {demand.id} is already known to admission")
        need = Need.of(demand)
        if len(gpus) != demand.workers or any(len(w) != need.gpu_each for w in gpus):
            raise AdmissionError(
                f"task {demand.id}: restored with GPU indices {list(map(list, gpus))}, "
                f"expected {need.gpu_each} for each of {demand.workers} workers"
            )
        state = self._queues.get(demand.queue)
        if state is None:
            raise AdmissionError(f"task {demand.id}: queue {demand.queue} does not exist")
        grant = Grant(demand, tuple(tuple(w) for w in gpus), now)
        self._gpus.take_exact(grant.gpus, need.shareable)
        self._occupy(need, state, grant)
        return grant

    # -- deciding -----------------------------------------------------------------------------
    def decide(self, now: datetime) -> Decisions:
        """Start what fits, in order; give every demand whose reason changed its reason."""
        out = Decisions()
        self._reserved = None  # recomputed: the first demand, in order, the pool cannot fit
        order = []
        for state in self._queues.values():
            head = self._head(state)
            if head is not None:
                order.append((self._share(state), *head.key, state))
        heapq.heapify(order)
        while order:
            state = heapq.heappop(order)[-1]
            entry = self._head(state)
            if entry is None or entry is state.held_back:
                continue
            block = self._blocker(entry)
            if block is None:
                self._admit(entry, now, out)
            else:
                self._report(entry, block.reason, out)
                if block.kind != "park":
                    continue  # strict order within a queue: the rest waits behind its head
            head = self._head(state)
            if head is not None:
                heapq.heappush(order, (self._share(state), *head.key, state))
        self._settle_rechecks(out)
        return out

    def _blocker(self, entry: _Entry) -> _Block | None:
        """None when the demand may start now; else why not (may park it or reserve for it)."""
        state = entry.queue
        if entry.fits_epoch != state.epoch:
            block = self._never(entry)
            if block is not None:
                self._park(entry)
                return block
            entry.fits_epoch = state.epoch
        block = self._queue_block(entry)
        if block is not None:
            state.held_back = entry
            return block
        return self._pool_block(entry, self._reserved)

    def _never(self, entry: _Entry) -> _Block | None:
        need, state = entry.need, entry.queue
        wants = _values(need)
        for i in _ORDER:
            cap = state.cap[i]
            if cap is not None and wants[i] > cap:
                text = reasons.queue_never(_DIMS[i], wants[i], cap, state.queue.name)
                return _Block("park", text)
        if not self._gpus.possible(need.gpu_each, entry.demand.workers, need.shareable):
            return _Block("park", reasons.pool_never("gpu", need.gpu, self._gpus.total))
        for i in (0, 1):
            if wants[i] > self._total[i]:
                return _Block("park", reasons.pool_never(_DIMS[i], wants[i], self._total[i]))
        return None

    def _queue_block(self, entry: _Entry) -> _Block | None:
        state = entry.queue
        wants = _values(entry.need)
        for i in _ORDER:
            cap, want, used = state.cap[i], wants[i], state.used[i]
            if cap is None or want == 0 or used + want <= cap:
                continue
            text = reasons.queue_short(_DIMS[i], want, max(0, cap - used), cap, state.queue.name)
            return _Block("queue", text)
        return None

    def _pool_block(self, entry: _Entry, hold: _Entry | None) -> _Block | None:
        need, gpus = entry.need, self._gpus
        cpu, memory, gpu_free = self._free[0], self._free[1], gpus.free
        gpu = gpus.consumes(need.gpu_each, entry.demand.workers, need.shareable)
        if gpu > gpu_free:
            short, shown, free, total = "gpu", need.gpu, gpu_free, gpus.total
        elif need.cpu_m > cpu:
            short, shown, free, total = "cpu", need.cpu_m, cpu, self._total[0]
        elif need.memory > memory:
            short, shown, free, total = "memory", need.memory, memory, self._total[1]
        elif hold is None:
            return None
        else:
            held = hold.need
            held_gpu = gpus.consumes(held.gpu_each, hold.demand.workers, held.shareable)
            if (
                (gpu and gpu > gpu_free - held_gpu)
                or (need.cpu_m and need.cpu_m > cpu - held.cpu_m)
                or (need.memory and need.memory > memory - held.memory)
            ):
                return _Block("reservation", reasons.reservation(hold.demand.id))
            return None
        if self._reserved is None:
            self._reserved = entry
        mine = self._reserved is entry
        return _Block("pool", reasons.pool_short(short, shown, free, total, reserved=mine))

    def _admit(self, entry: _Entry, now: datetime, out: Decisions) -> None:
        demand, need = entry.demand, entry.need
        gpus = self._gpus.take(need.gpu_each, demand.workers, need.shareable)
        del self._waiting[demand.id]
        self._leave(entry)
        grant = Grant(demand, gpus, now)
        self._occupy(need, entry.queue, grant)
        out.started.append(grant)

    def _occupy(self, need: Need, state: _QueueState, grant: Grant) -> None:
        self._free[0] -= need.cpu_m
        self._free[1] -= need.memory
        used = state.used
        used[0] += need.cpu_m
        used[1] += need.memory
        used[2] += need.gpu
        state.running += 1
        state.held_back = None
        self._running[grant.id] = _Running(grant, need, state)

    def _park(self, entry: _Entry) -> None:
        """Take a demand that cannot fit even an empty queue or pool out of the order, so it
        blocks nothing; ``set_queue`` puts it back."""
        heap = entry.queue.heap
        if heap and heap[0][3] is entry:  # only heads are parked: take it out now
            heapq.heappop(heap)
        entry.in_heap = False
        entry.parked = True
        entry.queue.waiting -= 1
        entry.queue.parked[entry.demand.id] = entry
        if self._reserved is entry:
            self._reserved = None

    def _leave(self, entry: _Entry) -> None:
        """The demand no longer waits (admitted or withdrawn); its heap slot goes lazily."""
        if entry.in_heap:
            entry.in_heap = False
            entry.queue.waiting -= 1
        if self._reserved is entry:
            self._reserved = None
        self._reported.pop(entry.demand.id, None)

    @staticmethod
    def _head(state: _QueueState) -> _Entry | None:
        heap = state.heap
        while heap and not heap[0][3].in_heap:
            heapq.heappop(heap)
        return heap[0][3] if heap else None

    def _share(self, state: _QueueState) -> float:
        """Weighted dominant share: the largest fraction of the pool the queue uses, per
        unit of weight. The queue with the lowest goes next."""
        used, inv = state.used, self._inv_total
        return max(used[0] * inv[0], used[1] * inv[1], used[2] * inv[2]) * state.inv_weight

    def _report(self, entry: _Entry, reason: str, out: Decisions) -> None:
        demand_id = entry.demand.id
        if self._reported.get(demand_id) != reason:
            self._reported[demand_id] = reason
            out.waiting[demand_id] = reason

    def _settle_rechecks(self, out: Decisions) -> None:
        """New demands, and heads that a higher-priority arrival displaced, wait for their
        turn unless this call already gave them a reason."""
        for entry in self._recheck:
            if not entry.in_heap or entry is self._reserved or entry.demand.id in out.waiting:
                continue
            if self._head(entry.queue) is not entry:
                self._report(entry, reasons.turn(entry.queue.queue.name), out)
        self._recheck.clear()

    # -- reading ------------------------------------------------------------------------------
    def reason(self, demand_id: str) -> str | None:
        """The last reason given for a waiting demand (None: not waiting, or not decided)."""
        return self._reported.get(demand_id)

    def running(self, demand_id: str) -> Grant | None:
        run = self._running.get(demand_id)
        return run.grant if run else None

    @property
    def reserved(self) -> str | None:
        """The demand the last ``decide`` held the pool for, if any."""
        return self._reserved.demand.id if self._reserved else None

    def free(self) -> Usage:
        return Usage(self._free[0] / 1000, self._free[1], self._gpus.free)

    def queue_status(self) -> list[QueueStatus]:
        return [
            QueueStatus(
                queue=state.queue,
                used=Usage(state.used[0] / 1000, state.used[1], state.used[2]),
                running=state.running,
                waiting=state.waiting + len(state.parked),
            )
            for state in self._queues.values()
        ]


_DIMS = ("cpu", "memory", "gpu")
_ORDER = (2, 0, 1)  # reasons name the gpu first, then cpu, then memory


def _values(need: Need) -> tuple[int, int, int]:
    return (need.cpu_m, need.memory, need.gpu)
