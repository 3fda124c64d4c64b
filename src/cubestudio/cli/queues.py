"""`cube queue list` and `cube queue set NAME --gpu 4 --cpu 16 --memory 64Gi --weight 3`:
the projects' queues (a capability and a weight each) and what they use of the pool."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

queue_app = typer.Typer(
    help="Queues: each project's share of the pool (F13).", no_args_is_help=True
)

Limit = Annotated[
    str | None,
    typer.Option(help="The queue's capability, e.g. 16 / 500m (cpu), 64Gi, 4; 'none': no limit."),
]


@queue_app.command("list")
def list_queues(
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Each queue's capability, weight, usage and waiting tasks, and the pool's room."""
    from cubestudio.cli.setup import open_db
    from cubestudio.engine.admission import machine_pool
    from cubestudio.engine.queue_admin import queue_report

    with open_db().begin() as conn:
        report = queue_report(conn, machine_pool())
    show_report(report, json_out=json_out)


@queue_app.command("set")
def set_queue(
    name: Annotated[str, typer.Argument(help="The queue: its project's name (e.g. default).")],
    cpu: Limit = None,
    memory: Limit = None,
    gpu: Limit = None,
    weight: Annotated[
        str | None, typer.Option(help="Its weight in fair share across queues (e.g. 3).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Change a queue's capability or weight; what you leave out keeps its value."""
    from cubestudio.cli.setup import open_db
    from cubestudio.engine.queue_admin import set_queue as save

    changes = changes_of(cpu=cpu, memory=memory, gpu=gpu, weight=weight)
    with open_db().begin() as conn:
        saved = save(conn, name=name, changes=changes, now=datetime.now(UTC))
    show_saved(saved, json_out=json_out)


def changes_of(**given: str | None) -> dict[str, str]:
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        from cubestudio.errors import StateError

        raise StateError("give at least one of --cpu, --memory, --gpu, --weight")
    return changes


def show_saved(saved: dict[str, Any], *, json_out: bool) -> None:
    from cubestudio.cli.output import print_json

    if json_out:
        print_json(saved)
        return
    typer.echo(
        f"queue {saved['name']}: cpu {_limit(saved['cpu'])}, memory "
        f"{_memory(saved['memory'])}, gpu {_limit(saved['gpu'])}, weight {saved['weight']:g}"
    )


def show_report(report: dict[str, Any], *, json_out: bool) -> None:
    from cubestudio.cli.output import print_json, print_table

    if json_out:
        print_json(report)
        return
    rows = [
        [
            q["name"],
            f"{q['used']['cpu']:g} / {_limit(q['cpu'])}",
            f"{_memory(q['used']['memory'])} / {_memory(q['memory'])}",
            f"{q['used']['gpu']} / {_limit(q['gpu'])}",
            f"{q['weight']:g}",
            str(q["running"]),
            str(q["waiting"]),
        ]
        for q in report["queues"]
    ]
    print_table(["queue", "cpu", "memory", "gpu", "weight", "running", "waiting"], rows)
    pool, free = report["pool"], report["free"]
    typer.echo(
        f"pool: cpu {free['cpu']:g} of {pool['cpu']:g} free, memory {_memory(free['memory'])} "
        f"of {_memory(pool['memory'])} free, gpu {free['gpu']} of {pool['gpu']} free"
    )


def _limit(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _memory(value: int | None) -> str:
    from cubestudio.cli.top import human_bytes

    return "-" if value is None else human_bytes(value)
