"""`cube engine` (the service that drives every run), `cube engine status`, `cube submit` and
`cube wait`."""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from cubestudio.errors import StateError
from cubestudio.settings import get_settings

engine_app = typer.Typer(
    no_args_is_help=False,
    help="The engine service: claims runs and drives all of them (replicas allowed).",
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _now() -> datetime:
    return datetime.now(UTC)


@engine_app.callback(invoke_without_command=True)
def engine(
    ctx: typer.Context,
    engine_id: Annotated[
        str | None,
        typer.Option("--id", help="This engine's id, unique among live engines (default: host)."),
    ] = None,
    max_runs: Annotated[
        int, typer.Option("--max-runs", min=1, help="The most runs this engine holds at once.")
    ] = 10_000,
) -> None:
    """Run the engine service until SIGTERM or Ctrl-C: claim pending runs and drive them.

    Leases (CUBE_ENGINE_LEASE seconds) make each run driven by one engine; on SIGTERM the
    leases are released and the tasks keep running for another engine to adopt."""
    if ctx.invoked_subcommand is not None:
        return
    from cubestudio.cli.setup import open_artifacts, open_db, open_driver, open_gate
    from cubestudio.engine.lease import Identity
    from cubestudio.engine.lifecycle import load_controller, load_controllers
    from cubestudio.engine.serve import serve
    from cubestudio.engine.service import EngineService, ServiceConfig
    from cubestudio.engine.wakeup import PgListener, WakeSocket

    settings = get_settings()
    engine_id = engine_id or socket.gethostname()
    _check_engine_id(engine_id)
    db = open_db(settings)
    driver = open_driver(settings)
    artifacts = open_artifacts(settings)
    me = Identity(engine_id=engine_id)
    gate = open_gate(settings, owner=me.instance)  # one for every run it drives

    options: dict[str, Any] = {
        "gate": gate,
        "kill_grace": settings.kill_grace,
        "artifacts": artifacts,
        "environ": os.environ,
        "lease_seconds": settings.engine_lease,
        "project_secrets": _project_secrets(db, settings),
    }

    def load(run_id: str) -> Any:
        return load_controller(db, driver, run_id, **options)

    def load_many(run_ids: list[str]) -> Any:
        return load_controllers(db, driver, run_ids, **options)

    service = EngineService(
        db=db,
        driver=driver,
        me=me,
        load=load,
        gate=gate,
        config=ServiceConfig(lease_seconds=settings.engine_lease, max_runs=max_runs),
        wake_peers=lambda: wake_engines(db),
        load_many=load_many,
    )
    wake = WakeSocket(settings.home_dir, service.me.instance)
    wakeups: list[tuple[int, Any]] = [(wake.fileno(), None)]
    listener = PgListener(db.url) if db.engine.dialect.name == "postgresql" else None
    if listener is not None:
        wakeups.append((listener.fileno(), listener.drain))
    try:
        serve(service, driver, clock=_now, wakeups=wakeups)
    finally:
        wake.close()
        if listener is not None:
            listener.close()
        driver.close()


def _project_secrets(db: Any, settings: Any) -> Any:
    """How this engine decrypts the project secrets of a run nobody kept them for (a
    scheduled one): with the key of CUBE_SECRET_KEY or $CUBE_HOME/secret.key, read when a
    run first needs it."""
    from cubestudio.auth.project_secrets import for_spec
    from cubestudio.auth.secretbox import SecretBox

    def lookup(project_id: int, spec: Any) -> dict[str, str]:
        box = SecretBox.load(home=settings.home_dir, key=settings.secret_key)
        return for_spec(db, box=box, project_id=project_id, spec=spec)

    return lookup


def _check_engine_id(engine_id: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
    if not engine_id or len(engine_id) > 100 or set(engine_id) - allowed:
        raise StateError(f"--id {engine_id!r}: use letters, digits, '.', '-' and '_' (100 at most)")


@engine_app.command("status")
def status(json_out: JsonOption = False) -> None:
    """The engines alive (and recently stopped), the runs each drives, lease ages."""
    from cubestudio.cli.output import print_json, print_table
    from cubestudio.cli.setup import open_db

    db = open_db()
    report = engine_report(db, now=_now(), lease=get_settings().engine_lease)
    if json_out:
        print_json(report)
        return
    rows = [
        [
            e["id"],
            e["host"],
            str(e["pid"]),
            "alive" if e["alive"] else "gone",
            f"{e['heartbeat_age_s']:.1f}s",
            str(len(e["runs"])),
        ]
        for e in report["engines"]
    ]
    print_table(["engine", "host", "pid", "state", "heartbeat", "runs"], rows)
    for e in report["engines"]:
        for run in e["runs"]:
            typer.echo(
                f"  {e['id']}: {run['run_id']} {run['pipeline']} {run['status']} "
                f"(lease {run['lease_left_s']:.1f}s left)"
            )
    typer.echo(f"runs waiting for an engine: {report['waiting_runs']}")


def engine_report(db: Any, *, now: datetime, lease: float) -> dict[str, Any]:
    from cubestudio.procinfo import is_alive
    from cubestudio.store import leases as store

    host = socket.gethostname()
    with db.begin() as conn:
        engines = store.list_engines(conn)
        held = store.runs_held(conn, owners=[e["instance"] for e in engines])
        waiting = store.active_unowned(conn, now=now)
    by_owner: dict[str, list[dict[str, Any]]] = {}
    for row in held:
        left = (row["lease_expires_at"] - now).total_seconds() if row["lease_expires_at"] else 0
        by_owner.setdefault(row["lease_owner"], []).append(
            {
                "run_id": row["id"],
                "pipeline": row["pipeline_name"],
                "status": row["status"],
                "lease_epoch": row["lease_epoch"],
                "lease_left_s": round(left, 3),
            }
        )
    out = []
    for e in engines:
        fresh = e["heartbeat_at"] > now - timedelta(seconds=lease)
        alive = e["stopped_at"] is None and fresh
        if alive and e["host"] == host:
            alive = is_alive(e["pid"], e["process_start"])
        out.append(
            {
                "id": e["id"],
                "host": e["host"],
                "pid": e["pid"],
                "alive": alive,
                "started_at": e["started_at"].isoformat(),
                "heartbeat_age_s": round((now - e["heartbeat_at"]).total_seconds(), 3),
                "stopped_at": e["stopped_at"].isoformat() if e["stopped_at"] else None,
                "max_runs": e["max_runs"],
                "runs": by_owner.get(e["instance"], []),
            }
        )
    return {"engines": out, "waiting_runs": waiting}


def submit(
    file: Annotated[Path, typer.Argument(help="A pipeline file (.yaml, .json, .py).")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Override a parameter: NAME=VALUE.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help='Print {"run_id": "..."}.')] = False,
) -> None:
    """Hand a run to the engine service and return at once (`cube wait RUN` follows it)."""
    from cubestudio.cli.output import print_json
    from cubestudio.cli.secrets import local_values
    from cubestudio.cli.setup import LazyCatalog, open_db, open_driver
    from cubestudio.engine.lease import Identity
    from cubestudio.engine.lifecycle import create_run, resolve_secrets
    from cubestudio.spec.loader import load_pipeline
    from cubestudio.spec.params import parse_assignments, resolve_params
    from cubestudio.spec.validate import resolve_templates
    from cubestudio.store import leases as store

    settings = get_settings()
    catalog = LazyCatalog()
    spec = load_pipeline(file, catalog)
    params = resolve_params(spec, parse_assignments(param or []))
    templates = resolve_templates(spec, catalog)
    secrets = resolve_secrets(spec, os.environ, local_values(spec))
    db = open_db(settings)
    me = Identity.for_cli()
    now = _now()
    # Born leased to this process, so no engine starts it before its secrets are kept;
    # released at once after that.
    run_id = create_run(db, spec=spec, params=params, now=now, templates=templates, holder=me)
    if secrets:
        open_driver(settings).save_secrets(run_id, secrets)
    with db.begin() as conn:
        store.release(conn, owner=me.instance, run_ids=[run_id], now=now, reason="submitted")
    wake_engines(db)
    if json_out:
        print_json({"run_id": run_id})
    else:
        typer.echo(run_id)
    report = engine_report(db, now=_now(), lease=settings.engine_lease)
    if not any(e["alive"] for e in report["engines"]):
        typer.echo(
            f"note: no engine is running; run {run_id} waits until `cube engine` starts",
            err=True,
        )


def wake_engines(db: Any) -> None:
    """Poke the engines on this host, and NOTIFY those elsewhere (PostgreSQL)."""
    from cubestudio.engine.submit import wake_engines as wake

    wake(db, get_settings().home_dir)


def wait(
    run_id: Annotated[str, typer.Argument(help="A run id (or a unique prefix of one).")],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print `cube run --json`'s object when it ends.")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(help="Give up after this many seconds (exit 124).")
    ] = None,
) -> None:
    """Block until a run ends; print what `cube run` prints and exit with its code."""
    from cubestudio.cli.setup import open_db

    db = open_db()
    follow_to_end(db, run_id, json_out=json_out, timeout=timeout)


def follow_to_end(db: Any, run_id: str, *, json_out: bool, timeout: float | None = None) -> None:
    """Wait for the run's end (whoever drives it), print its outcome, exit 0 or 1."""
    from cubestudio.cli.failures import print_outcome
    from cubestudio.cli.output import print_json
    from cubestudio.engine.lifecycle import get_run, summary
    from cubestudio.engine.states import RUN_TERMINAL

    run = get_run(db, run_id)
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.02
    while run["status"] not in RUN_TERMINAL:
        if deadline is not None and time.monotonic() > deadline:
            typer.echo(f"run {run['id']} is still {run['status']} after {timeout:g}s", err=True)
            raise typer.Exit(124)
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
        run = get_run(db, run["id"])
    result = summary(db, run["id"])
    if json_out:
        print_json(result)
    else:
        print_outcome(db, get_settings().runs_dir, result, run["pipeline_name"])
    raise typer.Exit(0 if result["status"] == "succeeded" else 1)
