"""GET /projects/{project}/runs/{run}/tasks/{task}/logs: one attempt's log, masked as
`cube logs` masks it, read from its file in bounded blocks (never whole into memory).

- whole (the default), ``tail=N`` (the last N lines), ``offset``/``length`` (a byte range of
  the file, widened to whole lines: the lines that start in it), ``search=REGEX`` (the lines
  matching a Python regex, as `cube logs --grep`; ``literal=true`` for a plain substring);
  these combine, except ``tail`` with ``length``.
- ``download=true``: the same bytes as an attachment.
- ``follow=true``: Server-Sent Events, ``event: log`` with the new lines as they are written
  (``id:`` the byte offset after them, so a reconnection with ``Last-Event-ID`` resumes
  there), and ``event: end`` with the attempt's outcome (``{"attempt", "status",
  "exit_code", "attempts"}``) when it has ended, after its last line; the stream then closes
  (an EventSource must close on ``end``, or it reconnects and gets ``end`` again).

The response headers say what was read: ``X-Log-Attempt``, ``X-Log-Start`` and
``X-Log-End`` (the file's bytes read: pass ``X-Log-End`` as the next ``offset`` to page
on), ``X-Log-Size`` and ``X-Log-Complete`` (whether the attempt has ended). A last line still
being written by a running attempt is left out until it is complete.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import RowMapping
from sqlalchemy.exc import SQLAlchemyError
from sse_starlette import EventSourceResponse, ServerSentEvent

from cubestudio.api.deps import DbDep, ProjectDep, run_of
from cubestudio.api.errors import ApiError
from cubestudio.api.streams import StreamConfig, stream_config
from cubestudio.engine.states import RUN_TERMINAL, TASK_TERMINAL, AttemptState
from cubestudio.errors import CubeError, NotFoundError, StoreError
from cubestudio.logs.grep import LineFilter, SearchTooSlow
from cubestudio.logs.mask import Masker, load_secrets
from cubestudio.logs.reader import line_start_at_or_after, normalize
from cubestudio.logs.source import Source, open_source
from cubestudio.logs.tail import TAIL_BLOCK
from cubestudio.logs.view import LogRequest, worker_log
from cubestudio.store import runs as store
from cubestudio.store.db import Database

router = APIRouter(tags=["logs"])
log = logging.getLogger("cubestudio.api.logs")
MAX_TAIL = 100_000
# Seconds a search may spend matching: in all for a read, per block for a follower.
SEARCH_BUDGET = 10.0
MAX_BYTES = 1 << 50
OPEN_LINE_SCAN = 16 << 20  # how far back a running attempt's last newline is looked for
LOG_PATH = "/projects/{project}/runs/{run_id}/tasks/{task}/logs"
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The log's lines (text/plain), or with follow=true Server-Sent Events.",
        "content": {"text/plain": {"schema": {"type": "string"}}, "text/event-stream": {}},
    }
}


@dataclass(frozen=True)
class Attempt:
    """The attempt a request reads: its number (0: the task has none yet) and its state."""

    run_id: str
    task: str
    number: int
    finished: bool
    folder: Path
    worker_log: Path | None = None  # a distributed task's worker chosen (?worker=)

    @property
    def log(self) -> Path:
        return self.worker_log or self.folder / "log"

    @property
    def run_folder(self) -> Path:
        return self.folder.parent.parent


def task_row(db: Database, run_id: str, task: str) -> RowMapping:
    """The task of the run, or a 404 naming it (and the closest name there is)."""
    with db.read() as conn:
        rows = store.load_task_runs(conn, run_id=run_id)
    names = [row["name"] for row in rows]
    if task not in names:
        from cubestudio.spec.render import suggest

        raise NotFoundError(f"run {run_id} has no task '{task}'{suggest(task, names)}")
    return rows[names.index(task)]


@router.get(LOG_PATH, responses=RESPONSES, response_class=StreamingResponse, response_model=None)
def task_log(
    request: Request,
    project: ProjectDep,
    db: DbDep,
    run_id: str,
    task: str,
    attempt: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    tail: Annotated[int | None, Query(ge=0, le=MAX_TAIL)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_BYTES)] = 0,
    length: Annotated[int | None, Query(ge=1, le=MAX_BYTES)] = None,
    search: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    literal: bool = False,
    download: bool = False,
    follow: bool = False,
    worker: Annotated[
        str | None, Query(max_length=63, description="a distributed task's worker: rank or name")
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse | EventSourceResponse:
    """One attempt's log (the latest unless ``attempt``); any member, viewers included."""
    _check_combination(tail=tail, length=length, download=download, follow=follow)
    run = run_of(db, project, run_id)
    chosen = attempt_of(db, request, run, task_row(db, run["id"], task), attempt, follow=follow)
    if worker is not None and chosen.number:
        request_ = LogRequest(run["id"], task=task, worker=worker)
        chosen = replace(chosen, worker_log=worker_log(chosen.folder, request_))
    grep = _line_filter(search, literal)
    masker = Masker(load_secrets(chosen.run_folder))  # a bad secrets file: an error now
    if follow:
        start = _resume_at(last_event_id)
        follower = LogFollower(db, chosen, grep, start=start, lower=offset, tail=tail)
        config = stream_config(request.app.state)
        return EventSourceResponse(follow_log(follower, config), ping=config.keepalive)
    window = _window(chosen, offset=offset, length=length)
    try:  # a tail is found by counting matching lines back from the end, before any reply
        if tail is not None:
            tail = tail + _open_line_counts(chosen.log, window, masker, grep)
        source = open_source(chosen.log, masker=masker, grep=grep, lower=window.lower, tail=tail)
    except SearchTooSlow as err:
        raise ApiError(422, "invalid", f"search: {err}", field="search") from None
    headers = {
        "X-Log-Attempt": str(chosen.number),
        "X-Log-Start": str(source.reader.position),
        "X-Log-End": str(window.upper),
        "X-Log-Size": str(window.size),
        "X-Log-Complete": "true" if chosen.finished else "false",
    }
    if download:
        name = quote(f"{chosen.run_id}-{chosen.task}-{chosen.number}.log")
        headers["Content-Disposition"] = f"attachment; filename*=utf-8''{name}"
    return StreamingResponse(
        _read(source, window), media_type="text/plain; charset=utf-8", headers=headers
    )


