"""`cube logs`: turns the command line into a log request and writes what it yields.
The reading, tailing, filtering, following and masking live in ``cubestudio.logs``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from cubestudio.engine.states import TASK_TERMINAL
from cubestudio.errors import CubeError
from cubestudio.logs.grep import LineFilter
from cubestudio.logs.view import LogRequest, open_logs
from cubestudio.store import runs as store
from cubestudio.store.db import Database


def show_logs(
    db: Database,
    runs_dir: Path,
    run_id: str,
    task: str | None,
    *,
    follow: bool = False,
    attempt: int | None = None,
    tail: int | None = None,
    grep: str | None = None,
    since: str | None = None,
    worker: str | None = None,
    now: float,
) -> None:
    if worker is not None and task is None:
        raise typer.BadParameter(
            "give the TASK too: cube logs RUN TASK --worker 1", param_hint="--worker"
        )
    request = LogRequest(
        run_id=run_id,
        task=task,
        attempt=attempt,
        follow=follow,
        tail=tail,
        grep=_line_filter(grep),
        since=now - _duration(since) if since is not None else None,
        worker=worker,
    )
    stream = open_logs(db, runs_dir, request)
    if task is not None and task not in stream.shown:
        _never_ran(db, stream.run_id, task, follow=follow)
    out = sys.stdout.buffer
    try:
        for chunk in stream.chunks():
            out.write(chunk)
            if follow:
                out.flush()  # a follower wants each line when it arrives
        out.flush()
    except BrokenPipeError:
        # `cube logs ... | head`: the reader has all it wanted. Point stdout at /dev/null so
        # that the interpreter's own flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _never_ran(db: Database, run_id: str, task: str, *, follow: bool) -> None:
    """A task with no attempt has no log: say why on stderr and exit 1, as there is nothing
    to show (2 is for a mistake in the command, and there is none). Following a task that
    has yet to start waits for its first attempt instead."""
    with db.begin() as conn:
        row = next(r for r in store.load_task_runs(conn, run_id=run_id) if r["name"] == task)
    no_log(task, row["status"], row["message"], follow=follow)


def no_log(task: str, status: str, message: str | None, *, follow: bool) -> None:
    """Why a task without an attempt has no log, on stderr, and exit 1 (the local and the
    remote `cube logs`); following one yet to start returns, to wait for it."""
    if follow and status not in TASK_TERMINAL:
        return
    why = f": {message}" if message else ""
    if status in TASK_TERMINAL:
        text = f"task {task} never ran (it is {status}{why}), so it has no log"
    else:
        text = f"task {task} has not started yet (it is {status}{why}); -f waits for its log"
    sys.stderr.write(text + "\n")
    raise typer.Exit(1)


def _line_filter(pattern: str | None) -> LineFilter | None:
    if pattern is None:
        return None
    try:
        return LineFilter(pattern)
    except ValueError as err:
        raise CubeError(f"--grep: {err}") from None


def _duration(text: str) -> float:
    # Imported here: the spec package brings YAML and Jinja, 0.2 s that a log read skips.
    from cubestudio.spec.quantities import parse_duration

    try:
        return parse_duration(text)
    except ValueError as err:
        raise CubeError(f"--since: {err}") from None
