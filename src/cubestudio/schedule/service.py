"""`cube scheduler`: call ``Scheduler.tick`` on a clock until told to stop.

With the wall clock it sleeps until the next tick is due, but at most ``interval`` seconds,
so runs that finished (freeing max_active_runs) and schedules applied meanwhile are seen
soon. SIGINT and SIGTERM end the loop after the turn in progress; a kill -9 at any instant
loses nothing, because every turn commits what it decided before acting on it.

A turn that fails as a whole (the database is unreachable) is tried again after ``interval``.

A simulated clock (tests, demos) starts at a given instant and advances by a fixed step per
turn without sleeping, so hundreds of ticks take seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError

from cubestudio.errors import CubeError
from cubestudio.schedule.scheduler import Scheduler, TickReport
from cubestudio.signals import stop_on_signals


@dataclass(frozen=True, slots=True)
class SimulatedClock:
    start: datetime
    step: timedelta  # zero: a single turn
    until: datetime | None = None

    def instants(self) -> Iterator[datetime]:
        now = self.start
        while self.until is None or now <= self.until:
            yield now
            if not self.step:
                return
            now += self.step


def utcnow() -> datetime:
    return datetime.now(UTC)


def serve(
    scheduler: Scheduler,
    *,
    interval: float,
    clock: SimulatedClock | None = None,
    on_turn: Callable[[datetime, TickReport], None] | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> int:
    """Run turns until stopped (or the simulated clock ends); returns how many ran."""
    simulated = clock.instants() if clock else None
    turns = 0
    with stop_on_signals() as stopped:
        while not stopped.is_set():
            now = next(simulated, None) if simulated else utcnow()
            if now is None:
                break
            try:
                report = scheduler.tick(now)
            except (CubeError, DBAPIError) as err:
                if simulated is not None:
                    raise
                log(f"turn failed, tried again in {interval:g}s: {err}")  # e.g. the database
                stopped.wait(interval)
                continue
            turns += 1
            if on_turn is not None:
                on_turn(now, report)
            if simulated is None:
                stopped.wait(_seconds_to_sleep(report.next_tick, interval))
    return turns


def _seconds_to_sleep(next_tick: datetime | None, interval: float) -> float:
    if next_tick is None:
        return interval
    return min(interval, max((next_tick - utcnow()).total_seconds(), 0.0))
