"""What `cube show` adds to the run summary: the run's pipeline, trigger, execution date,
params and duration, and each task's reason and value outputs (masked with the run's secrets,
as logs are). `--json` adds these as new keys beside the contract's; it changes none."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text

from cubestudio.cli.failures import failure_report, print_failure_report
from cubestudio.cli.output import print_run_summary, stdout_console
from cubestudio.engine.details import run_details
from cubestudio.store.db import Database

__all__ = ["print_details", "run_details"]
VALUE_WIDTH = 80  # characters of an output value in the listing; --json has it whole


def print_details(db: Database, runs_dir: Path, details: dict[str, Any]) -> None:
    """`cube show` for people: the run's facts, its tasks with their reasons, their value
    outputs, and why the run failed."""
    report = failure_report(db, runs_dir, details["run_id"])
    print_run_header(details)
    print_run_summary(details, details["pipeline"], reasons=report.reasons)
    print_outputs(details)
    print_failure_report(report, stdout_console())


def print_run_header(details: dict[str, Any]) -> None:
    """The run's facts, one per line, above the task table."""
    params = " ".join(f"{k}={_value(v)}" for k, v in details["params"].items()) or "(none)"
    duration = details["duration_s"]
    lines = [
        ("run", details["run_id"]),
        ("pipeline", details["pipeline"]),
        ("trigger", details["trigger"]),
        ("execution date", _when(details["execution_date"])),
        ("params", params),
        ("started", _when(details["started_at"]) or "not yet"),
        ("duration", f"{duration:.2f}s" if duration is not None else "(not finished)"),
    ]
    console = stdout_console()
    for label, value in lines:
        console.print(Text(f"{label + ':':<16}{value}"))
    console.print()


def print_outputs(details: dict[str, Any]) -> None:
    """The value outputs of the tasks that produced some, as TASK.NAME = VALUE."""
    items = [
        (f"{task}.{key}", value)
        for task, info in details["tasks"].items()
        for key, value in info["outputs"].items()
    ]
    if not items:
        return
    console = stdout_console()
    console.print("\nvalue outputs:")
    width = max(len(ref) for ref, _ in items)
    for ref, value in items:
        console.print(Text(f"  {ref:<{width}} = {_clip(value)}"))


def _clip(value: str) -> str:
    line = value.splitlines()[0] if value else ""
    if len(line) > VALUE_WIDTH or "\n" in value:
        return line[: VALUE_WIDTH - 1] + "…"
    return line


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _when(iso: str | None) -> str:
    return f"{iso[:19].replace('T', ' ')} UTC" if iso else ""