def _check_combination(
    *, tail: int | None, length: int | None, download: bool, follow: bool
) -> None:
    if tail is not None and length is not None:
        raise ApiError(
            422,
            "invalid",
            "tail counts back from the end of the log: give tail or length, not both",
            field="tail",
        )
    if follow and (length is not None or download):
        raise ApiError(
            422,
            "invalid",
            "follow streams until the attempt ends: leave out length and download",
            field="follow",
        )


def attempt_of(
    db: Database,
    request: Request,
    run: RowMapping,
    task: RowMapping,
    number: int | None,
    *,
    follow: bool,
) -> Attempt:
    """The attempt asked for, or the latest; a task that never ran has no log (404), but a
    follower of one yet to start waits for its first attempt."""
    have = int(task["attempts"])
    if number is not None and number > have:
        raise NotFoundError(
            f"task '{task['name']}' has {have} attempt(s); there is no attempt {number}"
        )
    number = number or have
    if number == 0:
        why = f": {task['message']}" if task["message"] else ""
        if task["status"] in TASK_TERMINAL or run["status"] in RUN_TERMINAL:
            raise NotFoundError(
                f"task '{task['name']}' never ran (it is {task['status']}{why}), so it has no log"
            )
        if not follow:
            raise NotFoundError(
                f"task '{task['name']}' has not started yet (it is {task['status']}{why}); "
                "follow=true waits for its log"
            )
        number = 1
    with db.read() as conn:
        rows = store.load_attempts(conn, run_id=run["id"], task_name=task["name"])
    row = next((r for r in rows if r["number"] == number), None)
    finished = row is not None and row["status"] != AttemptState.RUNNING
    runs_dir: Path = request.app.state.settings.runs_dir
    # Every part of the path comes from the store's rows, none from the request.
    folder = runs_dir / run["id"] / task["name"] / str(number)
    return Attempt(run["id"], task["name"], number, finished, folder)


