"""Cron ticks as UTC instants: the cron is read in the wall-clock time of a time zone.

Daylight saving follows Airflow's CronTriggerTimetable, with SPEC F9's fine print:

- a cron whose hour field is restricted names wall-clock times. One that does not exist (the
  spring-forward gap) runs once, shifted forward by the gap: New York's 02:15 on 2026-03-08 is
  03:15 EDT. One that happens twice (the fall-back fold) runs once, at its second occurrence:
  01:30 on 2026-11-01 is 01:30 EST.
- a cron whose hour field covers all 24 hours follows real time: every instant whose wall
  clock reads a matching time is a tick, so the fold's hour runs twice and the gap's not at all.

Ticks come out in UTC order without duplicates: a shifted time can land on another tick
(``15 2,3 * * *`` on the gap day), or after a tick of the next day where a whole day is skipped.
Instants are naive UTC inside this module, aware UTC at its edges.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cubestudio.spec.cron import CronExpression, parse_cron

# More than any UTC offset a zone ever had: a wall-clock time and its instant are closer than
# this, which bounds how far ahead of the day being expanded a tick can still appear.
_OFFSET_BOUND = timedelta(hours=26)
# A valid cron fires at least once in 400 years (the Gregorian cycle); past that it never will.
_IDLE_DAYS_LIMIT = 146_097
_ONE_DAY = timedelta(days=1)
# How far back `latest_at_or_before` looks first; it widens the window until `floor`.
_LOOKBACK = (timedelta(days=2), timedelta(days=40), timedelta(days=800), timedelta(days=150_000))


class Timetable:
    """The ticks of one cron in one time zone."""

    def __init__(self, cron: CronExpression | str, timezone: str = "UTC") -> None:
        self.cron = parse_cron(cron) if isinstance(cron, str) else cron
        self.zone = ZoneInfo(timezone)
        self._times = [time(h, m) for h, m in self.cron.times_of_day()]

    # -- the wall clock --------------------------------------------------------------------------
    def instants(self, wall: datetime) -> tuple[datetime, ...]:
        """The naive-UTC instants of a naive wall-clock time under the DST rules above."""
        off_before = wall.replace(tzinfo=self.zone).utcoffset()
        off_after = wall.replace(tzinfo=self.zone, fold=1).utcoffset()
        assert off_before is not None and off_after is not None
        if off_before == off_after:  # the common case: it happens exactly once
            return (wall - off_before,)
        if off_before > off_after:  # a fold: the clock went back over this time
            if self.cron.every_hour:
                return (wall - off_before, wall - off_after)
            return (wall - off_after,)
        # A gap: the clock jumped over it. The offset before the jump shifts it forward.
        return () if self.cron.every_hour else (wall - off_before,)

    def local_instant(self, moment: datetime) -> datetime:
        """An aware time as it is; a naive one read in the zone like a restricted-hour tick
        (a gap shifted forward, a fold's second occurrence). Returns aware UTC."""
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
        off_before = moment.replace(tzinfo=self.zone).utcoffset()
        off_after = moment.replace(tzinfo=self.zone, fold=1).utcoffset()
        assert off_before is not None and off_after is not None
        offset = off_after if off_before > off_after else off_before
        return (moment - offset).replace(tzinfo=UTC)

    # -- ticks -----------------------------------------------------------------------------------
    def ticks_from(self, lo: datetime) -> Iterator[datetime]:
        """Every tick at or after ``lo`` (aware), oldest first, as aware UTC."""
        floor = _naive_utc(lo)
        for tick in self._naive_ticks(floor):
            yield tick.replace(tzinfo=UTC)

    def ticks_between(self, lo: datetime, hi: datetime) -> Iterator[datetime]:
        """Ticks ``lo <= t <= hi`` (both aware), oldest first."""
        ceiling = _naive_utc(hi)
        for tick in self._naive_ticks(_naive_utc(lo)):
            if tick > ceiling:
                return
            yield tick.replace(tzinfo=UTC)

    def next_after(self, moment: datetime, *, floor: datetime | None = None) -> datetime | None:
        """The first tick later than ``moment`` and at or after ``floor``."""
        lo = moment + timedelta(microseconds=1)
        if floor is not None and floor > lo:
            lo = floor
        return next(self.ticks_from(lo), None)

    def latest_at_or_before(self, hi: datetime, *, floor: datetime) -> datetime | None:
        """The last tick ``floor <= t <= hi``, looking back in widening windows so that a
        minutely cron with a start years ago costs a few days of ticks, not years."""
        for window in _LOOKBACK:
            lo = max(floor, hi - window)
            latest = None
            for latest in self.ticks_between(lo, hi):  # noqa: B007 - the last one is wanted
                pass
            if latest is not None or lo == floor:
                return latest
        return None

    def _naive_ticks(self, floor: datetime) -> Iterator[datetime]:
        """Expand one local day at a time; a tick is final once no later day can produce an
        earlier one (days are ``_OFFSET_BOUND`` apart at worst)."""
        pending: list[datetime] = []
        last: datetime | None = None
        day = (floor - _OFFSET_BOUND).date()
        idle_days = 0
        while idle_days < _IDLE_DAYS_LIMIT and day < date.max:
            if self.cron.matches_day(day):
                idle_days = 0
                for at in self._times:
                    for instant in self.instants(datetime.combine(day, at)):
                        if instant >= floor:
                            heapq.heappush(pending, instant)
            else:
                idle_days += 1
            day += _ONE_DAY
            final_before = datetime.combine(day, time()) - _OFFSET_BOUND
            while pending and pending[0] < final_before:
                tick = heapq.heappop(pending)
                if tick != last:
                    last = tick
                    yield tick
        # `day < date.max` ends the loop only in year 9999: what is left is still in order.
        while pending:
            tick = heapq.heappop(pending)
            if tick != last:
                last = tick
                yield tick


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone: give an aware time")
    return moment.astimezone(UTC).replace(tzinfo=None)
