"""`cube top RUN`: the resources of a run's tasks, live, like `top` (from the store, so it
follows runs driven by `cube run` and by `cube engine` alike)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from cubestudio.settings import get_settings

RunArg = Annotated[str, typer.Argument(help="A run id (or a unique prefix of one).")]


def top(
    run_id: RunArg,
    once: Annotated[bool, typer.Option("--once", help="Print one snapshot and exit.")] = False,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one snapshot as JSON and exit (see cubestudio.monitor.report for the "
            "object).",
        ),
    ] = False,
    every: Annotated[
        float, typer.Option("--every", min=0.2, help="Seconds between refreshes.")
    ] = 1.0,
) -> None:
    """Each task's CPU, memory (RSS of its process tree), peaks and GPU, live.

    Refreshed until the run ends or Ctrl-C; --once prints one table (--json: one object)."""
    from cubestudio.cli.setup import open_db

    show(_reader(open_db(), run_id), once=once, json_out=json_out, every=every)
    if not (once or json_out) and get_settings().monitor_interval <= 0:
        typer.echo("note: CUBE_MONITOR_INTERVAL=0 here: this machine's engine samples nothing")


def show(view: Callable[[], dict[str, Any]], *, once: bool, json_out: bool, every: float) -> None:
    """Print the snapshots ``view`` reads (the local store's or a server's): one as JSON,
    one table, or a table refreshed every ``every`` seconds until the run ends or Ctrl-C."""
    from cubestudio.cli.output import print_json
    from cubestudio.engine.states import RUN_TERMINAL

    if json_out:
        print_json(view())
        return
    if once:
        _console().print(_table(view()))
        return
    from rich.live import Live

    try:
        with Live(_table(view()), console=_console(), auto_refresh=False) as live:
            while True:
                snap = view()
                live.update(_table(snap), refresh=True)
                if snap["status"] in RUN_TERMINAL:
                    break
                time.sleep(every)
    except KeyboardInterrupt:
        pass


def _reader(db: Any, run_id: str) -> Any:
    from cubestudio.drivers.gang_status import gang_status
    from cubestudio.monitor.report import run_row, snapshot

    with db.read() as conn:
        full_id = run_row(conn, run_id=run_id)["id"]
    runs_dir = get_settings().runs_dir

    def members(task: str, attempt: int, running: bool) -> dict[str, Any] | None:
        folder = runs_dir / full_id / task / str(attempt)
        return gang_status(folder, finished=not running)

    def view() -> dict[str, Any]:
        with db.read() as conn:
            snap = snapshot(conn, run=run_row(conn, run_id=full_id))
        return with_workers(snap, members)

    return view


WorkersOf = Callable[[str, int, bool], "dict[str, Any] | None"]


def with_workers(snap: dict[str, Any], workers_of: WorkersOf) -> dict[str, Any]:
    """The snapshot with each distributed task's members (``workers``: name, state, its own
    latest CPU and RSS and their peaks, as its gang supervisor sampled them)."""
    for task in snap["tasks"]:
        gang = workers_of(task["task"], task["attempt"], task["status"] == "running")
        if gang is None:
            continue
        task["workers"] = [_member(w) for w in gang["workers"]]
    return snap


def _member(worker: dict[str, Any]) -> dict[str, Any]:
    usage = worker.get("usage") or {}
    return {
        "name": worker["name"],
        "state": worker["state"],
        "cpu_percent": usage.get("cpu"),
        "rss_bytes": usage.get("rss"),
        "peak": {"cpu_percent": usage.get("cpu_max"), "rss_bytes": usage.get("rss_max")},
    }


def _console() -> Any:
    from cubestudio.cli.output import stdout_console

    return stdout_console()


def _table(snap: dict[str, Any]) -> Any:
    from rich.table import Table

    tasks = snap["tasks"]
    gpu = any(t["gpu_mem_bytes"] is not None for t in tasks)
    title = f"run {snap['run_id']} ({snap['pipeline']}) {snap['status']}"
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    columns = ["task", "attempt", "state", "cpu %", "peak cpu %", "rss", "peak rss"]
    columns += ["gpu %", "gpu mem", "peak gpu mem"] if gpu else []
    for name in columns:
        table.add_column(name, justify="left" if name in ("task", "state") else "right")
    for t in tasks:
        running = t["status"] == "running"
        cells = [
            t["task"],
            str(t["attempt"]),
            t["status"],
            f"{t['cpu_percent']:.1f}" if running else "-",
            f"{t['peak']['cpu_percent']:.1f}",
            human_bytes(t["rss_bytes"]) if running else "-",
            human_bytes(t["peak"]["rss_bytes"]),
        ]
        if gpu:
            util = t["gpu_util_percent"]
            cells += [
                f"{util:.0f}" if running and util is not None else "-",
                human_bytes(t["gpu_mem_bytes"]) if running else "-",
                human_bytes(t["peak"]["gpu_mem_bytes"]),
            ]
        table.add_row(*cells, style="cyan" if running else "dim")
        for member in t.get("workers", []):
            table.add_row(*_member_cells(member, len(columns)), style="dim")
    if not tasks:
        table.caption = "no samples yet (a task is sampled about once a second while it runs)"
    return table


def _member_cells(member: dict[str, Any], width: int) -> list[str]:
    """A member's row under its task: its own process tree (the task's row sums them)."""
    running = member["state"] == "running"
    cpu, peak = member["cpu_percent"], member["peak"]
    cells = [
        f"  {member['name']}",
        "",
        member["state"],
        f"{cpu:.1f}" if running and cpu is not None else "-",
        f"{peak['cpu_percent']:.1f}" if peak["cpu_percent"] is not None else "-",
        human_bytes(member["rss_bytes"]) if running else "-",
        human_bytes(peak["rss_bytes"]),
    ]
    return cells + ["-"] * (width - len(cells))


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
