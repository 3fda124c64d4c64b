"""`cube`: the command line. Thin commands over the spec, store and engine layers."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from cubestudio.errors import CubeError, SpecError, StateError
from cubestudio.settings import get_settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Cube Studio: compose, run, debug and schedule ML pipelines.",
)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout when the run ends.")
]
RunArg = Annotated[str, typer.Argument(help="A run id (or a unique prefix of one).")]


@app.command()
def init() -> None:
    """Create $CUBE_HOME and bring the database schema up to date."""
    from cubestudio.cli.setup import open_db

    settings = get_settings()
    db = open_db(settings)
    typer.echo(f"cube home: {settings.home_dir}\ndatabase:  {db.display_url}")


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="A pipeline file (.yaml, .json, .py).")],
) -> None:
    """Check a pipeline file: prints `ok`, or one line per problem and exits 2. Tasks that
    use job templates have their args checked against the registry."""
    from cubestudio.cli.setup import LazyCatalog
    from cubestudio.spec.loader import load_pipeline

    try:
        load_pipeline(file, LazyCatalog())
    except SpecError as err:
        for line in err.errors:
            typer.echo(str(line))
        raise typer.Exit(2) from None
    typer.echo("ok")


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="A pipeline file (.yaml, .json, .py).")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Override a parameter: NAME=VALUE.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Run a pipeline on this machine, with live progress on a terminal."""
    from cubestudio.cli.setup import LazyCatalog, open_db
    from cubestudio.engine.lifecycle import create_run, resolve_secrets
    from cubestudio.engine.loop import utcnow
    from cubestudio.spec.loader import load_pipeline
    from cubestudio.spec.params import parse_assignments, resolve_params
    from cubestudio.spec.validate import resolve_templates

    catalog = LazyCatalog()
    spec = load_pipeline(file, catalog)
    params = resolve_params(spec, parse_assignments(param or []))
    templates = resolve_templates(spec, catalog)
    secrets = resolve_secrets(spec, os.environ)
    db = open_db()
    run_id = create_run(db, spec=spec, params=params, now=utcnow(), templates=templates)
    drive_run(db, run_id, json_out=json_out, secrets=secrets)


@app.command()
def runs(
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many runs to list.")] = 50,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline's runs.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Debug runs too.")] = False,
) -> None:
    """Run history, newest first (debug runs only with --all)."""
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


@app.command()
def show(run_id: RunArg, json_out: JsonOption = False) -> None:
    """A run's status and its tasks."""
    from cubestudio.cli.output import print_json, print_run_summary
    from cubestudio.cli.setup import open_db
    from cubestudio.engine.lifecycle import get_run, summary

    db = open_db()
    run = get_run(db, run_id)
    result = summary(db, run["id"])
    print_json(result) if json_out else print_run_summary(result, run["pipeline_name"])


@app.command()
def logs(
    run_id: RunArg,
    task: Annotated[str | None, typer.Argument(help="The task; all tasks when left out.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Follow until it ends.")] = False,
    tail: Annotated[
        int | None,
        typer.Option(
            "--tail",
            "-n",
            min=0,
            metavar="N",
            help="Only the last N lines of each log (then follow, -f).",
        ),
    ] = None,
    grep: Annotated[
        str | None,
        typer.Option(
            "--grep",
            "-g",
            metavar="REGEX",
            help="Only lines matching this Python regular expression.",
        ),
    ] = None,
    attempt: Annotated[
        int | None, typer.Option(min=1, help="This attempt, not the latest.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION", help="Only lines written in the last DURATION, e.g. 30s, 10m, 1h."
        ),
    ] = None,
) -> None:
    """Print a task's log (every task's, prefixed, without TASK). Secrets are masked."""
    from cubestudio.cli.logs import show_logs
    from cubestudio.cli.setup import open_db

    show_logs(
        open_db(),
        get_settings().runs_dir,
        run_id,
        task,
        follow=follow,
        attempt=attempt,
        tail=tail,
        grep=grep,
        since=since,
        now=time.time(),
    )


@app.command()
def stop(
    run_id: RunArg,
    wait: Annotated[bool, typer.Option(help="Wait until the run has stopped.")] = True,
) -> None:
    """Stop a run: its tasks get SIGTERM, then SIGKILL after the grace period."""
    from cubestudio.cli.setup import open_db
    from cubestudio.engine.lifecycle import engine_alive, get_run
    from cubestudio.engine.states import RUN_TERMINAL
    from cubestudio.store import runs as store

    db = open_db()
    run = get_run(db, run_id)
    if run["status"] in RUN_TERMINAL:
        typer.echo(f"run {run['id']} already ended: {run['status']}", err=True)
        return
    with db.begin() as conn:
        store.request_stop(conn, run_id=run["id"])
    if not engine_alive(run):
        # Nobody drives the run: adopt it here and drive the stop to its end.
        drive_run(db, run["id"], json_out=False, quiet=True)
        return
    os.kill(run["engine_pid"], signal.SIGUSR1)
    typer.echo(f"stop requested for run {run['id']}", err=True)
    deadline = time.monotonic() + get_settings().kill_grace + 30
    while wait and time.monotonic() < deadline:
        status = get_run(db, run["id"])["status"]
        if status in RUN_TERMINAL:
            typer.echo(f"run {run['id']} {status}", err=True)
            return
        time.sleep(0.2)


