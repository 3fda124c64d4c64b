"""Measure the scheduler's backfill cost: planning cron ticks and storing their records.

100 pipelines with an hourly cron and ``catchup: true`` seen for the first time a year after
their start: one ``Scheduler.tick(now)`` must plan and store 100 x 8,760 = 876,000 schedule
records (on SQLite, in batches). The baseline is bare croniter iteration over the same ticks
(what Airflow's timetables build on), timed in the same invocation on the same machine, so
the ratio stays comparable across machines and noisy runs. Target: within 3x of croniter.

Half of the pipelines use time zones with daylight saving, so the DST rules are on the path.
Memory is sampled after each batch: records are streamed, so the resident size must stay
flat however many pipelines were planned. The script prints figures beside their targets
and exits 0; it exits 1 only if the records stored are not exactly the expected ticks.

Usage: .venv/bin/python bench/scheduler_backfill.py [--pipelines 100] [--hours 8760]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from croniter import croniter
from sqlalchemy import func, select

from cubestudio.schedule.launch import MemoryLauncher
from cubestudio.schedule.registry import apply_schedule
from cubestudio.schedule.scheduler import Scheduler
from cubestudio.schedule.timetable import Timetable
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.model import PipelineSpec
from cubestudio.store.db import Database
from cubestudio.store.tables import schedule_records

ZONES = ["UTC", "America/New_York", "Asia/Shanghai", "Europe/Berlin"]
CRON = "0 * * * *"
START = datetime(2025, 1, 1, tzinfo=UTC)
TARGET_RATIO = 3.0
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spec(index: int) -> PipelineSpec:
    return pipeline_from_data(
        {
            "name": f"bench-{index:03}",
            "schedule": {
                "cron": CRON,
                "timezone": ZONES[index % len(ZONES)],
                "start": START.isoformat(),
                "catchup": True,
            },
            "tasks": [{"name": "a", "command": "true"}],
        }
    )


def time_croniter(pipelines: int, hours: int) -> float:
    """Bare croniter: the same ticks, in the same zones, nothing stored."""
    began = time.perf_counter()
    for index in range(pipelines):
        zone = Timetable(CRON, ZONES[index % len(ZONES)]).zone
        ticks = croniter(CRON, START.astimezone(zone) - timedelta(microseconds=1))
        for _ in range(hours):
            ticks.get_next(datetime)
    return time.perf_counter() - began


def time_planning(pipelines: int, hours: int) -> float:
    """Our timetables alone (DST rules included), nothing stored."""
    began = time.perf_counter()
    end = START + timedelta(hours=hours - 1)
    for index in range(pipelines):
        for _tick in Timetable(CRON, ZONES[index % len(ZONES)]).ticks_between(START, end):
            pass
    return time.perf_counter() - began


def time_scheduler(db: Database, pipelines: int, hours: int) -> tuple[float, list[float]]:
    """One scheduler turn a year after start; returns (seconds, RSS after each batch)."""
    for index in range(pipelines):
        apply_schedule(db, spec=spec(index), templates={}, user="bench", now=START)
    samples: list[float] = []
    scheduler = Scheduler(db, MemoryLauncher(), log=lambda _line: samples.append(rss_mib()))
    now = START + timedelta(hours=hours - 1)
    began = time.perf_counter()
    scheduler.tick(now)
    return time.perf_counter() - began, samples


def count_records(db: Database) -> tuple[int, int]:
    with db.begin() as conn:
        total = conn.execute(select(func.count()).select_from(schedule_records)).scalar_one()
        distinct = conn.execute(
            select(func.count()).select_from(
                select(schedule_records.c.pipeline_id, schedule_records.c.execution_date)
                .distinct()
                .subquery()
            )
        ).scalar_one()
    return int(total), int(distinct)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--hours", type=int, default=8760, help="hourly ticks per pipeline")
    args = parser.parse_args()
    expected = args.pipelines * args.hours
    print(
        f"scheduler backfill: {args.pipelines} pipelines x {args.hours:,} hourly ticks "
        f"= {expected:,} records, SQLite"
    )

    home = Path(tempfile.mkdtemp(prefix="cube-bench-"))
    try:
        db = Database(f"sqlite:///{home / 'cube.db'}")
        db.ensure_schema()
        rss_before = rss_mib()
        scheduler_s, samples = time_scheduler(db, args.pipelines, args.hours)
        total, distinct = count_records(db)
        db.dispose()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    croniter_s = time_croniter(args.pipelines, args.hours)
    planning_s = time_planning(args.pipelines, args.hours)

    ratio = scheduler_s / croniter_s
    tenth = samples[len(samples) // 10] if samples else rss_before
    print(
        f"  scheduler turn (plan + store)    {scheduler_s:7.2f} s  "
        f"{expected / scheduler_s:>10,.0f} records/s"
    )
    print(
        f"  bare croniter, same ticks        {croniter_s:7.2f} s  "
        f"{expected / croniter_s:>10,.0f} ticks/s"
    )
    print(
        f"  our timetables alone             {planning_s:7.2f} s  "
        f"{expected / planning_s:>10,.0f} ticks/s"
    )
    print(
        f"  ratio scheduler / croniter       {ratio:7.2f} x  (target <= {TARGET_RATIO:.0f}x: "
        f"{'ok' if ratio <= TARGET_RATIO else 'MISSED'})"
    )
    print(
        f"  RSS before {rss_before:.0f} MiB, after 10% of batches {tenth:.0f} MiB, "
        f"after all {samples[-1] if samples else rss_before:.0f} MiB; "
        f"peak {peak_rss_mib():.0f} MiB ({len(samples)} batches)"
    )
    if total != expected or distinct != expected:
        print(f"  WRONG: {total:,} records stored, {distinct:,} distinct, {expected:,} expected")
        return 1
    print(f"  stored exactly {total:,} records, one per (pipeline, execution_date)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
