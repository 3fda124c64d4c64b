"""Tick order and lookups where daylight saving moves ticks across each other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest

from cubestudio.schedule.timetable import Timetable


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_skipped_day_runs_once_and_ticks_stay_in_order() -> None:
    """Samoa skipped 2011-12-30: its noon is shifted a whole day forward, onto the 31st's."""
    ticks = list(
        Timetable("0 12 * * *", "Pacific/Apia").ticks_between(
            utc("2011-12-28T00:00"), utc("2012-01-01T00:00")
        )
    )
    assert ticks == [
        utc("2011-12-28T22:00"),  # 12-28 12:00 -10:00
        utc("2011-12-29T22:00"),  # 12-29 12:00 -10:00
        utc("2011-12-30T22:00"),  # 12-31 12:00 +14:00 (and the shifted 12-30 noon)
        utc("2011-12-31T22:00"),  # 2012-01-01 12:00 +14:00
    ]


def test_shifted_gap_times_are_sorted_among_real_ones() -> None:
    timetable = Timetable("10,50 2,3 * * *", "America/New_York")
    ticks = timetable.ticks_between(utc("2026-03-08T00:00"), utc("2026-03-08T12:00"))
    # 02:10 -> 03:10 EDT and 02:50 -> 03:50 EDT coincide with the real 03:10 and 03:50.
    assert list(ticks) == [utc("2026-03-08T07:10"), utc("2026-03-08T07:50")]


def test_latest_tick_looks_back_only_as_far_as_needed() -> None:
    minutely = Timetable("* * * * *", "UTC")
    now = utc("2026-06-01T12:34:56")
    assert minutely.latest_at_or_before(now, floor=utc("2016-01-01T00:00")) == utc(
        "2026-06-01T12:34"
    )
    leap = Timetable("0 0 29 2 *", "UTC")
    assert leap.latest_at_or_before(now, floor=utc("2020-01-01T00:00")) == utc("2024-02-29T00:00")
    assert leap.latest_at_or_before(now, floor=utc("2024-03-01T00:00")) is None


def test_next_after_respects_the_floor() -> None:
    hourly = Timetable("@hourly", "UTC")
    assert hourly.next_after(utc("2026-01-01T00:00")) == utc("2026-01-01T01:00")
    floor = utc("2026-02-01T00:30")
    assert hourly.next_after(utc("2026-01-01T00:00"), floor=floor) == utc("2026-02-01T01:00")


def test_a_year_of_hourly_ticks_in_new_york_is_every_real_hour() -> None:
    ticks = list(
        Timetable("@hourly", "America/New_York").ticks_between(
            utc("2026-01-01T00:00"), utc("2026-12-31T23:00")
        )
    )
    assert len(ticks) == 365 * 24
    assert all(b - a == timedelta(hours=1) for a, b in zip(ticks, ticks[1:], strict=False))


def test_a_daily_restricted_cron_runs_365_times_a_year_across_both_changes() -> None:
    ticks = list(
        islice(Timetable("30 1 * * *", "America/New_York").ticks_from(utc("2026-01-01T00:00")), 400)
    )
    in_2026 = [
        t for t in ticks if t.astimezone(Timetable("@daily", "America/New_York").zone).year == 2026
    ]
    assert len(in_2026) == 365


def test_naive_times_are_refused_where_an_instant_is_needed() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        next(Timetable("@hourly", "UTC").ticks_from(datetime(2026, 1, 1)))
