"""The DST and boundary table: each row derived by hand from the rules of issue 7 and SPEC F9,
checked through the pure planner (`cube schedule plan` prints exactly this)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from cubestudio.schedule.plan import plan_first_sight
from cubestudio.spec.model import ScheduleSpec

NY = "America/New_York"  # 2026: EST->EDT on 03-08 at 02:00, EDT->EST on 11-01 at 02:00


@dataclass(frozen=True)
class Case:
    why: str
    cron: str
    timezone: str
    start: str
    now: str  # UTC
    catchup: bool
    due: list[str]  # UTC, "MM-DDTHH:MM" in the year of `now` unless a year is given
    next: str | None


# fmt: off: one case per block reads as a table
CASES = [
    Case(
        "gap: a wall time that does not exist runs once, shifted forward (03:15 EDT)",
        "15 2 * * *",
        NY,
        "2026-03-07 00:00:00",
        "2026-03-09T12:00",
        True,
        ["03-07T07:15", "03-08T07:15", "03-09T06:15"],
        "03-10T06:15",
    ),
    Case(
        "fold: a wall time that happens twice runs once, at the second occurrence (EST)",
        "30 1 * * *",
        NY,
        "2026-10-31 00:00:00",
        "2026-11-02T00:00",
        True,
        ["10-31T05:30", "11-01T06:30"],
        "11-02T06:30",
    ),
    Case(
        "hourly across the fall-back follows real time: 01:00 EDT and 01:00 EST both run",
        "@hourly",
        NY,
        "2026-11-01 00:00:00",
        "2026-11-01T08:00",
        True,
        ["11-01T04:00", "11-01T05:00", "11-01T06:00", "11-01T07:00", "11-01T08:00"],
        "11-01T09:00",
    ),
    Case(
        "hourly across the spring-forward: nothing at 02:xx, which does not exist",
        "0 * * * *",
        NY,
        "2026-03-08 00:00:00",
        "2026-03-08T09:00",
        True,
        ["03-08T05:00", "03-08T06:00", "03-08T07:00", "03-08T08:00", "03-08T09:00"],
        "03-08T10:00",
    ),
    Case(
        "an hour list covering all 24 hours counts as *",
        "0 0-23 * * *",
        NY,
        "2026-11-01 00:00:00",
        "2026-11-01T08:00",
        True,
        ["11-01T04:00", "11-01T05:00", "11-01T06:00", "11-01T07:00", "11-01T08:00"],
        "11-01T09:00",
    ),
    Case(
        "*/1 in the hour field counts as *",
        "0 */1 * * *",
        NY,
        "2026-11-01 00:00:00",
        "2026-11-01T08:00",
        True,
        ["11-01T04:00", "11-01T05:00", "11-01T06:00", "11-01T07:00", "11-01T08:00"],
        "11-01T09:00",
    ),
    Case(
        "*/10 minutes through the fold: 01:40 and 01:50 EDT, then 01:00 and 01:10 EST",
        "*/10 * * * *",
        NY,
        "2026-11-01T01:40:00-04:00",
        "2026-11-01T06:10",
        True,
        ["11-01T05:40", "11-01T05:50", "11-01T06:00", "11-01T06:10"],
        "11-01T06:20",
    ),
    Case(
        "restricted hours through the fold: 01:00 only at its second occurrence",
        "0 1,2 * * *",
        NY,
        "2026-11-01 00:00:00",
        "2026-11-01T12:00",
        True,
        ["11-01T06:00", "11-01T07:00"],
        "11-02T06:00",
    ),
    Case(
        "two wall times shifted onto one instant run once",
        "15 2,3 * * *",
        NY,
        "2026-03-08 00:00:00",
        "2026-03-08T12:00",
        True,
        ["03-08T07:15"],
        "03-09T06:15",
    ),
    Case(
        "a midnight that does not exist (Santiago) runs at 01:00",
        "0 0 * * *",
        "America/Santiago",
        "2026-09-05 12:00:00",
        "2026-09-07T12:00",
        True,
        ["09-06T04:00", "09-07T03:00"],
        "09-08T03:00",
    ),
    Case(
        "a 30-minute gap (Lord Howe) shifts by 30 minutes: 02:15 runs at 02:45",
        "15 2 * * *",
        "Australia/Lord_Howe",
        "2026-10-03 00:00:00",
        "2026-10-04T12:00",
        True,
        ["10-02T15:45", "10-03T15:45"],
        "10-04T15:15",
    ),
    Case(
        "hourly over a 30-minute gap: 01:00 then 03:00, 90 minutes apart",
        "0 * * * *",
        "Australia/Lord_Howe",
        "2026-10-04 01:00:00",
        "2026-10-03T16:00",
        True,
        ["10-03T14:30", "10-03T16:00"],
        "10-03T17:00",
    ),
    Case(
        "leap day: one run in 2028, the next in 2032",
        "0 0 29 2 *",
        "UTC",
        "2026-01-01 00:00:00",
        "2028-03-01T00:00",
        True,
        ["2028-02-29T00:00"],
        "2032-02-29T00:00",
    ),
    Case(
        "now exactly on a tick: that tick is due",
        "@hourly",
        "UTC",
        "2026-01-01 00:00:00",
        "2026-01-01T03:00",
        True,
        ["01-01T00:00", "01-01T01:00", "01-01T02:00", "01-01T03:00"],
        "01-01T04:00",
    ),
    Case(
        "now exactly on a tick, catchup off: only that tick",
        "@hourly",
        "UTC",
        "2026-01-01 00:00:00",
        "2026-01-01T03:00",
        False,
        ["01-01T03:00"],
        "01-01T04:00",
    ),
    Case(
        "start between ticks: the first tick is the next one (start is not rounded down)",
        "@hourly",
        "UTC",
        "2026-01-01 00:30:00",
        "2026-01-01T02:59:59",
        True,
        ["01-01T01:00", "01-01T02:00"],
        "01-01T03:00",
    ),
    Case(
        "start exactly on a tick: that tick is the first",
        "@hourly",
        "UTC",
        "2026-01-01 01:00:00",
        "2026-01-01T01:00",
        False,
        ["01-01T01:00"],
        "01-01T02:00",
    ),
    Case(
        "catchup off: the latest due tick only, and only if it is at or after start",
        "@hourly",
        "UTC",
        "2026-01-01 00:30:00",
        "2026-01-01T00:59",
        False,
        [],
        "01-01T01:00",
    ),
    Case(
        "Asia/Shanghai: 02:00 local is 18:00 UTC the day before",
        "0 2 * * *",
        "Asia/Shanghai",
        "2026-01-01 00:00:00",
        "2026-01-02T00:00",
        True,
        ["2025-12-31T18:00", "2026-01-01T18:00"],
        "2026-01-02T18:00",
    ),
    Case(
        "nothing due yet: next is the first tick at or after start",
        "@daily",
        "UTC",
        "2026-06-01 00:00:00",
        "2026-01-01T00:00",
        False,
        [],
        "06-01T00:00",
    ),
    Case(
        "catchup off with now between the two 01:30s: yesterday's tick runs (Airflow: none)",
        "30 1 * * *",
        NY,
        "2026-10-01 00:00:00",
        "2026-11-01T06:00",
        False,
        ["10-31T05:30"],
        "11-01T06:30",
    ),
    Case(
        "a naive start in the gap is shifted forward: 02:30 is 03:30 EDT",
        "0 * * * *",
        NY,
        "2026-03-08 02:30:00",
        "2026-03-08T09:00",
        True,
        ["03-08T08:00", "03-08T09:00"],
        "03-08T10:00",
    ),
    Case(
        "a naive ambiguous start means its second occurrence",
        "30 * * * *",
        NY,
        "2026-11-01 01:30:00",
        "2026-11-01T07:00",
        True,
        ["11-01T06:30"],
        "11-01T07:30",
    ),
    Case(
        "a start with an offset picks the first occurrence",
        "30 * * * *",
        NY,
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T07:00",
        True,
        ["11-01T05:30", "11-01T06:30"],
        "11-01T07:30",
    ),
    Case(
        "day of month and day of week both restricted: either matches (1st, or Mondays)",
        "0 0 1 * 1",
        "UTC",
        "2026-03-01 00:00:00",
        "2026-03-31T00:00",
        True,
        ["03-01T00:00", "03-02T00:00", "03-09T00:00", "03-16T00:00", "03-23T00:00", "03-30T00:00"],
        "04-01T00:00",
    ),
    Case(
        "only day of week restricted: Mondays only",
        "0 0 * * 1",
        "UTC",
        "2026-03-01 00:00:00",
        "2026-03-17T00:00",
        True,
        ["03-02T00:00", "03-09T00:00", "03-16T00:00"],
        "03-23T00:00",
    ),
    Case(
        "L is the last day of each month, 29 February in a leap year",
        "0 0 L * *",
        "UTC",
        "2028-01-15 00:00:00",
        "2028-03-31T00:00",
        True,
        ["01-31T00:00", "02-29T00:00", "03-31T00:00"],
        "04-30T00:00",
    ),
]
# fmt: on


def _utc(text: str, year: int) -> datetime:
    if len(text) == len("MM-DDTHH:MM"):
        text = f"{year}-{text}"
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("case", CASES, ids=[c.why for c in CASES])
def test_dst_and_boundaries(case: Case) -> None:
    schedule = ScheduleSpec.model_validate(
        {"cron": case.cron, "timezone": case.timezone, "start": case.start, "catchup": case.catchup}
    )
    now = _utc(case.now, 0)
    plan = plan_first_sight(schedule, now=now)
    assert plan.due == [_utc(t, now.year) for t in case.due]
    assert plan.next == (_utc(case.next, now.year) if case.next else None)
