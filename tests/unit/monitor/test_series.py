"""Downsampling of an attempt's samples into stored points, and its exact peaks."""

from __future__ import annotations

from cubestudio.monitor.sampler import Sample
from cubestudio.monitor.series import (
    LATE_SPACING,
    MAX_POINTS,
    AttemptSeries,
    spacing,
)


def _sample(
    at: float,
    cpu: float = 10.0,
    rss: int = 100,
    gpu_util: float | None = None,
    gpu_mem: int | None = None,
) -> Sample:
    return Sample(at, cpu, rss, 1, gpu_util, gpu_mem)


def test_spacing_grows_with_age_then_doubles_past_the_point_budget() -> None:
    assert spacing(0, 0) == 1.0
    assert spacing(59.9, 59) == 1.0
    assert spacing(60, 60) == 10.0
    assert spacing(599, 100) == 10.0
    assert spacing(600, 114) == 60.0
    assert spacing(6 * 3600, 500) == LATE_SPACING
    assert spacing(10**7, MAX_POINTS) == 2 * LATE_SPACING
    assert spacing(10**7, MAX_POINTS + 100) == 4 * LATE_SPACING


def _run(seconds: int) -> AttemptSeries:
    series = AttemptSeries(started=1000.0)
    for second in range(seconds):
        series.add(_sample(1000.0 + second, cpu=float(second % 7), rss=second))
    series.close()
    return series


def test_points_are_one_a_second_for_a_minute_then_coarser_and_bounded() -> None:
    minute = _run(60)
    assert minute.points == 60
    two_hours = _run(7200)
    # 60 in the first minute, 54 up to 10 minutes, then one a minute (+ the last bucket)
    assert 60 + 54 + 110 <= two_hours.points <= 60 + 54 + 110 + 2
    times = [p.at for p in two_hours.pending]
    assert times == sorted(times)
    assert times[60] - times[59] == 10.0
    assert times[-2] - times[-3] == 60.0
    week = AttemptSeries(started=0.0)
    for second in range(0, 7 * 86400, 5):  # a sample every 5 s for a week
        week.add(_sample(float(second)))
    assert week.points < MAX_POINTS + 300


def test_a_point_is_the_mean_cpu_and_the_largest_memory_of_its_samples() -> None:
    series = AttemptSeries(started=0.0)
    for second in range(70):
        series.add(_sample(float(second), cpu=1.0, rss=100))
    series.add(_sample(70.0, cpu=50.0, rss=900, gpu_util=30.0, gpu_mem=5))  # inside a 10 s bucket
    series.add(_sample(71.0, cpu=10.0, rss=100, gpu_util=10.0, gpu_mem=2))
    series.close()
    last = series.pending[-1]
    assert last.at == 71.0
    assert last.rss == 900 and last.gpu_mem == 5
    assert last.cpu == 30.0 and last.gpu_util == 20.0


def test_peaks_count_every_sample_whatever_was_stored() -> None:
    series = AttemptSeries(started=0.0)
    for second in range(600):
        spike = second == 333  # not on a stored point's boundary
        series.add(_sample(float(second), cpu=400.0 if spike else 5.0, rss=7 if spike else 1))
    assert series.peaks.cpu == 400.0 and series.peaks.rss == 7
    assert series.peaks.samples == 600
    assert series.peaks.gpu_mem is None and series.peaks.gpu_util is None
    assert series.peaks.cpu_avg == round((599 * 5.0 + 400.0) / 600, 2)


def test_take_pending_hands_points_over_once() -> None:
    series = _run(5)
    assert len(series.take_pending()) == 5
    assert series.take_pending() == []
