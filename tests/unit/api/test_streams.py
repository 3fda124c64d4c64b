"""The event tracker of live streams, pure, with injected time: ids handed out once each,
ids stepped over awaited for a window (and handed out if they commit), the cursor a client
sends back carrying what it still awaits."""

from __future__ import annotations

from typing import Any

import pytest

from cubestudio.api.streams import (
    MAX_MISSING,
    MAX_RANGES,
    Cursor,
    Delivery,
    EventTracker,
    parse_cursor,
)

MINE = 1


def row(event_id: int, project: int = MINE) -> dict[str, Any]:
    return {"id": event_id, "project_id": project, "run_id": "r"}


def mine(r: Any) -> bool:
    return bool(r["project_id"] == MINE)


def tracker(cursor: Cursor | int = 0, now: float = 0.0, window: float = 5.0) -> EventTracker:
    start = cursor if isinstance(cursor, Cursor) else Cursor(cursor)
    return EventTracker(start, now=now, mine=mine, window=window)


def sent(deliveries: list[Delivery]) -> list[tuple[int, str]]:
    return [(int(d.row["id"]), str(d.cursor)) for d in deliveries]


def test_contiguous_ids_are_sent_in_order_with_nothing_to_look_up() -> None:
    t = tracker(10)
    rows = [row(11), row(12), row(13)]
    assert t.lookups(rows) == []
    assert sent(t.take(rows, [], now=1.0)) == [(11, "11"), (12, "12"), (13, "13")]
    assert t.high == 13 and t.missing == frozenset()


def test_an_id_stepped_over_is_sent_when_it_commits_and_only_once() -> None:
    t = tracker(10)
    rows = [row(11), row(13)]
    assert t.lookups(rows) == [12]
    # 12 is not committed yet: 13 goes out with a cursor saying 12 is awaited.
    assert sent(t.take(rows, [], now=1.0)) == [(11, "11"), (13, "13:12")]
    assert t.lookups([]) == [12]
    assert sent(t.take([], [row(12)], now=2.0)) == [(12, "13")]
    assert t.lookups([]) == []
    assert t.take([], [row(12)], now=3.0) == []  # found again: not sent twice


def test_an_id_of_another_project_is_looked_up_once_and_never_sent() -> None:
    t = tracker(10)
    rows = [row(11), row(14)]
    assert t.lookups(rows) == [12, 13]
    # 12 belongs to another project (committed); 13 is still in flight.
    assert sent(t.take(rows, [row(12, project=2)], now=1.0)) == [(11, "11"), (14, "14:13")]
    assert t.missing == frozenset({13})


def test_a_late_id_found_in_the_same_look_goes_out_in_id_order() -> None:
    t = tracker(10)
    rows = [row(11), row(13)]
    # 12 committed between the query for new ids and the lookup of the missing ones.
    assert sent(t.take(rows, [row(12)], now=1.0)) == [(11, "11"), (12, "12"), (13, "13")]


def test_an_awaited_id_is_given_up_after_the_window() -> None:
    t = tracker(10, window=5.0)
    t.take([row(12)], [], now=100.0)
    assert t.missing == frozenset({11})
    t.take([], [], now=104.9)
    assert t.missing == frozenset({11})
    t.take([], [], now=105.0)
    assert t.missing == frozenset()
    assert t.take([], [row(11)], now=106.0) == []  # committed too late: dropped, not sent


def test_a_stream_resumed_from_a_cursor_gets_the_late_ids_it_awaited_and_no_others() -> None:
    first = tracker(10)
    first.take([row(11), row(14)], [], now=1.0)
    cursor = str(first.cursor())
    assert cursor == "14:12-13"
    resumed = tracker(parse_cursor(cursor), now=50.0)  # a fresh window from the resume
    assert resumed.lookups([]) == [12, 13]
    out = resumed.take([row(15)], [row(13)], now=54.0)
    assert sent(out) == [(13, "14:12"), (15, "15:12")]
    assert resumed.take([], [], now=55.0) == [] and resumed.missing == frozenset()


def test_each_delivery_carries_the_cursor_of_the_client_after_it() -> None:
    t = tracker(Cursor(20, frozenset({15, 18})))
    out = t.take([row(21), row(23)], [row(15)], now=1.0)
    # After 15: still awaiting 18. After 21: 18. After 23: 18 and the newly missed 22.
    assert sent(out) == [(15, "20:18"), (21, "21:18"), (23, "23:22,18")]


def test_the_ids_awaited_are_capped_keeping_the_newest() -> None:
    t = tracker(0)
    # A stream catching up over ten million other ids looks up only the newest of them.
    far = [row(10_000_000)]
    assert len(t.lookups(far)) == MAX_MISSING
    t.take(far, [], now=1.0)
    assert len(t.missing) == MAX_MISSING
    assert min(t.missing) == 10_000_000 - MAX_MISSING


@pytest.mark.parametrize(
    "cursor",
    [Cursor(7), Cursor(40, frozenset({3, 4, 5, 9, 30, 31})), Cursor(2, frozenset({1}))],
)
def test_a_cursor_reads_back_as_written(cursor: Cursor) -> None:
    assert parse_cursor(str(cursor)) == cursor


def test_a_cursor_writes_only_the_newest_ranges() -> None:
    many = Cursor(1000, frozenset(range(0, 200, 2)))
    kept = parse_cursor(str(many)).missing
    assert len(kept) == MAX_RANGES and min(kept) == 200 - 2 * MAX_RANGES


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is not an event id"),
        ("abc", "'abc' is not an event id"),
        ("-3", "is not an event id"),
        ("10:7-5", "must be ascending and below 10"),
        ("10:12", "below 10"),
        ("10:x", "'x' is not an event id"),
        ("\uff11\uff12", "is not an event id"),
        ("99999999:1-99999990", "awaits more than"),
        ("1" * 2000, "longer than"),
    ],
)
def test_a_bad_cursor_is_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_cursor(text)
