"""Per-worker resource use of a distributed attempt, sampled by its gang supervisor.

The engine samples a whole attempt (its wrapper's process tree, monitor/): for a gang, that
is every member summed. The supervisor also samples each member's own tree about once a
second (CUBE_MONITOR_INTERVAL; 0: off) with the same sampler and keeps, per member, the
latest figures and the peaks in ``<attempt>/workers/<name>/usage`` (one JSON object,
replaced whole), which the workers API and the run view show.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from cubestudio.monitor.sampler import TreeSampler


@dataclass
class _Peaks:
    samples: int = 0
    cpu_max: float = 0.0
    rss_max: int = 0
    gpu_mem_max: int | None = None


@dataclass
class MemberUsage:
    interval: float
    sampler: TreeSampler = field(default_factory=TreeSampler)
    _peaks: dict[str, _Peaks] = field(default_factory=dict)
    _next: float = 0.0

    @staticmethod
    def from_env() -> MemberUsage | None:
        try:
            interval = float(os.environ.get("CUBE_MONITOR_INTERVAL", "1") or 1)
        except ValueError:
            interval = 1.0
        return MemberUsage(interval) if interval > 0 else None

    def seconds_left(self) -> float:
        return max(0.0, self._next - time.monotonic())

    def sample(self, members: dict[str, tuple[int, str]]) -> None:
        """``members``: name -> (the pid of its sh, its folder), those still running."""
        self._next = time.monotonic() + self.interval
        taken = self.sampler.sample({name: pid for name, (pid, _) in members.items()}, time.time())
        for name, sample in taken.items():
            peaks = self._peaks.setdefault(name, _Peaks())
            peaks.samples += 1
            peaks.cpu_max = max(peaks.cpu_max, sample.cpu)
            peaks.rss_max = max(peaks.rss_max, sample.rss)
            if sample.gpu_mem is not None:
                peaks.gpu_mem_max = max(peaks.gpu_mem_max or 0, sample.gpu_mem)
            usage = {
                "at": sample.at,
                "cpu": sample.cpu,
                "rss": sample.rss,
                "gpu_util": sample.gpu_util,
                "gpu_mem": sample.gpu_mem,
                **vars(peaks),
            }
            _write_json(os.path.join(members[name][1], "usage"), usage)

    def close(self) -> None:
        self.sampler.close()


def _write_json(path: str, data: dict[str, Any]) -> None:
    """Replace the file whole (a reader never sees half of it)."""
    temp = f"{path}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out)
    os.replace(temp, path)


def read_usage(folder: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(folder, "usage"), encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
