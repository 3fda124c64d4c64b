"""GET /events?project=NAME: the project's run, task and attempt changes as Server-Sent
Events, as they are committed.

Each event is ``event: run|task|attempt``, ``data: {"event_id", "run_id", "pipeline", "at",
...the changed fields}`` and ``id: <cursor>``: the event's id, or ``<id>:<ids>`` while ids
below it may still commit (streams.py). A client that reconnects with ``Last-Event-ID`` (the
header EventSource sends, or ``?last_event_id=`` for clients that cannot set headers) gets
every change it missed, once; without one the stream starts at the newest event (no
history: read the run first, then follow). Each stream makes one indexed query per poll
(and a lookup by id while it awaits late ids), in a read-only transaction (on SQLite it
takes no write lock) and in a worker thread, so streams never hold up other requests.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.exc import SQLAlchemyError
from sse_starlette import EventSourceResponse, ServerSentEvent

from cubestudio.api.deps import DbDep, ProjectDep, run_of
from cubestudio.api.errors import ApiError
from cubestudio.api.streams import (
    CURSOR_CHARS,
    Cursor,
    Delivery,
    EventTracker,
    Row,
    StreamConfig,
    parse_cursor,
    stream_config,
)
from cubestudio.errors import StoreError
from cubestudio.store import events as event_store
from cubestudio.store.db import Database

router = APIRouter(tags=["events"])
log = logging.getLogger("cubestudio.api.events")
LOOKUP_CHUNK = 1000  # ids per by_ids query
SSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events: `event: run|task|attempt`, `data: {JSON}`, "
        "`id: <cursor>`, and a keep-alive comment every 15 s.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@dataclass(frozen=True)
class Scope:
    """What one stream shows: a project's events, or one run's."""

    project_id: int
    run_id: str | None = None

    def __call__(self, row: Row) -> bool:
        return row["project_id"] == self.project_id and self.run_id in (None, row["run_id"])


@router.get("/events", response_class=EventSourceResponse, responses=SSE)
def stream_events(
    request: Request,
    project: ProjectDep,
    db: DbDep,
    run: Annotated[str | None, Query(max_length=40, description="Only this run's events.")] = None,
    last_event_id: Annotated[
        str | None,
        Query(max_length=CURSOR_CHARS, description="Resume after this id (else the header)."),
    ] = None,
    last_event_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=CURSOR_CHARS)
    ] = None,
) -> EventSourceResponse:
    """Follow the project's run, task and attempt changes (any member, viewers included)."""
    scope = Scope(project.id, run_of(db, project, run)["id"] if run is not None else None)
    # The header wins: EventSource sends it on every reconnection while the URL stays the same.
    given = last_event_header or last_event_id
    start = _start(db, given)
    config = stream_config(request.app.state)
    tracker = EventTracker(start, now=time.monotonic(), mine=scope, window=config.window)
    return EventSourceResponse(
        follow(db, tracker, scope, config, clock=time.monotonic),
        ping=config.keepalive,
        headers={"Cache-Control": "no-store"},
    )


def _start(db: Database, given: str | None) -> Cursor:
    with db.read() as conn:
        newest = event_store.last_id(conn)
    if given is None or not given.strip():
        return Cursor(newest)
    try:
        cursor = parse_cursor(given)
    except ValueError as err:
        raise ApiError(422, "invalid", f"last_event_id {err}", field="last_event_id") from None
    # An id above the newest one (its events deleted since) would hide the next ones.
    high = min(cursor.high, newest)
    return Cursor(high, frozenset(i for i in cursor.missing if i < high))


async def follow(
    db: Database,
    tracker: EventTracker,
    scope: Scope,
    config: StreamConfig,
    *,
    clock: Callable[[], float],
) -> AsyncIterator[ServerSentEvent]:
    """The stream: poll, send, sleep, until the client goes (the response cancels this)."""
    while True:
        try:
            deliveries, full = await anyio.to_thread.run_sync(
                poll, db, tracker, scope, config, clock()
            )
        except (StoreError, SQLAlchemyError) as err:
            # The store is away: keep the connection and look again; nothing is lost, as
            # the next poll starts where this stream is.
            log.warning("event stream: the store did not answer: %s", err)
            await anyio.sleep(config.retry)
            continue
        for delivery in deliveries:
            yield message(delivery)
        if not full:
            await anyio.sleep(config.poll)


def poll(
    db: Database, tracker: EventTracker, scope: Scope, config: StreamConfig, now: float
) -> tuple[list[Delivery], bool]:
    """One look at the store: the new events and the late ones; whether a page was full."""
    with db.read() as conn:
        rows = event_store.since(
            conn,
            after_id=tracker.high,
            project_id=scope.project_id,
            run_id=scope.run_id,
            limit=config.page,
        )
        ids = tracker.lookups(rows)
        found = [
            row
            for at in range(0, len(ids), LOOKUP_CHUNK)
            for row in event_store.by_ids(conn, ids=ids[at : at + LOOKUP_CHUNK])
        ]
    return tracker.take(rows, found, now=now), len(rows) >= config.page


def message(delivery: Delivery) -> ServerSentEvent:
    row = delivery.row
    data: dict[str, Any] = {
        "event_id": row["id"],
        "run_id": row["run_id"],
        "pipeline": row["pipeline_name"],
        "at": row["created_at"].isoformat() if row["created_at"] else None,
        **json.loads(row["payload"]),
    }
    return ServerSentEvent(
        data=json.dumps(data, sort_keys=True),
        event=row["kind"],
        id=str(delivery.cursor),
    )
