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

from cubestudio.cli import remote
from cubestudio.errors import CubeError, SpecError, StateError
from cubestudio.settings import get_settings

app = typer.Typer(
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Cube Studio: compose, run, debug and schedule ML pipelines.",
)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout when the run ends.")
]
RunArg = Annotated[str, typer.Argument(help="A run id (or a unique prefix of one).")]


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"cube {version('cube-studio')}")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    server: remote.ServerOption = None,
    token: remote.TokenOption = None,
    project: remote.ProjectOption = None,
) -> None:
    """The options given before a command (the app's help is the Typer's, above). With a
    server (--server, CUBE_SERVER or `cube login`), the command acts on it (cli/remote.py)."""
    remote.route(ctx, remote.Given(server, token, project, remote.server_source(ctx)))


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
    """Check a pipeline file: prints `ok`, or one line per problem and exits 2.

    Tasks that use job templates have their args checked against the registry."""
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
    from cubestudio.cli.secrets import local_values
    from cubestudio.cli.setup import LazyCatalog, open_db
    from cubestudio.engine.lease import Identity
    from cubestudio.engine.lifecycle import create_run, resolve_secrets
    from cubestudio.engine.loop import utcnow
    from cubestudio.spec.loader import load_pipeline
    from cubestudio.spec.params import parse_assignments, resolve_params
    from cubestudio.spec.validate import resolve_templates

    catalog = LazyCatalog()
    spec = load_pipeline(file, catalog)
    params = resolve_params(spec, parse_assignments(param or []))
    templates = resolve_templates(spec, catalog)
    secrets = resolve_secrets(spec, os.environ, local_values(spec))
    db = open_db()
    run_id = create_run(
        db,
        spec=spec,
        params=params,
        now=utcnow(),
        templates=templates,
        holder=Identity.for_cli(),
        lease_seconds=get_settings().engine_lease,
    )
    drive_run(db, run_id, json_out=json_out, secrets=secrets)


def _register_engine_commands() -> None:
    from cubestudio.cli.engine import engine_app, submit, wait

    app.add_typer(engine_app, name="engine")
    app.command()(submit)
    app.command()(wait)


_register_engine_commands()


def _register_runs() -> None:
    """`cube runs` (the history, as before) is a group since `cube runs delete` came."""
    from cubestudio.cli.runs import runs_app

    app.add_typer(runs_app, name="runs")


_register_runs()


@app.command()
def show(
    run_id: RunArg,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: the run's keys of `cube run --json`, then pipeline, "
            "trigger, execution_date, params, times and message, and each task's message "
            "and value outputs.",
        ),
    ] = False,
) -> None:
    """A run: its facts, tasks, value outputs and, when it failed, why.

    The facts are its pipeline, trigger, execution date, params and duration; each task that
    did not succeed has its reason, and each failed task the last lines of its log."""
    from cubestudio.cli.details import print_details, run_details
    from cubestudio.cli.output import print_json
    from cubestudio.cli.setup import open_db
    from cubestudio.engine.lifecycle import get_run, summary

    db = open_db()
    runs_dir = get_settings().runs_dir
    details = run_details(db, runs_dir, summary(db, get_run(db, run_id)["id"]))
    print_json(details) if json_out else print_details(db, runs_dir, details)


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
    worker: Annotated[
        str | None,
        typer.Option(
            metavar="RANK", help="A distributed task's worker: its rank (1) or name (worker-0)."
        ),
    ] = None,
) -> None:
    """Print a task's log (every task's, prefixed, without TASK). Secrets are masked.

    A task that never ran (upstream_failed, skipped, or not started yet) has no log: that is
    said on stderr, with exit code 1."""
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
        worker=worker,
        now=time.time(),
    )


@app.command()
def stop(
    run_id: RunArg,
    wait: Annotated[bool, typer.Option(help="Wait until the run has stopped.")] = True,
) -> None:
    """Stop a run: its tasks get SIGTERM, then SIGKILL after the grace period.

    Exits 0 once the stop is requested (and, waiting, done), whether the run's engine was
    alive or had died (then this command drives the stop itself)."""
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
    if not engine_alive(run) and not _held_elsewhere(run):
        # Nobody drives the run: adopt it here and drive the stop to its end. The outcome is
        # the one a live engine gives (the run stopped), so is the exit code: 0, not the
        # run's own code that drive_run exits with.
        try:
            drive_run(db, run["id"], json_out=False, quiet=True)
        except typer.Exit:
            pass
        return
    if engine_alive(run):
        os.kill(run["engine_pid"], signal.SIGUSR1)  # `cube run` or `cube engine` here
    from cubestudio.cli.engine import wake_engines

    wake_engines(db)  # an engine on another host hears it through the database
    typer.echo(f"stop requested for run {run['id']}", err=True)
    if wait:
        wait_stopped(run["id"], lambda: str(get_run(db, run["id"])["status"]))


