"""`cube runs`: the run history (`cube runs --json` is part of the contract), and
`cube runs delete RUN...` for runs made by mistake.

`cube runs` is a group that lists when no subcommand follows, so `cube runs`, `cube runs
--json` and `cube runs --all` behave as they did when it was a plain command.
"""

from __future__ import annotations

from typing import Annotated

import typer

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
    from cubestudio.store import queues as queue_store
    from cubestudio.store import runs as store

    db = open_db()
    with db.begin() as conn:
        rows = store.list_runs(conn, limit=limit, pipeline=pipeline, include_debug=all_)
        running = [row["id"] for row in rows if row["status"] == "running"]
        waiting = queue_store.waiting_reasons(conn, run_ids=running)
    items = [
        {
            "run_id": row["id"],
            "pipeline": row["pipeline_name"],
            "status": row["status"],
            "trigger": row["trigger"],
            "created_at": row["created_at"].isoformat(),
            # why a task waits for admission (F13); absent otherwise: the contract's keys
            **({"waiting": waiting[row["id"]]} if row["id"] in waiting else {}),
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
    from cubestudio.cli.setup import open_artifacts, open_db
    from cubestudio.engine.deletion import delete_runs

    db = open_db()
    open_artifacts()  # an artifact store that cannot be opened fails before any row goes
    deleted = delete_runs(db, run_ids=run_ids)
    remove_run_files(deleted)
    print_deleted(deleted, json_out=json_out)


def print_deleted(deleted: list[str], *, json_out: bool) -> None:
    """What `cube runs delete` prints (local or on a server)."""
    from cubestudio.cli.output import print_json

    if json_out:
        print_json({"deleted": deleted})
        return
    for run_id in deleted:
        typer.echo(f"deleted run {run_id}")


def remove_run_files(run_ids: list[str]) -> None:
    """After their rows are gone: the runs' files (engine/deletion.py), from this store."""
    from cubestudio.cli.setup import open_artifacts
    from cubestudio.engine.deletion import remove_run_files as remove
    from cubestudio.settings import get_settings

    if not run_ids:
        return
    settings = get_settings()
    remove(
        run_ids=run_ids,
        artifacts=open_artifacts(settings),
        runs_dir=settings.runs_dir,
        home_dir=settings.home_dir,
    )
