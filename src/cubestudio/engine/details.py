"""What `cube show --json` and the API's run detail add to the run summary (the `cube run
--json` contract): the run's pipeline, trigger, execution date, params and duration, and each
task's reason and value outputs, masked with the run's secrets as logs are. New keys beside
the contract's; it changes none."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from cubestudio.logs.mask import Masker, load_secrets
from cubestudio.store import runs as store
from cubestudio.store.db import Database


def run_details(db: Database, runs_dir: Path, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` (the contract's object) with the new keys added."""
    with db.read() as conn:
        run = store.get_run(conn, run_id=result["run_id"])
        rows = store.load_task_runs(conn, run_id=run["id"])
    return details_of(run, rows, runs_dir, result)


def details_of(
    run: Mapping[Any, Any],
    task_rows: Sequence[Mapping[Any, Any]],
    runs_dir: Path,
    result: dict[str, Any],
) -> dict[str, Any]:
    """``run_details`` from rows the caller read (the run's and its tasks')."""
    rows = {row["name"]: row for row in task_rows}
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


def _mask(masker: Masker, value: str) -> str:
    return masker.mask(value.encode()).decode("utf-8", errors="replace")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None