def _line_filter(search: str | None, literal: bool) -> LineFilter | None:
    if search is None:
        return None
    try:
        return LineFilter(re.escape(search) if literal else search, budget=SEARCH_BUDGET)
    except ValueError as err:
        raise ApiError(
            422, "invalid", f"search: {err} (or pass literal=true)", field="search"
        ) from None


def _resume_at(last_event_id: str | None) -> int | None:
    if last_event_id is None or not last_event_id.strip():
        return None
    if not last_event_id.strip().isdigit():
        raise ApiError(
            422,
            "invalid",
            f"Last-Event-ID {last_event_id!r} is not a byte offset of the log: send back "
            "the id of the last log event received",
            field="Last-Event-ID",
        )
    return int(last_event_id)


@dataclass(frozen=True)
class Window:
    lower: int  # the first byte read: a line start
    upper: int  # the byte after the last one read: a line start, or the end
    size: int  # the file's size when the request came
    to_end: bool  # the attempt has ended and the window reaches the end: the last line too


def _window(attempt: Attempt, *, offset: int, length: int | None) -> Window:
    path = attempt.log
    size = _size(path)
    stable = size if attempt.finished else _complete_end(path, size)
    lower = min(line_start_at_or_after(path, offset), stable)
    upper = stable
    if length is not None:
        upper = max(lower, min(line_start_at_or_after(path, offset + length), stable))
    return Window(lower, upper, size, attempt.finished and upper == size)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0  # the attempt has not written anything yet


def _complete_end(path: Path, size: int) -> int:
    """Where the complete lines end: after the last newline, read back in small blocks (as
    far back as ``OPEN_LINE_SCAN``: a longer line without an end is cut there)."""
    fd = os.open(path, os.O_RDONLY) if size else -1
    if fd < 0:
        return 0
    try:
        end = size
        while end > 0 and size - end < OPEN_LINE_SCAN:
            start = max(0, end - TAIL_BLOCK)
            found = os.pread(fd, end - start, start).rfind(b"\n")
            if found >= 0:
                return start + found + 1
            end = start
        return end
    finally:
        os.close(fd)


def _open_line_counts(path: Path, window: Window, masker: Masker, grep: LineFilter | None) -> int:
    """1 when a tail would count the open last line (left out here) as one of its lines."""
    if window.upper >= window.size or window.to_end:
        return 0
    if grep is None:
        return 1
    fd = os.open(path, os.O_RDONLY)
    try:
        line = os.pread(fd, window.size - window.upper, window.upper)
    finally:
        os.close(fd)
    return 1 if grep.count(masker.mask(normalize(line).rstrip(b"\n") + b"\n")) else 0


def _read(source: Source, window: Window) -> Iterator[bytes]:
    try:
        yield from source.read(window.upper)
        if window.to_end and (rest := source.finish()):
            yield rest
    except SearchTooSlow as err:  # the status is sent: the reason ends the text
        yield f"[cube] search stopped: {err}\n".encode()
    finally:
        source.reader.close()


# -- following ------------------------------------------------------------------------------
BLOCKS_PER_TURN = 16  # blocks sent before the next look at the store, on a fast-growing log


