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
from cubestudio.logs.mask import Masker, load_secrets
from cubestudio.store import runs as store
from cubestudio.store.db import Database

VALUE_WIDTH = 80  # characters of an output value in the listing; --json has it whole


def run_details(db: Database, runs_dir: Path, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` (the contract's object) with the new keys added."""
    with db.begin() as conn:
        run = store.get_run(conn, run_id=result["run_id"])
        rows = {row["name"]: row for row in store.load_task_runs(conn, run_id=run["id"])}
    masker = Masker(load_secrets(runs_dir / run["id"]))
    tasks = {
        name: {
            **task,
            "message": rows[name]["message"],
            "outputs": {
                key: _mask(masker, str(value))
                for key, value in (store.loads(rows[name]["outputs"]) or {}).items()
            },
        }
        for name, task in result["tasks"].items()
    }
    return {
        **result,
        "tasks": tasks,
        "pipeline": run["pipeline_name"],
        "trigger": run["trigger"],
        "execution_date": _iso(run["execution_date"]),
        "params": json.loads(run["params"]),
        "created_at": _iso(run["created_at"]),
        "started_at": _iso(run["started_at"]),
        "finished_at": _iso(run["finished_at"]),
        "duration_s": _seconds(run["started_at"], run["finished_at"]),
        "message": run["message"],
    }


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


def _mask(masker: Masker, value: str) -> str:
    return masker.mask(value.encode()).decode("utf-8", errors="replace")


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


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None
