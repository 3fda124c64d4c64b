"""Per-worker resource use of a distributed attempt, sampled by its gang supervisor.

The engine samples a whole attempt (its wrapper's process tree, monitor/): for a gang, that
is every member summed. The supervisor also samples each member's own tree about once a
second (CUBE_MONITOR_INTERVAL; 0: off) with the same sampler and downsampling as the engine
(monitor/series.py), and keeps per member, in ``<attempt>/workers/<name>/``: ``usage`` (one
JSON object, replaced whole: the latest figures and the exact peaks) and ``series`` (the
downsampled points, one JSON array per line: at, cpu, rss, gpu_util, gpu_mem), which the
workers API, the run view and `cube top` show.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from cubestudio.monitor.sampler import Sample, TreeSampler
from cubestudio.monitor.series import AttemptSeries

SERIES_COLUMNS = ("at", "cpu", "rss", "gpu_util", "gpu_mem")


@dataclass
class MemberUsage:
    interval: float
    sampler: TreeSampler = field(default_factory=TreeSampler)
    _series: dict[str, AttemptSeries] = field(default_factory=dict)
    _folders: dict[str, str] = field(default_factory=dict)
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
            series = self._series.setdefault(name, AttemptSeries(started=sample.at))
            self._folders[name] = members[name][1]
            series.add(sample)
            self._write(name, series)

    def close(self) -> None:
        """The gang ended: every member's last samples become a point too."""
        for name, series in self._series.items():
            series.close()
            self._write(name, series)
        self.sampler.close()

    def _write(self, name: str, series: AttemptSeries) -> None:
        folder, latest, peaks = self._folders[name], series.latest, series.peaks
        assert latest is not None
        points = series.take_pending()
        if points:
            with open(os.path.join(folder, "series"), "a", encoding="utf-8") as out:
                out.writelines(json.dumps(_point(p)) + "\n" for p in points)
        usage = {
            "at": latest.at,
            "cpu": latest.cpu,
            "rss": latest.rss,
            "gpu_util": latest.gpu_util,
            "gpu_mem": latest.gpu_mem,
            "samples": peaks.samples,
            "cpu_avg": peaks.cpu_avg,
            "cpu_max": peaks.cpu,
            "rss_max": peaks.rss,
            "gpu_util_max": peaks.gpu_util,
            "gpu_mem_max": peaks.gpu_mem,
        }
        _write_json(os.path.join(folder, "usage"), usage)


def _point(sample: Sample) -> list[Any]:
    return [sample.at, sample.cpu, sample.rss, sample.gpu_util, sample.gpu_mem]


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


def read_series(folder: str) -> dict[str, list[Any]]:
    """The member's points as columns (as the metrics API gives an attempt's series)."""
    columns: dict[str, list[Any]] = {name: [] for name in SERIES_COLUMNS}
    try:
        with open(os.path.join(folder, "series"), encoding="utf-8") as file:
            for line in file:
                try:
                    point = json.loads(line)
                except ValueError:
                    continue  # a line being written
                for name, value in zip(SERIES_COLUMNS, point, strict=False):
                    columns[name].append(value)
    except OSError:
        pass
    return columns