class LogFollower:
    """One attempt's log as it grows. Its steps are blocking (files, the store): follow_log
    runs each in a worker thread."""

    def __init__(
        self,
        db: Database,
        attempt: Attempt,
        grep: LineFilter | None,
        *,
        start: int | None,
        lower: int,
        tail: int | None,
    ) -> None:
        self.db = db
        self.attempt = attempt
        self.grep = grep
        self.start = start  # a reconnection's offset: tail and lower no longer apply
        self.lower = lower
        self.tail = tail
        self.source: Source | None = None
        self._blocks: Iterator[bytes] | None = None

    def open(self) -> None:
        """Open the log once it exists. The secrets are read then: the engine keeps them
        before the task's process writes a line, and a follower may come earlier."""
        if self.source is not None or not self.attempt.log.exists():
            return
        masker = Masker(load_secrets(self.attempt.run_folder))
        start = self.lower if self.start is None else self.start
        # Past the end (an id from elsewhere) would skip what is written next: the end then.
        lower = line_start_at_or_after(self.attempt.log, min(start, _size(self.attempt.log)))
        tail = self.tail if self.start is None else None
        self.source = open_source(
            self.attempt.log, masker=masker, grep=self.grep, lower=lower, tail=tail
        )

    def read(self) -> tuple[bytes, int] | None:
        """The next block of complete lines, and the offset after them; None: no more now."""
        if self.source is None:
            return None
        if self._blocks is None:
            self._blocks = self.source.read()
        for block in self._blocks:
            return block, self.offset()
        self._blocks = None
        return None

    def offset(self) -> int:
        """Where the lines sent so far end in the file: what a reconnection resumes at."""
        if self.source is None:
            return 0
        reader = self.source.reader
        return reader.line_end  # a line without its newline yet is not sent yet

    def finish(self) -> tuple[bytes, int]:
        """A last line left without a newline, once the attempt has ended."""
        if self.source is None:
            return b"", 0
        rest = self.source.finish()
        return rest, self.source.reader.position

    def ended(self) -> dict[str, Any] | None:
        """The attempt's outcome once it has ended (or the task, the run, without it)."""
        attempt = self.attempt
        with self.db.read() as conn:
            run = store.get_run(conn, run_id=attempt.run_id)
            rows = store.load_attempts(conn, run_id=attempt.run_id, task_name=attempt.task)
            task = next(
                t
                for t in store.load_task_runs(conn, run_id=attempt.run_id)
                if t["name"] == attempt.task
            )
        row = next((r for r in rows if r["number"] == attempt.number), None)
        running = row is not None and row["status"] == AttemptState.RUNNING
        waiting = row is None and task["status"] not in TASK_TERMINAL
        if (running or waiting) and run["status"] not in RUN_TERMINAL:
            return None
        return {
            "attempt": attempt.number,
            "status": row["status"] if row is not None else task["status"],
            "exit_code": row["exit_code"] if row is not None else None,
            "attempts": task["attempts"],  # a retry may have begun a newer one
        }


async def follow_log(
    follower: LogFollower, config: StreamConfig, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[ServerSentEvent]:
    """``event: log`` per block of new lines until the attempt ends, then ``event: end``."""
    checked = -math.inf
    try:
        while True:
            wrote = await _send_new(follower)
            for event in wrote:
                yield event
            if clock() - checked >= config.log_check:
                checked = clock()
                try:
                    outcome = await anyio.to_thread.run_sync(follower.ended)
                except (StoreError, SQLAlchemyError) as err:
                    log.warning("log stream: the store did not answer: %s", err)
                    outcome = None
                if outcome is not None:
                    # The attempt's process has exited: its log is complete.
                    async for event in _send_rest(follower, outcome):
                        yield event
                    return
            if not wrote:
                await anyio.sleep(config.log_poll)
    except (CubeError, SearchTooSlow) as err:  # a bad secrets file: show nothing unmasked
        yield ServerSentEvent(event="error", data=json.dumps({"message": str(err)}))


async def _send_new(follower: LogFollower) -> list[ServerSentEvent]:
    await anyio.to_thread.run_sync(follower.open)
    events = []
    for _ in range(BLOCKS_PER_TURN):
        if follower.grep is not None:
            follower.grep.fresh_budget()
        piece = await anyio.to_thread.run_sync(follower.read)
        if piece is None:
            break
        events.append(_log_event(*piece))
    return events


async def _send_rest(
    follower: LogFollower, outcome: dict[str, Any]
) -> AsyncIterator[ServerSentEvent]:
    while wrote := await _send_new(follower):
        for event in wrote:
            yield event
    rest, offset = await anyio.to_thread.run_sync(follower.finish)
    if rest:
        yield _log_event(rest, offset)
    yield ServerSentEvent(event="end", data=json.dumps(outcome), id=str(follower.offset()))


def _log_event(block: bytes, offset: int) -> ServerSentEvent:
    text = block.decode("utf-8", "replace").removesuffix("\n")
    return ServerSentEvent(data=text, event="log", id=str(offset))
