"""`cube logs`: print or follow task logs, streamed from the attempt's log file in chunks
(never read whole into memory)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cubestudio.drivers.local import attempt_dir
from cubestudio.engine.launcher import AttemptKey
from cubestudio.engine.states import RUN_TERMINAL, TASK_TERMINAL
from cubestudio.errors import NotFoundError
from cubestudio.spec.render import suggest
from cubestudio.store import runs as store
from cubestudio.store.db import Database

CHUNK = 64 * 1024


@dataclass
class _Source:
    task: str
    attempt: int
    path: Path
    prefix: bytes
    handle: BinaryIO | None = None
    partial: bytes = field(default=b"")

    def read_new(self, out: BinaryIO) -> bool:
        """Write the complete new lines; True when something was written."""
        if self.handle is None:
            try:
                self.handle = open(self.path, "rb")  # noqa: SIM115 - kept open while following
            except FileNotFoundError:
                return False
        wrote = False
        while chunk := self.handle.read(CHUNK):
            data = self.partial + chunk
            cut = data.rfind(b"\n") + 1
            self.partial = data[cut:]
            if cut:
                self._emit(out, data[:cut])
                wrote = True
            if len(self.partial) > CHUNK:  # a very long line: pass it through
                self._emit(out, self.partial)
                self.partial = b""
        return wrote

    def flush(self, out: BinaryIO) -> None:
        if self.partial:
            self._emit(out, self.partial + b"\n")
            self.partial = b""
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def _emit(self, out: BinaryIO, data: bytes) -> None:
        if not self.prefix:
            out.write(data)
            return
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        out.write(b"".join(self.prefix + line + b"\n" for line in lines))


def show_logs(
    db: Database,
    runs_dir: Path,
    run_id: str,
    task: str | None,
    *,
    follow: bool,
    attempt: int | None,
) -> None:
    out = sys.stdout.buffer
    with db.begin() as conn:
        run = store.get_run(conn, run_id=run_id)
        tasks = store.load_task_runs(conn, run_id=run["id"])
    run_id = run["id"]
    names = [row["name"] for row in tasks]
    if task is not None and task not in names:
        raise NotFoundError(f"run {run_id} has no task '{task}'{suggest(task, names)}")
    chosen = [row for row in tasks if task is None or row["name"] == task]
    width = max((len(row["name"]) for row in chosen), default=0)
    sources: dict[str, _Source] = {}
    for row in chosen:
        number = attempt if attempt is not None else row["attempts"]
        if number < 1:
            continue
        if attempt is not None and number > row["attempts"]:
            raise NotFoundError(
                f"task '{row['name']}' has {row['attempts']} attempt(s); there is no attempt "
                f"{number}"
            )
        sources[row["name"]] = _source(runs_dir, run_id, row["name"], number, task, width)
    for source in sources.values():
        source.read_new(out)
    if not follow or attempt is not None:
        for source in sources.values():
            source.flush(out)
        out.flush()
        return
    _follow(db, runs_dir, run_id, task, width, sources, out)


def _source(
    runs_dir: Path, run_id: str, name: str, number: int, task: str | None, width: int
) -> _Source:
    path = attempt_dir(runs_dir, AttemptKey(run_id, name, number)) / "log"
    prefix = b"" if task is not None else f"{name:<{width}} | ".encode()
    return _Source(name, number, path, prefix)


def _follow(
    db: Database,
    runs_dir: Path,
    run_id: str,
    task: str | None,
    width: int,
    sources: dict[str, _Source],
    out: BinaryIO,
) -> None:
    last_check = 0.0
    finished = False
    while True:
        wrote = False
        for source in sources.values():  # read every source: no short circuit
            wrote = source.read_new(out) or wrote
        out.flush()
        if time.monotonic() - last_check > 0.3:
            last_check = time.monotonic()
            with db.begin() as conn:
                run = store.get_run(conn, run_id=run_id)
                rows = store.load_task_runs(conn, run_id=run_id)
            for row in rows:
                if task is not None and row["name"] != task:
                    continue
                current = sources.get(row["name"])
                if row["attempts"] and (current is None or current.attempt < row["attempts"]):
                    if current is not None:
                        current.read_new(out)
                        current.flush(out)
                    sources[row["name"]] = _source(
                        runs_dir, run_id, row["name"], row["attempts"], task, width
                    )
            watched = [r for r in rows if task is None or r["name"] == task]
            if finished:
                break
            finished = run["status"] in RUN_TERMINAL or all(
                r["status"] in TASK_TERMINAL for r in watched
            )
            continue  # one more read of every file after the end was seen
        if not wrote:
            time.sleep(0.1)
    for source in sources.values():
        source.read_new(out)
        source.flush(out)
    out.flush()
