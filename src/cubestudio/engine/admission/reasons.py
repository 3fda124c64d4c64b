"""The sentences a waiting task shows in `cube runs`, `cube show` and the API.

Every one starts with ``queued:`` and names the first resource that is short, in the order
gpu, cpu, memory, e.g. ``queued: needs 4 gpu, queue team-a has 0 of 4 free``.
"""

from __future__ import annotations

_UNITS = (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))
_POOL_SETTING = {"cpu": "CUBE_POOL_CPU", "memory": "CUBE_POOL_MEMORY", "gpu": "CUBE_POOL_GPU"}


def amount(dim: str, value: int) -> str:
    """A quantity in the units users write: cores from millicores, Gi/Mi from bytes."""
    if dim == "cpu":
        return _decimal(value / 1000)
    if dim == "memory":
        for suffix, size in _UNITS:
            if value >= size:
                return _decimal(value / size) + suffix
        return f"{value}B"
    return str(value)


def _decimal(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def queue_short(dim: str, need: int, free: int, cap: int, queue: str) -> str:
    return (
        f"queued: needs {amount(dim, need)} {dim}, queue {queue} has "
        f"{amount(dim, free)} of {amount(dim, cap)} free"
    )


def pool_short(dim: str, need: int, free: int, total: int, *, reserved: bool) -> str:
    text = (
        f"queued: needs {amount(dim, need)} {dim}, the pool has "
        f"{amount(dim, free)} of {amount(dim, total)} {dim} free"
    )
    return text + "; reserved for it as they free up" if reserved else text


def queue_never(dim: str, need: int, cap: int, queue: str) -> str:
    return (
        f"queued: needs {amount(dim, need)} {dim}, more than queue {queue}'s capability of "
        f"{amount(dim, cap)}; raise it with: cube queue set {queue} --{dim} {amount(dim, need)}"
    )


def pool_never(dim: str, need: int, total: int) -> str:
    return (
        f"queued: needs {amount(dim, need)} {dim}, more than the pool's {amount(dim, total)} "
        f"{dim}; lower the task's resources or raise {_POOL_SETTING[dim]}"
    )


def reservation(demand_id: str) -> str:
    return f"queued: waiting behind a reservation for {demand_id}"


def turn(queue: str) -> str:
    return f"queued: waiting for its turn in queue {queue}"
