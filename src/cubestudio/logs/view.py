"""A run's logs as a stream of output bytes: which attempts to show, from where, in which
order, and when following stops. The CLI prints what ``LogStream.chunks`` yields; an API
server can send the same chunks.

Order: without following, the tasks' logs are merged in time order where the engine kept a
time index (``log.index``), at its granularity; logs without one come first, task by task in
the pipeline's order. Following, lines are written as they arrive from any task.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import RowMapping

from cubestudio.drivers.local import attempt_dir
from cubestudio.engine.launcher import AttemptKey
from cubestudio.engine.states import RUN_TERMINAL, TASK_TERMINAL, AttemptState
from cubestudio.errors import NotFoundError
from cubestudio.logs.grep import LineFilter
from cubestudio.logs.index import has_index, offset_since, read_marks
from cubestudio.logs.mask import Masker, load_secrets
from cubestudio.logs.reader import line_start_at_or_after
from cubestudio.logs.source import Source, open_source
from cubestudio.store import runs as store
from cubestudio.store.db import Database

CHECK_EVERY = 0.3  # seconds between looks at the store while following
POLL = 0.1  # seconds to wait when no log grew


@dataclass(frozen=True)
class LogRequest:
    run_id: str
    task: str | None = None  # every task when None
    attempt: int | None = None  # the latest when None
    follow: bool = False
    tail: int | None = None  # the last N lines of each log shown, then (following) the rest
    grep: LineFilter | None = None
    since: float | None = None  # unix seconds: only what was written at or after this
    worker: str | None = None  # a distributed task's worker (rank or name): its own log


@dataclass
class _Shown:
    """The attempt of a task being shown; no source when it is outside the --since window."""

    task: str
    number: int
    order: int  # the task's place in the pipeline, for ties in the merge
    folder: Path
    source: Source | None
    end_time: float = math.inf  # when the attempt finished, for the merge


class _Segment(NamedTuple):
    """Log bytes up to ``limit`` (the end when None) were written by ``when``."""

    when: float
    order: int
    limit: int | None
    shown: _Shown


def open_logs(
    db: Database,
    runs_dir: Path,
    request: LogRequest,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> LogStream:
    """Check the request against the store (run, task, attempt) and ready every source:
    a mistake is raised here, before any output."""
    with db.begin() as conn:
        run = store.get_run(conn, run_id=request.run_id)
        tasks = store.load_task_runs(conn, run_id=run["id"])
        attempts = store.load_attempts(conn, run_id=run["id"], task_name=request.task)
    chosen = _chosen(run["id"], tasks, request)
    stream = LogStream(db, runs_dir, run["id"], request, chosen, sleep=sleep, clock=clock)
    times = {(row["task_name"], row["number"]): row for row in attempts}
    for row in tasks:
        number = request.attempt or row["attempts"]
        if row["name"] in stream.orders and 1 <= number <= row["attempts"]:
            stream.show(row["name"], number, attempt=times.get((row["name"], number)))
    return stream


def _chosen(run_id: str, tasks: list[RowMapping], request: LogRequest) -> list[str]:
    names = [row["name"] for row in tasks]
    if request.task is None:
        if request.attempt and not any(row["attempts"] >= request.attempt for row in tasks):
            raise NotFoundError(f"no task of run {run_id} has an attempt {request.attempt}")
        return names
    if request.task not in names:
        # Imported here: the spec package brings YAML and Jinja, 0.2 s that a log read skips.
        from cubestudio.spec.render import suggest

        raise NotFoundError(
            f"run {run_id} has no task '{request.task}'{suggest(request.task, names)}"
        )
    row = tasks[names.index(request.task)]
    if request.attempt is not None and request.attempt > row["attempts"]:
        raise NotFoundError(
            f"task '{row['name']}' has {row['attempts']} attempt(s); there is no attempt "
            f"{request.attempt}"
        )
    return [request.task]


def worker_log(folder: Path, request: LogRequest) -> Path:
    """The log of the worker ``request.worker`` (a rank or a name such as worker-1) of the
    distributed task's attempt in ``folder``. NotFoundError when there is no such worker."""
    import json

    from cubestudio.engine.distributed import LaunchPlan

    try:
        data = json.loads((folder / "gang.json").read_text())
    except (OSError, ValueError):
        raise NotFoundError(
            f"task '{request.task}' is not a distributed task (or this attempt never "
            "started): it has no workers; leave out --worker"
        ) from None
    plan = LaunchPlan.from_data(data.get("plan"))
    return folder / "workers" / plan.worker(str(request.worker)).name / "log"


