"""What commands print: the JSON contract on stdout, and tables for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

REASON_WIDTH = 60  # characters of a task's reason in the summary table; the report has it all
STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "upstream_failed": "red",
    "stopped": "yellow",
    "skipped": "dim",
    "running": "cyan",
    "queued": "blue",
    "pending": "dim",
}


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def stdout_console() -> Console:
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def print_run_summary(
    result: dict[str, Any],
    pipeline: str | None = None,
    reasons: Mapping[str, str] | None = None,
) -> None:
    """The tasks as a table (counted by status past 50), then the run's status. ``reasons``:
    why the tasks that did not succeed ended so, shown in a last column when there are any."""
    console = stdout_console()
    tasks = result["tasks"]
    reasons = reasons or {}
    if len(tasks) <= 50:
        columns = ["task", "status", "attempts", "exit", "duration"]
        show_reasons = any(reasons.get(name) for name in tasks)
        table = Table(show_edge=False, box=None, pad_edge=False)
        for column in columns + (["reason"] if show_reasons else []):
            table.add_column(column)
        for name, task in tasks.items():
            style = STATUS_STYLE.get(task["status"], "")
            cells = [
                name,
                f"[{style}]{task['status']}[/]" if style else task["status"],
                str(task["attempts"]),
                _exit_cell(task),
                _duration(task["started_at"], task["finished_at"]),
            ]
            if show_reasons:
                cells.append(escape(_short(reasons.get(name) or "")))
            table.add_row(*cells)
        console.print(table)
    else:
        counts: dict[str, int] = {}
        for task in tasks.values():
            counts[task["status"]] = counts.get(task["status"], 0) + 1
        console.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    status = result["status"]
    style = STATUS_STYLE.get(status, "")
    name = f"{pipeline} " if pipeline else ""
    console.print(f"{name}run {result['run_id']} [{style}]{status}[/]")


def _exit_cell(task: dict[str, Any]) -> str:
    """The exit code, unless it is not why the task failed: a task that exited 0 but did not
    write a declared output failed for that reason, which the reason column gives."""
    code = task["exit_code"]
    if code is None or (code == 0 and task["status"] == "failed"):
        return ""
    return str(code)


def _short(text: str, width: int = REASON_WIDTH) -> str:
    lines = text.splitlines() or [""]
    if len(lines) > 1 or len(lines[0]) > width:
        return lines[0][: width - 1] + "…"
    return lines[0]


def _duration(started: str | None, finished: str | None) -> str:
    if not started or not finished:
        return ""
    seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    return f"{seconds:.2f}s"


def print_runs(rows: list[dict[str, Any]]) -> None:
    console = stdout_console()
    table = Table(show_edge=False, box=None, pad_edge=False)
    waiting = any(row.get("waiting") for row in rows)
    columns = (
        "run",
        "pipeline",
        "status",
        "trigger",
        "created",
        *(("waiting",) if waiting else ()),
    )
    for column in columns:
        table.add_column(column, overflow="fold" if column == "waiting" else "ellipsis")
    for row in rows:
        style = STATUS_STYLE.get(row["status"], "")
        table.add_row(
            row["run_id"],
            row["pipeline"],
            f"[{style}]{row['status']}[/]" if style else row["status"],
            row["trigger"],
            row["created_at"][:19].replace("T", " "),
            *((row.get("waiting") or "",) if waiting else ()),
        )
    console.print(table)


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    """A plain table on stdout, the way every listing command prints."""
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    stdout_console().print(table)
