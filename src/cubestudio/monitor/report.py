"""What `cube top`, the API and `cube rightsize` read from the store, as plain data.

The snapshot of a run (``snapshot``; `cube top --once --json` prints it)::

    {"run_id": str, "pipeline": str, "status": run status, "at": ISO time of the reading,
     "tasks": [{"task": str, "attempt": int, "status": the attempt's status,
                "sampled_at": ISO time of its latest sample, "samples": int,
                "cpu_percent": float (percent of one core, process tree summed),
                "rss_bytes": int, "gpu_util_percent": float | null,
                "gpu_mem_bytes": int | null, "cpu_avg_percent": float,
                "peak": {"cpu_percent": float, "rss_bytes": int,
                         "gpu_util_percent": float | null, "gpu_mem_bytes": int | null}}]}

Tasks are every sampled attempt of the run, running ones first, then by task and attempt.
GPU fields are null where no NVIDIA GPU was seen. ``metrics`` adds to each one its series.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping

from cubestudio.errors import NotFoundError, StateError
from cubestudio.monitor.rightsize import Policy, RunPeak, TaskAdvice, apply, suggest_all
from cubestudio.store import metrics as store
from cubestudio.store import pipelines as pipeline_store
from cubestudio.store import runs as run_store


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def attempt_entry(row: RowMapping) -> dict[str, Any]:
    return {
        "task": row["task_name"],
        "attempt": row["attempt"],
        "status": row["status"] or ("succeeded" if row["ended"] else "running"),
        "sampled_at": _iso(row["sampled_at"]),
        "samples": row["samples"],
        "cpu_percent": row["cpu"],
        "rss_bytes": row["rss"],
        "gpu_util_percent": row["gpu_util"],
        "gpu_mem_bytes": row["gpu_mem"],
        "cpu_avg_percent": row["cpu_avg"],
        "peak": {
            "cpu_percent": row["cpu_max"],
            "rss_bytes": row["rss_max"],
            "gpu_util_percent": row["gpu_util_max"],
            "gpu_mem_bytes": row["gpu_mem_max"],
        },
    }


def snapshot(conn: Connection, *, run: RowMapping, now: datetime | None = None) -> dict[str, Any]:
    entries = [attempt_entry(row) for row in store.of_run(conn, run_id=run["id"])]
    entries.sort(key=lambda e: (e["status"] != "running", e["task"], e["attempt"]))
    return {
        "run_id": run["id"],
        "pipeline": run["pipeline_name"],
        "status": run["status"],
        "at": (now or datetime.now(UTC)).isoformat(),
        "tasks": entries,
    }


def metrics(conn: Connection, *, run: RowMapping) -> dict[str, Any]:
    """The snapshot with each attempt's stored series, as columns."""
    result = snapshot(conn, run=run)
    series: dict[tuple[str, int], dict[str, list[Any]]] = defaultdict(
        lambda: {k: [] for k in ("at", "cpu_percent", "rss_bytes", "gpu_util", "gpu_mem")}
    )
    for row in store.series_of_run(conn, run_id=run["id"]):
        columns = series[(row["task_name"], row["attempt"])]
        columns["at"].append(row["at"].isoformat())
        columns["cpu_percent"].append(row["cpu"])
        columns["rss_bytes"].append(row["rss"])
        columns["gpu_util"].append(row["gpu_util"])
        columns["gpu_mem"].append(row["gpu_mem"])
    for entry in result["tasks"]:
        columns = series[(entry["task"], entry["attempt"])]
        entry["series"] = {
            "at": columns["at"],
            "cpu_percent": columns["cpu_percent"],
            "rss_bytes": columns["rss_bytes"],
            "gpu_util_percent": columns["gpu_util"],
            "gpu_mem_bytes": columns["gpu_mem"],
        }
    return result


def run_row(conn: Connection, *, run_id: str) -> RowMapping:
    return run_store.get_run(conn, run_id=run_id)


# -- right-sizing -----------------------------------------------------------------------------


def rightsize(
    conn: Connection, *, project_id: int, name: str, runs: int, policy: Policy
) -> dict[str, Any]:
    """The advice for every task of the pipeline ``name`` from its ``runs`` last succeeded
    attempts each: {"pipeline", "version" (0: known from runs of a file only), "runs",
    "policy", "tasks": [TaskAdvice.to_dict()], "advice": [TaskAdvice]}."""
    row = pipeline_store.get_pipeline(conn, project_id=project_id, name=name)
    if row is None:
        raise NotFoundError(f"pipeline {name}: no such pipeline (`cube pipeline list` names them)")
    peaks: dict[str, list[RunPeak]] = defaultdict(list)
    for peak in store.recent_peaks(conn, pipeline_id=row["id"], runs_per_task=runs):
        peaks[peak["task_name"]].append(
            RunPeak(
                run_id=peak["run_id"],
                created_at=peak["created_at"],
                attempt=peak["attempt"],
                cpu_max=float(peak["cpu_max"]),
                rss_max=int(peak["rss_max"]),
                gpu_mem_max=peak["gpu_mem_max"],
            )
        )
    data = json.loads(row["spec"])
    advice = suggest_all(data, peaks, policy)
    return {
        "pipeline": name,
        "pipeline_id": int(row["id"]),
        "version": int(row["latest_version"]),
        "runs": runs,
        "policy": policy.name,
        "tasks": [a.to_dict() for a in advice],
        "advice": advice,
        "data": data,
    }


def apply_rightsize(
    conn: Connection,
    *,
    project_id: int,
    report: dict[str, Any],
    author: str,
    now: datetime,
) -> int | None:
    """Save the pipeline's next version with the changed requests of ``report``; its number,
    or None when nothing changes. Refused for a pipeline never saved (runs of a file only):
    its file is the one to edit."""
    from cubestudio.spec.loader import pipeline_from_data

    advice: list[TaskAdvice] = report["advice"]
    if not any(a.changed for a in advice):
        return None
    if report["version"] == 0:
        raise StateError(
            f"pipeline {report['pipeline']} is run from a file, not saved: change its file "
            "(the YAML shown), or `cube pipeline save` it first"
        )
    data = apply(report["data"], advice)
    pipeline_from_data(data, check=False)  # still a pipeline
    latest = pipeline_store.get_version(
        conn, pipeline_id=report["pipeline_id"], version=report["version"]
    )
    _id, version = pipeline_store.save_version(
        conn,
        project_id=project_id,
        name=report["pipeline"],
        spec_json=json.dumps(data, sort_keys=True),
        layout_json=latest["layout"] if latest is not None else None,  # the editor's, kept
        author=author,
        message="rightsize: requests from the peaks of the last runs",
        now=now,
        create=False,
    )
    return version
