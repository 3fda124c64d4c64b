"""Cron expressions as sets of values, matched against local dates and wall-clock times.

croniter parses the text (names, ranges, steps, ``L``, ``#``); this module turns its expansion
into sets and answers the two questions the timetable asks: does this day match, and which
times of a day match. It knows nothing of time zones.

Day of month and day of week follow cron (and croniter, so Airflow): when both fields are
restricted a day matching either one matches; when one is ``*`` only the other counts.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from croniter import croniter

SYNTAX_HINT = (
    "use 5 fields (minute hour day month weekday) or @hourly, @daily, @weekly, @monthly, @yearly"
)
LAST = -1  # "L": the last day of the month, or the last such weekday of the month

_NAMES = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat")
_UNSUPPORTED = {
    "r": "R (a random value) would move on every restart and double or drop runs",
    "h": "H (a hashed value) is not supported",
    "w": "W (nearest weekday) is not supported",
}
_MAX_DAYS = {m: 29 if m == 2 else calendar.monthrange(2001, m)[1] for m in range(1, 13)}


@dataclass(frozen=True, slots=True)
class CronExpression:
    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]  # days of the month, 1-31
    last_day: bool  # "L" in the day-of-month field
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday ... 6 = Saturday, as cron counts
    nth_weekdays: Mapping[int, frozenset[int]]  # weekday -> {1..5, LAST}: "5#2", "L5"
    days_restricted: bool
    weekdays_restricted: bool

    @property
    def every_hour(self) -> bool:
        """An hour field covering all 24 hours (``*``, ``*/1``, ``0-23``): the schedule then
        follows real time across daylight-saving changes."""
        return len(self.hours) == 24

    def times_of_day(self) -> list[tuple[int, int]]:
        """(hour, minute) pairs, earliest first."""
        return [(h, m) for h in self.hours for m in self.minutes]

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        if self.days_restricted and self.weekdays_restricted:
            return self._day_of_month_matches(day) or self._weekday_matches(day)
        return self._day_of_month_matches(day) and self._weekday_matches(day)

    def _day_of_month_matches(self, day: date) -> bool:
        if not self.days_restricted or day.day in self.days:
            return True
        return self.last_day and day.day == calendar.monthrange(day.year, day.month)[1]

    def _weekday_matches(self, day: date) -> bool:
        weekday = (day.weekday() + 1) % 7
        if weekday not in self.weekdays:
            return False
        wanted = self.nth_weekdays.get(weekday)
        if wanted is None:
            return True
        nth = (day.day - 1) // 7 + 1
        is_last = day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        return nth in wanted or (is_last and LAST in wanted)


def parse_cron(text: str) -> CronExpression:
    """Parse a 5-field cron or an @alias; a ValueError says what is wrong and how to fix it."""
    expression = text.strip()
    if not expression.startswith("@") and len(expression.split()) != 5:
        raise ValueError(f"{text!r} is not a cron expression: {SYNTAX_HINT}")
    _refuse_unsupported(text, expression)
    try:
        fields, nth = croniter.expand(expression)
    except Exception:  # croniter raises several unrelated types for bad text
        raise ValueError(f"{text!r} is not a cron expression: {SYNTAX_HINT}") from None
    minutes, hours, days, months, weekdays = fields
    cron = CronExpression(
        text=expression,
        minutes=tuple(sorted(_values(minutes, range(60)))),
        hours=tuple(sorted(_values(hours, range(24)))),
        days=frozenset(_values([d for d in days if d != "l"], range(1, 32))),
        last_day="l" in days,
        months=frozenset(_values(months, range(1, 13))),
        weekdays=frozenset(v % 7 for v in _values(weekdays, range(7))),
        nth_weekdays={
            day % 7: frozenset(LAST if n == "l" else int(n) for n in wanted)
            for day, wanted in nth.items()
        },
        days_restricted=days[0] != "*",
        weekdays_restricted=weekdays[0] != "*",
    )
    _check_can_fire(text, cron)
    return cron


def _values(field: Sequence[object], full: range) -> set[int]:
    if "*" in field:
        return set(full)
    return {int(str(v)) for v in field}


def _refuse_unsupported(text: str, expression: str) -> None:
    if expression.startswith("@"):
        return
    letters = sorted(set(_NAMES.sub("", expression.lower())) & set(_UNSUPPORTED))
    if letters:
        raise ValueError(f"{text!r}: {_UNSUPPORTED[letters[0]]}; write the values out")


def _check_can_fire(text: str, cron: CronExpression) -> None:
    """``0 0 30 2 *`` is valid syntax but never fires: say so now rather than plan forever."""
    if not cron.days_restricted or cron.weekdays_restricted or cron.last_day:
        return
    if any(day <= _MAX_DAYS[month] for month in cron.months for day in cron.days):
        return
    raise ValueError(f"{text!r} never fires: no month it names has the day of the month it names")