def wait_stopped(run_id: str, status: Callable[[], str]) -> None:
    """After a stop request (local or on a server): say when the run has ended, or that it
    has not within the kill grace and half a minute."""
    from cubestudio.engine.states import RUN_TERMINAL

    deadline = time.monotonic() + get_settings().kill_grace + 30
    while time.monotonic() < deadline:
        now_status = status()
        if now_status in RUN_TERMINAL:
            typer.echo(f"run {run_id} {now_status}", err=True)
            return
        time.sleep(0.2)
    typer.echo(
        f"run {run_id} has not stopped yet; `cube show {run_id}` tells when it has", err=True
    )


def _held_elsewhere(run: dict[str, Any]) -> bool:
    """A live lease held from another host: that engine acts on the stop request."""
    import socket
    from datetime import UTC, datetime

    expires = run.get("lease_expires_at")
    other_host = run.get("engine_host") not in (None, socket.gethostname())
    return bool(run.get("lease_owner")) and other_host and expires > datetime.now(UTC)


@app.command()
def retry(run_id: RunArg, json_out: JsonOption = False) -> None:
    """Run the failed, upstream_failed and stopped tasks again, keeping what succeeded.

    New attempts are added to the same run; earlier attempts and their logs stay."""
    _restart(run_id, None, json_out)


@app.command()
def rerun(
    run_id: RunArg,
    from_task: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="TASK",
            help="The task to run again; every task downstream of it runs again too.",
        ),
    ],
    json_out: JsonOption = False,
) -> None:
    """Run a task (--from TASK) and everything downstream of it again, in the same run.

    New attempts are added to the run; the other tasks keep their results and outputs."""
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
    from cubestudio.cli.setup import open_artifacts, open_db, open_driver, open_gate
    from cubestudio.engine import lifecycle
    from cubestudio.engine.loop import utcnow

    db = open_db()
    run = lifecycle.get_run(db, run_id)
    driver = open_driver()
    controller = lifecycle.load_controller(
        db,
        driver,
        run["id"],
        gate=open_gate(),
        kill_grace=get_settings().kill_grace,
        artifacts=open_artifacts(),
        environ=os.environ,
        lease_seconds=get_settings().engine_lease,
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
    from cubestudio.cli.failures import print_outcome
    from cubestudio.cli.output import print_json
    from cubestudio.cli.progress import Progress
    from cubestudio.cli.setup import open_artifacts, open_driver, open_gate
    from cubestudio.engine.lease import LeaseLost
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
            lease_seconds=settings.engine_lease,
            gate=open_gate(settings),
        )
    try:
        with Progress(enabled=None if not quiet else False) as progress:
            drive(controller, driver, on_turn=progress.update)
    except LeaseLost as lost:
        # This process was paused past its lease and an engine took the run over: it acts
        # on it no more, and follows it to its end like `cube wait`.
        from cubestudio.cli.engine import follow_to_end

        typer.echo(f"note: {lost}", err=True)
        follow_to_end(db, controller.run_id, json_out=json_out)
    if after is not None:
        after()
    result = summary(db, controller.run_id)
    if json_out:
        print_json(result)
    elif not quiet:
        print_outcome(db, settings.runs_dir, result, controller.spec.name)
    else:
        typer.echo(f"run {result['run_id']} {result['status']}", err=True)
    raise typer.Exit(0 if result["status"] == "succeeded" else 1)


def _register_schedule_commands() -> None:
    from cubestudio.cli.schedule import register

    register(app)


_register_schedule_commands()


def _register_server_commands() -> None:
    from cubestudio.cli.server import register

    register(app)


_register_server_commands()


def _register_import_commands() -> None:
    from cubestudio.cli import pipelines
    from cubestudio.cli.importer import import_app

    app.add_typer(import_app, name="import")
    app.add_typer(pipelines.app, name="pipeline")


_register_import_commands()


def _register_secret_commands() -> None:
    from cubestudio.cli.secrets import register

    register(app)


_register_secret_commands()


def _register_alert_commands() -> None:
    from cubestudio.cli.alerts import register

    register(app)


_register_alert_commands()


def _register_monitor_commands() -> None:
    from cubestudio.cli import rightsize, top
    from cubestudio.cli.queues import queue_app

    app.command()(top.top)
    app.command()(rightsize.rightsize)
    app.add_typer(queue_app, name="queue")


_register_monitor_commands()


remote.register(app)  # cube login, cube logout


def main() -> None:
    """Entry point: every CubeError becomes one line on stderr and a non-zero exit."""
    # Logs, value outputs and the database can hold secrets: all cube and its tasks write is
    # private to the user (files 0600, folders 0700), whatever the shell's umask.
    os.umask(0o077)
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
