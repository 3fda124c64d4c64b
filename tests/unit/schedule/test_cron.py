"""Cron parsing and day matching: the same ticks as croniter where croniter is right, and a
clear refusal of what the scheduler cannot plan exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
from croniter import croniter

from cubestudio.schedule.timetable import Timetable
from cubestudio.spec.cron import parse_cron

START = datetime(2026, 1, 1, tzinfo=UTC)

# Every form the scheduler accepts; in zones without daylight saving its ticks must be
# exactly croniter's (what Airflow uses), day-of-month/day-of-week "either" rule included.
SAME_AS_CRONITER = [
    "*/7 * * * *",
    "0 9 * * 1-5",
    "30 4 1,15 * *",
    "0 0 1 * 1",
    "0 0 */2 * 1",
    "0 0 1-31 * 1",
    "0 0 13 * 5",
    "0 0 L * *",
    "0 0 1,L * *",
    "0 0 L * 1",
    "0 0 * * 5#2",
    "0 0 * * L5",
    "0 0 * * 1#1,1#3",
    "15 10 * jan,jul sun",
    "5 4 * * 0,7",
    "0 0 29 2 *",
    "@weekly",
    "@monthly",
    "@yearly",
    "@midnight",
]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
@pytest.mark.parametrize("expression", SAME_AS_CRONITER)
def test_same_ticks_as_croniter_without_dst(expression: str, zone: str) -> None:
    start = START.astimezone(Timetable(expression, zone).zone)
    reference = croniter(expression, start - timedelta(microseconds=1))
    expected = [reference.get_next(datetime).astimezone(UTC) for _ in range(120)]
    assert list(islice(Timetable(expression, zone).ticks_from(START), 120)) == expected


def test_either_day_field_matches_when_both_are_restricted() -> None:
    cron = parse_cron("0 0 13 * 5")  # the 13th, or any Friday
    assert cron.matches_day(datetime(2026, 1, 13).date())  # a Tuesday
    assert cron.matches_day(datetime(2026, 1, 9).date())  # a Friday
    assert not cron.matches_day(datetime(2026, 1, 14).date())


def test_nth_weekday_with_a_day_of_month_is_either_too() -> None:
    """croniter gives up on "the 1st or the second Friday"; cron's either-rule is kept."""
    days = [
        t.day for t in Timetable("0 0 1 * 5#2", "UTC").ticks_between(START, START.replace(day=31))
    ]
    assert days == [1, 9]


def test_every_hour_means_all_24_hours_however_written() -> None:
    every = [
        "0 * * * *",
        "0 */1 * * *",
        "0 0-23 * * *",
        "0 " + ",".join(map(str, range(24))) + " * * *",
    ]
    assert all(parse_cron(text).every_hour for text in every)
    assert not parse_cron("0 0-22 * * *").every_hour


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("R * * * *", "'R * * * *': R (a random value) would move on every restart"),
        ("0 0 1W * *", "'0 0 1W * *': W (nearest weekday) is not supported"),
        ("0 0 30 2 *", "'0 0 30 2 *' never fires: no month it names has the day"),
        ("0 0 31 4,6,9,11 *", "never fires"),
        ("0 0 * * * *", "is not a cron expression: use 5 fields"),
        ("@reboot", "is not a cron expression"),
    ],
)
def test_refused(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_cron(expression)
    assert message in str(info.value)


def test_month_and_day_names_are_not_mistaken_for_unsupported_letters() -> None:
    cron = parse_cron("0 0 * mar,apr thu-fri")
    assert cron.months == {3, 4} and cron.weekdays == {4, 5}
