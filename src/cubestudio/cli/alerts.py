"""`cube alerts send` (the webhook sender, a process of its own: `cube server` supervises one)
and `cube alerts list RUN` (a run's deliveries and how each went)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cubestudio.settings import get_settings
from cubestudio.signals import stop_on_signals

alerts_app = typer.Typer(
    no_args_is_help=True, help="Webhook alerts (`alerts:` in a pipeline): send them, list them."
)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


@alerts_app.command()
def send(
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url",
            help="The server's address, e.g. https://cube.example: run_url in each alert "
            "starts with it (default: a path, /api/v1/...).",
        ),
    ] = "",
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks at the outbox when idle.")
    ] = 2.0,
    once: Annotated[
        bool, typer.Option("--once", help="Send what is due now, then exit (for cron, tests).")
    ] = False,
) -> None:
    """Deliver webhook alerts until Ctrl-C or SIGTERM, one JSON line per try on stderr.

    Failed tries are repeated after 5 s, 10 s, 20 s ... up to 10 min, 8 tries in all. Several
    senders may run on one database. Requests are signed with CUBE_WEBHOOK_SECRET (else
    $CUBE_HOME/webhook.key): see X-Cube-Signature in the README."""
    from cubestudio.alerts.sender import AlertSender, utcnow
    from cubestudio.alerts.signing import load_key
    from cubestudio.cli.setup import open_db

    settings = get_settings()
    db = open_db(settings)
    key = load_key(home=settings.home_dir, secret=settings.webhook_secret)
    with AlertSender(db, key=key, base_url=base_url, log=_log) as sender:
        if once:
            while sender.tick(utcnow()) >= sender.batch:
                pass
            return
        _log({"event": "started", "database": db.display_url})
        with stop_on_signals() as stop:
            turns = sender.run(stop, interval=interval)
        _log({"event": "stopped", "turns": turns})


@alerts_app.command("list")
def list_(
    run_id: Annotated[str, typer.Argument(help="A run id (or a unique prefix).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """A run's webhook deliveries: event, task, receiver (query values hidden), status."""
    from cubestudio.cli.output import print_json, stdout_console
    from cubestudio.cli.setup import open_db
    from cubestudio.spec.alerts import mask_url
    from cubestudio.store import alerts as store
    from cubestudio.store import runs as runs_store

    db = open_db()
    with db.begin() as conn:
        run = runs_store.get_run(conn, run_id=run_id)
        rows = store.of_run(conn, run_id=run["id"])
    items = [_item(dict(row), mask_url(row["url"])) for row in rows]
    if json_out:
        print_json(items)
        return
    console = stdout_console()
    if not items:
        console.print(f"run {run['id']}: no alerts were recorded")
        return
    for item in items:
        what = f"{item['event']} of {'task ' + item['task'] if item['task'] else 'the run'}"
        line = (
            f"{item['id']:>6}  {what:<28} {item['status']:<9} tries {item['tries']}  {item['url']}"
        )
        console.print(line, markup=False)
        if item["last_error"]:
            console.print(f"        {item['last_error']}", markup=False)


def _item(row: dict[str, Any], url: str) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": row["id"],
        "event": row["event"],
        "task": row["task_name"],
        "url": url,
        "status": row["status"],
        "tries": row["tries"],
        "last_error": row["last_error"],
        "created_at": iso(row["created_at"]),
        "next_try_at": iso(row["next_try_at"]) if row["status"] == "pending" else None,
        "delivered_at": iso(row["delivered_at"]),
    }


def _log(entry: dict[str, Any]) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sys.stderr.write(json.dumps({"at": stamp, **entry}, default=str) + "\n")
    sys.stderr.flush()
