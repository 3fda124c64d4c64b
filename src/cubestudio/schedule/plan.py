"""Pure planning: which ticks are due, given a schedule, what was planned before, and now.

Nothing here touches the store: the scheduler keeps its cursor there and passes it in, and
`cube schedule plan` calls this without a store at all. A tick T is due when T <= now; the
first tick is the first one at or after ``start``.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cubestudio.schedule.states import RecordStatus
from cubestudio.schedule.timetable import Timetable
from cubestudio.spec.model import ScheduleSpec

_JUST_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a pipeline seen for the first time at ``now`` runs: ``due`` oldest first, and
    ``next``, the first tick after them (at or after start, later than now)."""

    due: list[datetime]
    next: datetime | None

    def to_json(self) -> dict[str, object]:
        return {"due": [iso_utc(t) for t in self.due], "next": iso_utc(self.next)}


def timetable_of(schedule: ScheduleSpec) -> Timetable:
    return Timetable(schedule.cron, schedule.timezone)


def start_instant(schedule: ScheduleSpec, timetable: Timetable, *, default: datetime) -> datetime:
    """``start`` as aware UTC; a pipeline without one starts when it is first seen."""
    if schedule.start is None:
        return default
    return timetable.local_instant(schedule.start)


def plan_first_sight(schedule: ScheduleSpec, *, now: datetime) -> Plan:
    timetable = timetable_of(schedule)
    start = start_instant(schedule, timetable, default=now)
    due = list(first_sight(timetable, start=start, now=now, catchup=schedule.catchup))
    return Plan(due=due, next=timetable.next_after(now, floor=start))


def first_sight(
    timetable: Timetable, *, start: datetime, now: datetime, catchup: bool
) -> Iterator[datetime]:
    """catchup: every tick from start to now. Otherwise only the latest one (if >= start)."""
    if catchup:
        yield from timetable.ticks_between(start, now)
        return
    latest = timetable.latest_at_or_before(now, floor=start)
    if latest is not None:
        yield latest


def ticks_to_record(
    timetable: Timetable,
    *,
    start: datetime,
    planned_through: datetime | None,
    now: datetime,
    catchup: bool,
) -> Iterator[tuple[datetime, RecordStatus]]:
    """The records the scheduler adds at ``now``, oldest first. ``planned_through`` is the
    instant up to which it planned before (None: never, so this is the first sight).

    With catchup off, ticks missed while no scheduler ran are recorded ``skipped``, so a gap
    is never silent; only the latest one runs."""
    if planned_through is None:
        for tick in first_sight(timetable, start=start, now=now, catchup=catchup):
            yield tick, RecordStatus.COMED
        return
    ticks = timetable.ticks_between(max(start, planned_through + _JUST_AFTER), now)
    if catchup:
        for tick in ticks:
            yield tick, RecordStatus.COMED
        return
    previous = None
    for tick in ticks:
        if previous is not None:
            yield previous, RecordStatus.SKIPPED
        previous = tick
    if previous is not None:
        yield previous, RecordStatus.COMED


class NewRuns:
    """The runs a command is about to create: the ticks that have no record yet, oldest first.

    Counted in one pass without keeping the ticks (a minutely catch-up over years has
    millions); iterating walks them again, for `--dry-run`."""

    def __init__(
        self, ticks: Callable[[], Iterable[datetime]], existing: Container[datetime]
    ) -> None:
        self._ticks, self._existing = ticks, existing
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        for tick in self:
            self.count += 1
            self.first = self.first or tick
            self.last = tick

    def __iter__(self) -> Iterator[datetime]:
        return (tick for tick in self._ticks() if tick not in self._existing)

    def summary(self, zone: str) -> str:
        """``this will create 334 runs (2026-01-01 02:00 … 2026-11-30 02:00 Asia/Shanghai)``:
        the wall clock of the schedule, as its cron reads."""
        if self.first is None or self.last is None:
            return "this will create no runs"
        local = ZoneInfo(zone)
        first, last = (f"{t.astimezone(local):%Y-%m-%d %H:%M}" for t in (self.first, self.last))
        if self.count == 1:
            return f"this will create 1 run ({first} {zone})"
        return f"this will create {self.count} runs ({first} … {last} {zone})"


def parse_instant(text: str, *, timetable: Timetable | None = None) -> datetime:
    """ISO 8601 text as aware UTC. Without an offset it is read in the timetable's zone (like
    ``start``), or as UTC when there is none (``--now``). A bare date means its midnight."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    if timetable is None:
        return value.replace(tzinfo=UTC)
    return timetable.local_instant(value)


def parse_range_end(text: str, *, timetable: Timetable) -> datetime:
    """The last instant of a range (``--end``), inclusive: a bare date means the whole of that
    day in the timetable's zone (up to its next midnight), so ``--end 2026-01-07`` includes the
    ticks of the 7th. Anything else is read as ``parse_instant`` does."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return parse_instant(text, timetable=timetable)
    next_midnight = timetable.local_instant(datetime.combine(day + timedelta(days=1), time()))
    return next_midnight - _JUST_AFTER


def iso_utc(moment: datetime | None) -> str | None:
    """UTC, ISO 8601 with ``+00:00``: the form scripts rely on."""
    return None if moment is None else moment.astimezone(UTC).isoformat()
