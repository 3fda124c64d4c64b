"""GPU indices of the pool, handed out for CUDA_VISIBLE_DEVICES.

An index is free, held by one non-shareable worker (exclusive), or held by any number of
shareable workers. A non-shareable worker takes only free indices, lowest first; a shareable
one takes the least-loaded indices already shared, then free ones, so shareable work packs
onto as few GPUs as it can and leaves whole ones for exclusive work.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence


class GpuIndices:
    def __init__(self, indices: Iterable[int]) -> None:
        self.all = tuple(sorted(set(indices)))
        self._free = list(self.all)  # a heap
        self._shared: dict[int, int] = {}  # index -> shareable holders
        self._exclusive: dict[int, int] = {}  # index -> non-shareable holders (1, or more
        # only when ``take_exact`` restored a state that already broke the rule)

    @property
    def total(self) -> int:
        return len(self.all)

    @property
    def free(self) -> int:
        return len(self._free)

    def consumes(self, each: int, workers: int, shareable: bool) -> int:
        """How many free indices a demand would take (0 when it needs no GPU)."""
        if each == 0:
            return 0
        if shareable:
            return max(0, each - len(self._shared))
        return each * workers

    def possible(self, each: int, workers: int, shareable: bool) -> bool:
        """Whether the demand could fit in the whole pool, everything else released."""
        return (each if shareable else each * workers) <= self.total

    def take(self, each: int, workers: int, shareable: bool) -> tuple[tuple[int, ...], ...]:
        """Indices per worker; the caller checked ``consumes(...) <= free`` first."""
        if each == 0:
            return ((),) * workers
        if not shareable:
            taken = tuple(
                tuple(sorted(heapq.heappop(self._free) for _ in range(each)))
                for _ in range(workers)
            )
            for worker in taken:
                for index in worker:
                    self._exclusive[index] = 1
            return taken
        out = []
        for _ in range(workers):
            picked = sorted(self._shared, key=lambda i: (self._shared[i], i))[:each]
            while len(picked) < each:
                picked.append(heapq.heappop(self._free))
            for index in picked:
                self._shared[index] = self._shared.get(index, 0) + 1
            out.append(tuple(sorted(picked)))
        return tuple(out)

    def take_exact(self, gpus: Sequence[Sequence[int]], shareable: bool) -> None:
        """Mark indices held by a task that already runs (adopted after a restart)."""
        holders = self._shared if shareable else self._exclusive
        for worker in gpus:
            for index in worker:
                if index in self._free:
                    self._free.remove(index)
                    heapq.heapify(self._free)
                holders[index] = holders.get(index, 0) + 1

    def give_back(self, gpus: Sequence[Sequence[int]], shareable: bool) -> None:
        holders = self._shared if shareable else self._exclusive
        for worker in gpus:
            for index in worker:
                held = holders.get(index)
                if held is None:  # released twice: nothing to give back
                    continue
                left = held - 1
                if left > 0:
                    holders[index] = left
                    continue
                holders.pop(index, None)
                if index not in self._shared and index not in self._exclusive:
                    if index in self.all:
                        heapq.heappush(self._free, index)
