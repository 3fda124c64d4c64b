"""Deleting ended runs (`cube runs delete`, DELETE /runs/{id}): their rows first, in one
transaction, all or none; then their files (attempt folders and logs, the scheduler's log of
the run, what the artifact store kept), which nothing reads once the rows are gone.

A run that has not ended is refused with a sentence that says how to end it; so is an ended
run a live process on this host is starting again (a retry)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from cubestudio.engine.artifacts import ArtifactStore
from cubestudio.engine.lifecycle import engine_alive
from cubestudio.engine.states import RUN_TERMINAL
from cubestudio.errors import StateError
from cubestudio.store import runs as store
from cubestudio.store.db import Database

ENDED = [state.value for state in RUN_TERMINAL]


def not_ended(run_id: str, status: str) -> StateError:
    """The refusal for a run that has not ended."""
    return StateError(
        f"run {run_id} is {status}: stop it first (`cube stop {run_id}`), "
        "then delete it; nothing was deleted"
    )


def delete_runs(db: Database, *, run_ids: Sequence[str]) -> list[str]:
    """Delete the runs' rows (ids or unique prefixes) in one transaction: all of them, or
    none when one is unknown or has not ended. Returns their full ids."""
    deleted: list[str] = []
    with db.begin() as conn:
        for given in run_ids:
            run = dict(store.get_run(conn, run_id=given))
            if run["id"] in deleted:
                continue
            if run["status"] in ENDED and engine_alive(run):  # a retry is starting it again
                raise StateError(
                    f"run {run['id']} is being restarted by process {run['engine_pid']}: "
                    f"wait for it to end, or `cube stop {run['id']}`; nothing was deleted"
                )
            status = store.delete_run(conn, run_id=run["id"], statuses=ENDED)
            if status not in ENDED:
                raise not_ended(run["id"], str(status))
            deleted.append(run["id"])
    return deleted


def remove_run_files(
    *, run_ids: Sequence[str], artifacts: ArtifactStore, runs_dir: Path, home_dir: Path
) -> None:
    """After their rows are gone: each run's attempt folders and logs, its scheduler log,
    and what the artifact store kept for it."""
    from cubestudio.artifacts.purge import delete_run_artifacts

    for run_id in run_ids:
        delete_run_artifacts(artifacts, run_id)  # refuses an id that is not a plain name
        shutil.rmtree(runs_dir / run_id, ignore_errors=True)
        (home_dir / "scheduler" / "logs" / f"{run_id}.log").unlink(missing_ok=True)