class LogStream:
    """The attempts shown (one per task) and how their output is produced; made by
    ``open_logs``, consumed through ``chunks``."""

    def __init__(
        self,
        db: Database,
        runs_dir: Path,
        run_id: str,
        request: LogRequest,
        tasks: list[str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.runs_dir = runs_dir
        self.run_id = run_id
        self.request = request
        self.orders = {name: order for order, name in enumerate(tasks)}
        self.shown: dict[str, _Shown] = {}
        self.masker = Masker(load_secrets(runs_dir / run_id))
        self._width = max((len(name) for name in tasks), default=0)
        self._sleep = sleep
        self._clock = clock

    def show(
        self, task: str, number: int, *, attempt: RowMapping | None, first: bool = True
    ) -> None:
        """Show this attempt of the task from now on; ``first``: the request's --since and
        --tail apply (a later attempt, seen while following, is shown whole)."""
        folder = attempt_dir(self.runs_dir, AttemptKey(self.run_id, task, number))
        finished = attempt["finished_at"] if attempt is not None else None
        shown = _Shown(task, number, self.orders[task], folder, None)
        if finished is not None:
            shown.end_time = finished.timestamp()
        log = folder / "log" if self.request.worker is None else worker_log(folder, self.request)
        lower = self._since_offset(folder, shown.end_time) if first else 0
        if lower is not None and log != folder / "log":
            lower = 0  # a worker's log has no time index: the attempt overlaps the window
        if lower is not None:
            shown.source = open_source(
                log,
                masker=self.masker,
                grep=self.request.grep,
                prefix=self._prefix(task),
                lower=lower,
                tail=self.request.tail if first else None,
            )
        self.shown[task] = shown

    def chunks(self) -> Iterator[bytes]:
        """The output, in chunks of whole lines; following, until the watched tasks end."""
        yield from self._merged(finish=not self.request.follow)
        if self.request.follow:
            yield from self._follow()

    # -- what is there now ----------------------------------------------------------------
    def _merged(self, *, finish: bool) -> Iterator[bytes]:
        segments = [_segments(shown) for shown in self.shown.values() if shown.source]
        for segment in heapq.merge(*segments, key=lambda s: (s.when, s.order)):
            source = segment.shown.source
            assert source is not None
            yield from source.read(segment.limit)
            if finish and segment.limit is None and (rest := source.finish()):
                yield rest

    def _since_offset(self, folder: Path, end_time: float) -> int | None:
        """Where the --since window starts in this attempt's log; None: it ended before."""
        since = self.request.since
        if since is None:
            return 0
        if end_time < since:
            return None
        if not has_index(folder):
            return 0  # an older run: the attempt overlaps the window, so all of it
        return line_start_at_or_after(folder / "log", offset_since(folder, since))

    def _prefix(self, task: str) -> bytes:
        return b"" if self.request.task is not None else f"{task:<{self._width}} | ".encode()

    # -- following --------------------------------------------------------------------------
    def _follow(self) -> Iterator[bytes]:
        checked = -math.inf
        while True:
            wrote = False
            for shown in list(self.shown.values()):
                for chunk in shown.source.read() if shown.source else ():
                    wrote = True
                    yield chunk
            if self._clock() - checked >= CHECK_EVERY:
                checked = self._clock()
                ended, newer = self._look()
                for task, number in newer:
                    yield from self._switch(task, number)
                if ended:
                    break
            elif not wrote:
                self._sleep(POLL)
        # The store said the work ended, so its processes and the engine's notes have written
        # everything: one last read of every log is complete.
        for shown in self.shown.values():
            yield from self._close(shown)

    def _look(self) -> tuple[bool, list[tuple[str, int]]]:
        """Whether everything watched has ended, and the tasks that began a newer attempt."""
        with self.db.begin() as conn:
            run = store.get_run(conn, run_id=self.run_id)
            rows = [
                r
                for r in store.load_task_runs(conn, run_id=self.run_id)
                if r["name"] in self.orders
            ]
            attempts = store.load_attempts(conn, run_id=self.run_id, task_name=self.request.task)
        if self.request.attempt is not None:  # pinned to one attempt: it alone matters
            pinned = [
                a
                for a in attempts
                if a["number"] == self.request.attempt and a["task_name"] in self.shown
            ]
            ended = all(a["status"] != AttemptState.RUNNING for a in pinned)
            return run["status"] in RUN_TERMINAL or ended, []
        newer = [
            (r["name"], r["attempts"])
            for r in rows
            if r["attempts"] > (self.shown[r["name"]].number if r["name"] in self.shown else 0)
        ]
        ended = all(r["status"] in TASK_TERMINAL for r in rows)
        return run["status"] in RUN_TERMINAL or ended, newer

    def _switch(self, task: str, number: int) -> Iterator[bytes]:
        if (old := self.shown.get(task)) is not None:
            yield from self._close(old)
        # The engine keeps a run's secrets when it starts driving it, which can be after this
        # follower opened (a scheduled run, `cube debug`): a new attempt masks with those.
        self.masker = Masker(load_secrets(self.runs_dir / self.run_id))
        self.show(task, number, attempt=None, first=False)

    @staticmethod
    def _close(shown: _Shown) -> Iterator[bytes]:
        if shown.source is not None:
            yield from shown.source.read()
            if rest := shown.source.finish():
                yield rest


def _segments(shown: _Shown) -> Iterator[_Segment]:
    """The log's segments in time order: one per index mark, then the rest up to the end."""
    if not has_index(shown.folder):
        yield _Segment(-math.inf, shown.order, None, shown)
        return
    for mark in read_marks(shown.folder):
        yield _Segment(mark.when, shown.order, mark.size, shown)
    yield _Segment(shown.end_time, shown.order, None, shown)