@app.command()
def retry(run_id: RunArg, json_out: JsonOption = False) -> None:
    """Run the failed, upstream_failed and stopped tasks again, keeping what succeeded.

    New attempts are added to the same run; earlier attempts and their logs stay."""
    _restart(run_id, None, json_out)


@app.command()
def rerun(
    run_id: RunArg,
    from_task: Annotated[str, typer.Option("--from", help="Re-run this task and its descendants.")],
    json_out: JsonOption = False,
) -> None:
    """Run TASK and everything downstream of it again, in the same run."""
    _restart(run_id, from_task, json_out)


@app.command()
def resume(run_id: RunArg, json_out: JsonOption = False) -> None:
    """Adopt a run whose engine process died, and finish it (tasks never start twice)."""
    from cubestudio.cli.setup import open_db
    from cubestudio.engine.lifecycle import engine_alive, get_run

    db = open_db()
    run = get_run(db, run_id)
    if engine_alive(run):
        raise StateError(
            f"run {run['id']} is still driven by process {run['engine_pid']}; nothing to resume"
        )
    drive_run(db, run["id"], json_out=json_out)


def _register_commands() -> None:
    from cubestudio.cli import artifacts, debug, templates

    app.add_typer(templates.app, name="template")
    app.command()(artifacts.artifacts)
    app.command()(debug.debug)


_register_commands()


def follow_log(run_id: str, task: str) -> None:
    """Stream one task's log to stdout until it ends (for `cube debug`)."""
    from cubestudio.cli.logs import show_logs
    from cubestudio.cli.setup import open_db

    show_logs(open_db(), get_settings().runs_dir, run_id, task, follow=True, now=time.time())


def _restart(run_id: str, from_task: str | None, json_out: bool) -> None:
    from cubestudio.cli.setup import open_artifacts, open_db, open_driver
    from cubestudio.engine import lifecycle
    from cubestudio.engine.loop import utcnow

    db = open_db()
    run = lifecycle.get_run(db, run_id)
    driver = open_driver()
    controller = lifecycle.load_controller(
        db,
        driver,
        run["id"],
        kill_grace=get_settings().kill_grace,
        artifacts=open_artifacts(),
        environ=os.environ,
    )
    lifecycle.check_can_restart(controller, run, "retry" if from_task is None else "rerun")
    if from_task is None:
        names = lifecycle.retry_tasks(controller)
    else:
        names = lifecycle.rerun_tasks(controller, from_task)
    controller.reset(names, utcnow())
    drive_run(db, run["id"], json_out=json_out, controller=controller, driver=driver)


def drive_run(
    db: Any,
    run_id: str,
    *,
    json_out: bool,
    quiet: bool = False,
    controller: Any = None,
    driver: Any = None,
    after: Callable[[], None] | None = None,
    secrets: dict[str, str] | None = None,
) -> None:
    """Drive a run to its end in this process, then print its summary and exit with the
    contract's code."""
    from cubestudio.cli.output import print_json, print_run_summary
    from cubestudio.cli.progress import Progress
    from cubestudio.cli.setup import open_artifacts, open_driver
    from cubestudio.engine.lifecycle import load_controller, summary
    from cubestudio.engine.loop import drive

    settings = get_settings()
    driver = driver or open_driver(settings)
    if controller is None:
        controller = load_controller(
            db,
            driver,
            run_id,
            kill_grace=settings.kill_grace,
            artifacts=open_artifacts(settings),
            secrets=secrets,
            environ=os.environ,
        )
    with Progress(enabled=None if not quiet else False) as progress:
        drive(controller, driver, on_turn=progress.update)
    if after is not None:
        after()
    result = summary(db, controller.run_id)
    if json_out:
        print_json(result)
    elif not quiet:
        print_run_summary(result, controller.spec.name)
    else:
        typer.echo(f"run {result['run_id']} {result['status']}", err=True)
    raise typer.Exit(0 if result["status"] == "succeeded" else 1)


def _register_schedule_commands() -> None:
    from cubestudio.cli.schedule import register

    register(app)


_register_schedule_commands()


def main() -> None:
    """Entry point: every CubeError becomes one line on stderr and a non-zero exit."""
    try:
        app()
    except SpecError as err:
        for line in err.errors:
            sys.stderr.write(f"error: {line}\n")
        sys.exit(err.exit_code)
    except CubeError as err:
        sys.stderr.write(f"error: {err}\n")
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:  # never a traceback at a user
        if os.environ.get("CUBE_DEBUG"):
            raise
        sys.stderr.write(
            f"internal error: {type(err).__name__}: {err} (CUBE_DEBUG=1 shows the traceback)\n"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
