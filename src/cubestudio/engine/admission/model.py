"""The plain models of admission: what a task asks for, the queues it waits in, and what
``Admission.decide`` answers. No I/O; every driver (local, Kubernetes) reads the same ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cubestudio.errors import CubeError


class AdmissionError(CubeError):
    """A demand or a queue that admission cannot take, with the field and the fix."""


@dataclass(frozen=True, slots=True)
class Resources:
    """What one worker asks for: cores, bytes of memory and whole GPUs. ``gpu_shareable``
    (the template says so) lets the worker share its GPU indices with other shareable ones."""

    cpu: float = 0.0
    memory: int = 0
    gpu: int = 0
    gpu_shareable: bool = False

    def __post_init__(self) -> None:
        if self.cpu < 0 or self.memory < 0 or self.gpu < 0:
            raise AdmissionError(
                f"resources: cpu, memory and gpu must not be negative, got cpu={self.cpu} "
                f"memory={self.memory} gpu={self.gpu}"
            )


@dataclass(frozen=True, slots=True)
class Pool:
    """What admission hands out: cores, bytes of memory and GPU indices (see machine.py for
    this machine's, overridable with CUBE_POOL_CPU / CUBE_POOL_MEMORY / CUBE_POOL_GPU)."""

    cpu: float
    memory: int
    gpus: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.cpu < 0 or self.memory < 0 or any(index < 0 for index in self.gpus):
            raise AdmissionError(
                f"pool: cpu, memory and gpu indices must not be negative, got cpu={self.cpu} "
                f"memory={self.memory} gpus={list(self.gpus)}"
            )


@dataclass(frozen=True, slots=True)
class Queue:
    """A project's queue: its capability (None: unlimited) and its weight in fair share."""

    name: str
    project: str | None = None
    cpu: float | None = None
    memory: int | None = None
    gpu: int | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.weight > 0:
            raise AdmissionError(
                f"queue {self.name}: weight must be more than 0, got {self.weight} "
                "(use e.g. --weight 1)"
            )
        for name, value in (("cpu", self.cpu), ("memory", self.memory), ("gpu", self.gpu)):
            if value is not None and value < 0:
                raise AdmissionError(
                    f"queue {self.name}: {name} must not be negative, got {value} "
                    "(leave it out for no limit)"
                )


@dataclass(frozen=True, slots=True)
class Demand:
    """A task waiting to start: ``workers`` workers of ``resources`` each, admitted whole
    (a gang) or not at all. Higher ``priority`` first within its queue, then FIFO by
    ``submitted_at``."""

    id: str
    queue: str
    submitted_at: datetime
    resources: Resources = field(default_factory=Resources)
    workers: int = 1
    priority: int = 0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise AdmissionError(f"task {self.id}: workers must be at least 1, got {self.workers}")


@dataclass(frozen=True, slots=True)
class Grant:
    """A demand admitted: the GPU indices of each worker (empty tuples without GPUs)."""

    demand: Demand
    gpus: tuple[tuple[int, ...], ...]
    started_at: datetime | None = None

    @property
    def id(self) -> str:
        return self.demand.id

    def cuda_visible_devices(self, worker: int = 0) -> str:
        """The value of CUDA_VISIBLE_DEVICES for worker ``worker`` ("" when it has none)."""
        return ",".join(str(index) for index in self.gpus[worker])


@dataclass(slots=True)
class Decisions:
    """What one ``decide`` call answers: the demands to start now, and the waiting reasons
    that are new or changed since the previous call (demand id -> sentence)."""

    started: list[Grant] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.started) + len(self.waiting)


@dataclass(frozen=True, slots=True)
class Usage:
    cpu: float = 0.0
    memory: int = 0
    gpu: int = 0


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """One line of ``cube queue list``."""

    queue: Queue
    used: Usage
    running: int
    waiting: int


@dataclass(frozen=True, slots=True)
class Need:
    """A demand's total, in exact units: millicores, bytes, GPU indices; ``gpu_each`` is one
    worker's count (shareable workers all take the same number of indices)."""

    cpu_m: int
    memory: int
    gpu: int
    gpu_each: int
    shareable: bool

    @staticmethod
    def of(demand: Demand) -> Need:
        res, n = demand.resources, demand.workers
        return Need(
            round(res.cpu * 1000) * n, res.memory * n, res.gpu * n, res.gpu, res.gpu_shareable
        )
