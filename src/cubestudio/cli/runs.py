"""`cube runs`: the run history (`cube runs --json` is part of the contract), and
`cube runs delete RUN...` for runs made by mistake.

`cube runs` is a group that lists when no subcommand follows, so `cube runs`, `cube runs
--json` and `cube runs --all` behave as they did when it was a plain command.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Annotated

import typer

from cubestudio.errors import StateError

if TYPE_CHECKING:
    from cubestudio.store.db import Database

runs_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@runs_app.callback()
def runs(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many runs to list.")] = 50,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline's runs.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Debug runs too.")] = False,
) -> None:
    """Run history, newest first (debug runs only with --all).

    `cube runs delete RUN...` deletes ended runs."""
    if ctx.invoked_subcommand is not None:
        return
    from cubestudio.cli.output import print_json, print_runs
    from cubestudio.cli.setup import open_db
    from cubestudio.store import runs as store

    db = open_db()
    with db.begin() as conn:
        rows = store.list_runs(conn, limit=limit, pipeline=pipeline, include_debug=all_)
    items = [
        {
            "run_id": row["id"],
            "pipeline": row["pipeline_name"],
            "status": row["status"],
            "trigger": row["trigger"],
            "created_at": row["created_at"].isoformat(),
        }
        for row in rows
    ]
    print_json(items) if json_out else print_runs(items)


@runs_app.command()
def delete(
    run_ids: Annotated[
        list[str],
        typer.Argument(metavar="RUN", help="Run ids (or unique prefixes of them)."),
    ],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: the deleted run ids.")
    ] = False,
) -> None:
    """Delete ended runs: their rows, attempt folders and logs, and their artifacts.

    A run that has not ended is refused (`cube stop RUN` first), and then nothing is deleted.
    Scheduled runs that never started: `cube schedule clear PIPELINE`."""
    from cubestudio.cli.output import print_json
    from cubestudio.cli.setup import open_artifacts, open_db

    db = open_db()
    open_artifacts()  # an artifact store that cannot be opened fails before any row goes
    deleted = delete_runs(db, run_ids)
    remove_run_files(deleted)
    if json_out:
        print_json({"deleted": deleted})
        return
    for run_id in deleted:
        typer.echo(f"deleted run {run_id}")


def delete_runs(db: Database, run_ids: list[str]) -> list[str]:
    """Delete the runs' rows in one transaction: all of them, or none when one is unknown
    or has not ended. Returns their full ids."""
    from cubestudio.engine.lifecycle import engine_alive
    from cubestudio.engine.states import RUN_TERMINAL
    from cubestudio.store import runs as store

    ended = [state.value for state in RUN_TERMINAL]
    deleted: list[str] = []
    with db.begin() as conn:
        for given in run_ids:
            run = dict(store.get_run(conn, run_id=given))
            if run["id"] in deleted:
                continue
            if run["status"] in ended and engine_alive(run):  # a retry is starting it again
                raise StateError(
                    f"run {run['id']} is being restarted by process {run['engine_pid']}: "
                    f"wait for it to end, or `cube stop {run['id']}`; nothing was deleted"
                )
            status = store.delete_run(conn, run_id=run["id"], statuses=ended)
            if status not in ended:
                raise StateError(
                    f"run {run['id']} is {status}: stop it first (`cube stop {run['id']}`), "
                    "then delete it; nothing was deleted"
                )
            deleted.append(run["id"])
    return deleted


def remove_run_files(run_ids: list[str]) -> None:
    """After their rows are gone: each run's attempt folders and logs, its scheduler log,
    and what the artifact store kept for it."""
    from cubestudio.artifacts.purge import delete_run_artifacts
    from cubestudio.cli.setup import open_artifacts
    from cubestudio.settings import get_settings

    if not run_ids:
        return
    settings = get_settings()
    artifacts = open_artifacts(settings)
    for run_id in run_ids:
        delete_run_artifacts(artifacts, run_id)  # refuses an id that is not a plain name
        shutil.rmtree(settings.runs_dir / run_id, ignore_errors=True)
        (settings.home_dir / "scheduler" / "logs" / f"{run_id}.log").unlink(missing_ok=True)
