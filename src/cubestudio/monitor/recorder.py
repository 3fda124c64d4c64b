"""The engine's side of monitoring: the local driver hands it its running attempts about once
a second (from its own poll, so no thread per task); it samples them, keeps each attempt's
series and peaks in memory and writes them in batches.

Writes: one transaction every ``FLUSH_SECONDS`` for every attempt sampled since the last,
and one when an attempt ends while no other is being sampled (else the next batch, a second
later, carries it). A database that does not answer loses nothing but time: the batch is
kept (up to ``MAX_PENDING_POINTS`` points an attempt) and written when it comes back.
Nothing here ever raises into the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from cubestudio.engine.launcher import AttemptKey
from cubestudio.engine.service import json_log
from cubestudio.monitor.sampler import Sample, TreeSampler
from cubestudio.monitor.series import AttemptSeries
from cubestudio.store import metrics as store
from cubestudio.store.db import Database

FLUSH_SECONDS = 2.0
MAX_PENDING_POINTS = 600
_JITTER = 0.1  # a round a little early (the loop's own timing) still samples


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


class MetricsRecorder:
    def __init__(
        self,
        open_db: Callable[[], Database],
        *,
        interval: float = 1.0,
        flush_seconds: float = FLUSH_SECONDS,
        sampler: TreeSampler | None = None,
        clock: Callable[[], float] = time.time,
        log: Callable[..., None] = json_log,  # (event, **fields): the engine's JSON lines
    ) -> None:
        self._open_db = open_db
        self._db: Database | None = None
        self.interval = interval
        self.flush_seconds = flush_seconds
        self.sampler = sampler if sampler is not None else TreeSampler()
        self.clock = clock
        self.log = log
        self.series: dict[AttemptKey, AttemptSeries] = {}
        self._stored: set[AttemptKey] = set()  # has a row in attempt_metrics
        self._dirty: set[AttemptKey] = set()
        self._ended: set[AttemptKey] = set()
        self._next_sample = 0.0
        self._next_flush = 0.0
        self._flush_soon = False
        self._failing = False

    # -- what the driver calls --------------------------------------------------------------
    def sample(self, roots: Mapping[AttemptKey, int]) -> None:
        """Sample the running attempts (``roots``: the pid of each one's wrapper) when a round
        is due, and write when a batch is."""
        now = self.clock()
        if now >= self._next_sample - _JITTER:
            self._next_sample = now + self.interval
            for key, sample in self.sampler.sample(roots, now).items():
                self._add(key, sample)
        if self._flush_soon or now >= self._next_flush:
            self.flush()

    def finish(self, key: AttemptKey) -> None:
        """The attempt ended: its last point is made, its row marked ended, and written now
        when no other attempt is being sampled (nothing else would bring a batch soon)."""
        self.sampler.forget(key)
        series = self.series.get(key)
        if series is None:
            return
        series.close()
        self._ended.add(key)
        self._dirty.add(key)
        self._flush_soon = True
        if len(self._ended) == len(self.series):
            self.flush()

    def forget(self, run_id: str) -> None:
        """The engine let the run go: write what it has, then stop following its attempts."""
        keys = [key for key in self.series if key.run_id == run_id]
        if any(key in self._dirty for key in keys):
            self.flush()
        for key in keys:
            self._drop(key)

    def close(self) -> None:
        self.flush()
        self.sampler.close()
        if self._db is not None:
            self._db.dispose()
            self._db = None

    # -- keeping and writing ----------------------------------------------------------------
    def _add(self, key: AttemptKey, sample: Sample) -> None:
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = AttemptSeries(started=sample.at)
        series.add(sample)
        if len(series.pending) > MAX_PENDING_POINTS:  # the database is away: keep the newest
            del series.pending[: len(series.pending) - MAX_PENDING_POINTS]
        self._dirty.add(key)

    def flush(self) -> None:
        """Write every attempt sampled since the last batch, in one transaction."""
        now = self.clock()
        self._next_flush = now + self.flush_seconds
        self._flush_soon = False
        if not self._dirty:
            return
        try:
            if self._db is None:
                self._db = self._open_db()
            with self._db.begin() as conn:
                self._write(conn)
        except Exception as err:  # an outage, a lost connection: try again later
            if not self._failing:
                first = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
                self.log("metrics_not_written", error=first, retry_in_s=self.flush_seconds)
            self._failing = True
            return
        self._failing = False
        written, self._dirty = self._dirty, set()
        for key in written:
            self._stored.add(key)
            self.series[key].take_pending()
            if key in self._ended:
                self._drop(key)

    def _write(self, conn: Any) -> None:
        fresh = [key for key in self._dirty if key not in self._stored]
        for found, stored in store.stored_peaks(conn, keys=fresh).items():
            key = AttemptKey(*found)
            self._carry_on(self.series[key], stored)
            self._stored.add(key)  # adopted: its row exists (rolled back or not), is updated
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        points: list[dict[str, Any]] = []
        for key in self._dirty:
            series = self.series[key]
            row = self._row(key, series)
            (changed if key in self._stored else new).append(row)
            points.extend(_point(key, point) for point in series.pending)
        store.save(conn, new=new, changed=changed, points=points)

    @staticmethod
    def _carry_on(series: AttemptSeries, row: Any) -> None:
        """Merge the peaks an earlier engine stored for this attempt."""
        peaks = series.peaks
        peaks.samples += int(row["samples"])
        peaks.cpu_sum += float(row["cpu_avg"]) * int(row["samples"])
        peaks.cpu = max(peaks.cpu, float(row["cpu_max"]))
        peaks.rss = max(peaks.rss, int(row["rss_max"]))
        if row["gpu_mem_max"] is not None:
            peaks.gpu_mem = max(peaks.gpu_mem or 0, int(row["gpu_mem_max"]))
        if row["gpu_util_max"] is not None:
            peaks.gpu_util = max(peaks.gpu_util or 0.0, float(row["gpu_util_max"]))
        series.started = min(series.started, row["first_at"].timestamp())

    def _row(self, key: AttemptKey, series: AttemptSeries) -> dict[str, Any]:
        latest, peaks = series.latest, series.peaks
        assert latest is not None  # a series exists from its first sample on
        return {
            "run_id": key.run_id,
            "task_name": key.task,
            "attempt": key.number,
            "first_at": _utc(series.started),
            "sampled_at": _utc(latest.at),
            "samples": peaks.samples,
            "cpu": latest.cpu,
            "rss": latest.rss,
            "gpu_util": latest.gpu_util,
            "gpu_mem": latest.gpu_mem,
            "cpu_avg": peaks.cpu_avg,
            "cpu_max": peaks.cpu,
            "rss_max": peaks.rss,
            "gpu_util_max": peaks.gpu_util,
            "gpu_mem_max": peaks.gpu_mem,
            "ended": key in self._ended,
        }

    def _drop(self, key: AttemptKey) -> None:
        self.series.pop(key, None)
        self._stored.discard(key)
        self._dirty.discard(key)
        self._ended.discard(key)
        self.sampler.forget(key)


def _point(key: AttemptKey, point: Sample) -> dict[str, Any]:
    return {
        "run_id": key.run_id,
        "task_name": key.task,
        "attempt": key.number,
        "at": _utc(point.at),
        "cpu": point.cpu,
        "rss": point.rss,
        "gpu_util": point.gpu_util,
        "gpu_mem": point.gpu_mem,
    }


def open_recorder(settings: Any) -> MetricsRecorder | None:
    """The recorder of a process that drives runs; None when CUBE_MONITOR_INTERVAL is 0."""
    if settings.monitor_interval <= 0:
        return None

    def open_db() -> Database:
        db = Database(settings.resolved_database_url())
        db.ensure_schema()
        return db

    return MetricsRecorder(open_db, interval=settings.monitor_interval)
