"""Which stored events a live stream (GET /api/v1/events) hands a client, each exactly once,
although ids do not always commit in order.

On PostgreSQL and MariaDB a transaction that took id 7 can commit after one that took id 8
(store/events.py), so a reader that has passed 8 may find 7 later. The tracker keeps the ids
it stepped over ("missing") for a short window and hands them out if they appear; an id that
never appears (a rolled-back transaction, or an event of another project, which the lookup
shows at once) is forgotten. The client's position is a ``Cursor``, sent as each event's SSE
id: the highest id handed out, plus the ids below it still awaited, so a client that comes
back with ``Last-Event-ID`` gets the late ones too and nothing twice.

Pure: the caller queries the store (``events.since`` then ``events.by_ids`` on ``lookups``)
and passes the time in.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WINDOW = 5.0  # seconds an id stepped over may still commit (a transaction in flight)
# Ids awaited at once; past this the oldest are given up. An id can be in flight only while
# its transaction is open, so it was taken recently: near the newest ids, never far below.
MAX_MISSING = 5_000
MAX_RANGES = 32  # ranges of awaited ids written into a cursor; past this the oldest are left out
CURSOR_CHARS = 1024  # the longest cursor accepted back


Row = Mapping[Any, Any]  # a store row (RowMapping) or a plain dict


@dataclass(frozen=True)
class Cursor:
    """Where a client is: every event up to ``high`` was handed out but ``missing``."""

    high: int
    missing: frozenset[int] = frozenset()

    def __str__(self) -> str:
        """``"105"``, or ``"105:101-103,99"`` when ids below 105 are still awaited."""
        if not self.missing:
            return str(self.high)
        ranges = _ranges(sorted(self.missing))[-MAX_RANGES:]
        return f"{self.high}:" + ",".join(
            str(a) if a == b else f"{a}-{b}" for a, b in reversed(ranges)
        )


def parse_cursor(text: str) -> Cursor:
    """A cursor as ``str(Cursor)`` writes it; ValueError saying what is wrong."""
    text = text.strip()
    if len(text) > CURSOR_CHARS:
        raise ValueError(f"is longer than {CURSOR_CHARS} characters: send back an id we sent")
    head, _, tail = text.partition(":")
    high = _id(head)
    missing: set[int] = set()
    for part in tail.split(",") if tail else ():
        first, dash, last = part.partition("-")
        low, top = _id(first), _id(last) if dash else _id(first)
        if not low <= top < high:
            raise ValueError(f"range {part!r} must be ascending and below {high}")
        if len(missing) + top - low + 1 > MAX_MISSING:
            raise ValueError(f"awaits more than {MAX_MISSING} ids: send back an id we sent")
        missing.update(range(low, top + 1))
    return Cursor(high, frozenset(missing))


def _id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise ValueError(f"{text!r} is not an event id (a number, as sent in `id:`)")
    return int(text)


def _ranges(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted ids as (first, last) runs of consecutive ids."""
    out: list[tuple[int, int]] = []
    for i in ids:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


@dataclass(frozen=True)
class Delivery:
    """One event to send, and the cursor to send with it (where the client is after it)."""

    row: Row
    cursor: Cursor


class EventTracker:
    """The ids one stream has handed out and awaits. ``mine`` says whether a row found by id
    belongs to the stream (its project, its run): ``by_ids`` does not filter."""

    def __init__(
        self,
        start: Cursor,
        *,
        now: float,
        mine: Callable[[Row], bool],
        window: float = WINDOW,
    ) -> None:
        self.high = start.high
        self.window = window
        self._mine = mine
        # id -> when to stop waiting for it. A cursor's ids get a fresh window: the client
        # was away, and this stream cannot know since when.
        self._missing = {i: now + window for i in start.missing if i < start.high}

    @property
    def missing(self) -> frozenset[int]:
        return frozenset(self._missing)

    def cursor(self) -> Cursor:
        return Cursor(self.high, frozenset(self._missing))

    def lookups(self, rows: Sequence[Row]) -> list[int]:
        """The ids to look up by id after ``since(after_id=high)`` gave ``rows``: those
        awaited already, and those the rows step over (none of them is in ``rows``)."""
        return sorted(self._missing.keys() | set(_stepped_over(self.high, rows)))

    def take(self, rows: Sequence[Row], found: Iterable[Row], *, now: float) -> list[Delivery]:
        """What to send, given ``rows`` (ids above ``high``, of this stream, ascending) and
        ``found`` (what ``by_ids(lookups(rows))`` returned), in id order, each with its
        cursor; ids stepped over start to be awaited, awaited ones found or expired end."""
        for i in _stepped_over(self.high, rows):
            self._missing[i] = now + self.window
        late = []
        for row in found:
            if self._missing.pop(row["id"], None) is not None and self._mine(row):
                late.append(row)
        self._missing = {i: until for i, until in self._missing.items() if until > now}
        if len(self._missing) > MAX_MISSING:
            keep = sorted(self._missing)[-MAX_MISSING:]
            self._missing = {i: self._missing[i] for i in keep}
        start = self.high
        if rows:
            self.high = max(self.high, int(rows[-1]["id"]))
        return self._deliveries(start, sorted([*late, *rows], key=lambda r: int(r["id"])))

    def _deliveries(self, high: int, rows: list[Row]) -> list[Delivery]:
        out = []
        missing = sorted(self._missing)
        awaited: frozenset[int] = frozenset()
        for row in rows:
            # The cursor after this event: the later events of the batch are above it, so a
            # client that stops here gets them from `since`; the ids still awaited below it
            # travel with it.
            high = max(high, int(row["id"]))
            below = bisect_left(missing, high)
            if below != len(awaited):
                awaited = frozenset(missing[:below])
            out.append(Delivery(row, Cursor(high, awaited)))
        return out


def _stepped_over(high: int, rows: Sequence[Row]) -> list[int]:
    """Ids between ``high`` and the last row that no row has: events of other streams, or
    transactions not committed yet; only the newest ``MAX_MISSING`` (a stream catching up
    over a long history of other projects' events would otherwise look up all of them)."""
    have = {int(r["id"]) for r in rows}
    last = int(rows[-1]["id"]) if rows else high
    return [i for i in range(max(high + 1, last - MAX_MISSING), last) if i not in have]


@dataclass(frozen=True)
class StreamConfig:
    """How often live streams look at the store and the logs. ``create_app`` callers (the
    tests, the benchmark) may set ``app.state.stream_config`` to change it."""

    poll: float = 0.25  # seconds between an event stream's looks at the store
    keepalive: float = 15.0  # seconds between keep-alive comments on an idle stream
    window: float = WINDOW
    page: int = 500  # events read per query; a full page is followed by another at once
    log_poll: float = 0.2  # seconds between looks at a followed log that did not grow
    log_check: float = 0.5  # seconds between looks at the store: has the attempt ended?
    retry: float = 2.0  # seconds to wait after the store failed to answer


def stream_config(state: Any) -> StreamConfig:
    config = getattr(state, "stream_config", None)
    return config if isinstance(config, StreamConfig) else StreamConfig()
