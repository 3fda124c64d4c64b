"""Reading and changing queues (`cube queue list|set`, the API): each project has one queue,
named as the project, with a capability (cpu, memory, gpu; None: no limit) and a weight for
fair share. Admission (engine/gate.py) reads them from the store at every decision, so a
change applies to every process at its next one."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from cubestudio.engine.admission import AdmissionError, Pool, Queue
from cubestudio.errors import NotFoundError
from cubestudio.spec.quantities import parse_cpu, parse_memory
from cubestudio.store import accounts
from cubestudio.store import queues as store
from cubestudio.store.tables import projects, runs, task_runs

UNSET = "none"  # `--gpu none`: no limit


def queue_report(conn: Connection, pool: Pool, *, names: list[str] | None = None) -> dict[str, Any]:
    """The pool, what is free, and each queue with its capability, usage and counts.
    ``names``: only these queues (the projects a user may see); None: every project's."""
    settings = {row["name"]: row for row in store.list_queues(conn)}
    usage = store.usage_by_queue(conn)
    waiting = _waiting_by_project(conn)
    shown = (
        sorted(names) if names is not None else [p["name"] for p in accounts.list_projects(conn)]
    )
    used_cpu = sum(u["cpu"] for u in usage.values())
    used_mem = sum(u["memory"] for u in usage.values())
    used_gpu = sum(u["gpu"] for u in usage.values())
    queues = []
    for name in shown:
        row = settings.get(name)
        used = usage.get(name, {"cpu": 0.0, "memory": 0, "gpu": 0, "running": 0})
        queues.append(
            {
                "name": name,
                "cpu": row["cpu"] if row else None,
                "memory": row["memory"] if row else None,
                "gpu": row["gpu"] if row else None,
                "weight": row["weight"] if row else 1.0,
                "used": {"cpu": used["cpu"], "memory": used["memory"], "gpu": used["gpu"]},
                "running": used["running"],
                "waiting": waiting.get(name, 0),
            }
        )
    return {
        "pool": {"cpu": pool.cpu, "memory": pool.memory, "gpu": len(pool.gpus)},
        "free": {
            "cpu": max(0.0, pool.cpu - used_cpu),
            "memory": max(0, pool.memory - used_mem),
            "gpu": max(0, len(pool.gpus) - used_gpu),
        },
        "queues": queues,
    }


def set_queue(
    conn: Connection, *, name: str, changes: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Change a project's queue: ``changes`` maps cpu / memory / gpu / weight to a value as
    typed ("16", "64Gi", "4", "none" for no limit); the others keep theirs. Raises
    NotFoundError for an unknown project, AdmissionError naming a bad value."""
    if accounts.get_project(conn, name=name) is None:
        raise NotFoundError(
            f"no project {name}: a queue is named as its project (`cube queue list` shows them)"
        )
    row = store.get_queue(conn, name=name)
    current = (
        Queue(name, None, row["cpu"], row["memory"], row["gpu"], row["weight"])
        if row
        else Queue(name)
    )
    values = {k: getattr(current, k) for k in ("cpu", "memory", "gpu", "weight")}
    for field, text in changes.items():
        values[field] = _parse(field, text)
    queue = Queue(name, None, values["cpu"], values["memory"], values["gpu"], values["weight"])
    saved = {k: v for k, v in asdict(queue).items() if k != "project"}
    store.save_queue(conn, row={**saved, "updated_at": now})
    return saved


def _parse(field: str, text: Any) -> Any:
    value = str(text).strip()
    if field != "weight" and value.lower() in (UNSET, "unlimited", ""):
        return None
    try:
        if field == "cpu":
            return parse_cpu(value)
        if field == "memory":
            return parse_memory(value)
        if field == "gpu":
            number = int(value)
            if number < 0:
                raise ValueError
            return number
        return float(value)
    except (ValueError, TypeError):
        examples = {"cpu": "16 or 500m", "memory": "64Gi", "gpu": "4", "weight": "3"}
        hint = f" or {UNSET} for no limit" if field != "weight" else ""
        raise AdmissionError(
            f"{field}: {value!r} is not a valid {field}: use e.g. {examples[field]}{hint}"
        ) from None


def _waiting_by_project(conn: Connection) -> dict[str, int]:
    """Tasks waiting for admission (queued with a reason), per project."""
    query = (
        select(projects.c.name, func.count())
        .select_from(task_runs)
        .join(runs, runs.c.id == task_runs.c.run_id)
        .join(projects, projects.c.id == runs.c.project_id)
        .where(and_(task_runs.c.status == "queued", task_runs.c.message.like("queued:%")))
        .group_by(projects.c.name)
    )
    return {str(row[0]): int(row[1]) for row in conn.execute(query)}
