"""An attempt's samples, downsampled into the points that are stored, and its exact peaks.

A point stands for the samples since the previous point: their mean CPU and GPU
utilisation, their largest RSS and GPU memory (a short spike still shows in the chart and in
the peaks). Points are one per second for the first minute of an attempt, one per 10 s up to
10 minutes, one per minute up to 6 hours, then one per 5 minutes; past ``MAX_POINTS`` the
spacing doubles every ``DOUBLE_EVERY`` points, so a week-long attempt keeps about 2,100
points and the count grows only with the logarithm of the duration after that. Peaks count
every raw sample, whatever was stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from cubestudio.monitor.sampler import Sample

TIERS = ((60.0, 1.0), (600.0, 10.0), (6 * 3600.0, 60.0))  # (attempt age below, spacing)
LATE_SPACING = 300.0
MAX_POINTS = 2000
N = TypeVar("N", int, float)
DOUBLE_EVERY = 100


def spacing(age: float, points: int) -> float:
    """Seconds between stored points for an attempt ``age`` seconds old with ``points``."""
    if points >= MAX_POINTS:
        return LATE_SPACING * float(2 ** ((points - MAX_POINTS) // DOUBLE_EVERY + 1))
    for below, step in TIERS:
        if age < below:
            return step
    return LATE_SPACING


@dataclass
class Peaks:
    cpu: float = 0.0
    rss: int = 0
    gpu_util: float | None = None
    gpu_mem: int | None = None
    samples: int = 0
    cpu_sum: float = 0.0  # for the mean CPU

    def add(self, sample: Sample) -> None:
        self.samples += 1
        self.cpu_sum += sample.cpu
        self.cpu = max(self.cpu, sample.cpu)
        self.rss = max(self.rss, sample.rss)
        self.gpu_util = _max(self.gpu_util, sample.gpu_util)
        self.gpu_mem = _max(self.gpu_mem, sample.gpu_mem)

    @property
    def cpu_avg(self) -> float:
        return round(self.cpu_sum / self.samples, 2) if self.samples else 0.0


@dataclass
class _Bucket:
    """The samples since the last point."""

    count: int = 0
    cpu_sum: float = 0.0
    rss: int = 0
    gpu_util_sum: float | None = None
    gpu_mem: int | None = None

    def add(self, sample: Sample) -> None:
        self.count += 1
        self.cpu_sum += sample.cpu
        self.rss = max(self.rss, sample.rss)
        if sample.gpu_util is not None:
            self.gpu_util_sum = (self.gpu_util_sum or 0.0) + sample.gpu_util
        self.gpu_mem = _max(self.gpu_mem, sample.gpu_mem)

    def point(self, at: float) -> Sample:
        util = None if self.gpu_util_sum is None else round(self.gpu_util_sum / self.count, 1)
        cpu = round(self.cpu_sum / self.count, 2)
        return Sample(at, cpu, self.rss, 0, util, self.gpu_mem)


@dataclass
class AttemptSeries:
    """One attempt's peaks and its points not stored yet."""

    started: float  # unix time of its first sample
    points: int = 0  # points made so far (stored or pending)
    peaks: Peaks = field(default_factory=Peaks)
    latest: Sample | None = None
    pending: list[Sample] = field(default_factory=list)  # points to store
    _bucket: _Bucket = field(default_factory=_Bucket)
    _last_point: float | None = None

    def add(self, sample: Sample) -> None:
        self.peaks.add(sample)
        self.latest = sample
        self._bucket.add(sample)
        due = (
            self._last_point is None
            or sample.at - self._last_point >= spacing(sample.at - self.started, self.points) - 0.05
        )  # a sample a hair early (the loop's jitter) still makes the point
        if due:
            self._emit(sample.at)

    def close(self) -> None:
        """The attempt ended: its last samples become a point too."""
        if self._bucket.count and self.latest is not None:
            self._emit(self.latest.at)

    def _emit(self, at: float) -> None:
        self.pending.append(self._bucket.point(at))
        self._bucket = _Bucket()
        self._last_point = at
        self.points += 1

    def take_pending(self) -> list[Sample]:
        pending, self.pending = self.pending, []
        return pending


def _max(a: N | None, b: N | None) -> N | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
