"""Keyword-only functions over admission's tables: ``queues`` (capability and weight per
project queue), ``allocations`` (what admitted tasks hold) and ``pool_lock``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, delete, func, insert, or_, select, update

from cubestudio.store.tables import allocations, pool_lock, projects, queues, runs, task_runs

DEFAULT_QUEUE = "default"  # the default project's queue
_ENDED = ("succeeded", "failed", "stopped")
# What admission needs of an allocation (read at every decision: no timestamps to convert).
_HELD = (
    *("run_id", "task_name", "queue", "priority", "cpu", "memory", "gpu", "shareable"),
    *("workers", "gpus"),
)


def lock_pool(conn: Connection) -> None:
    """Hold the pool until the transaction ends: admission deciders take turns."""
    conn.execute(select(pool_lock.c.id).where(pool_lock.c.id == 1).with_for_update())


def list_queues(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(queues).order_by(queues.c.name)).mappings())


def get_queue(conn: Connection, *, name: str) -> RowMapping | None:
    return conn.execute(select(queues).where(queues.c.name == name)).mappings().first()


def save_queue(conn: Connection, *, row: dict[str, Any]) -> None:
    """Create the queue or replace its settings (``row`` has every column)."""
    done = conn.execute(update(queues).where(queues.c.name == row["name"]).values(**row))
    if done.rowcount == 0:
        conn.execute(insert(queues).values(**row))


def live_allocations(conn: Connection, *, other_than: str | None = None) -> list[RowMapping]:
    """Every allocation whose run has not ended: what the pool has handed out (those of
    owners other than ``other_than`` only, when given)."""
    query = (
        select(*(allocations.c[name] for name in _HELD))
        .join(runs, runs.c.id == allocations.c.run_id)
        .where(runs.c.status.not_in(_ENDED))
    )
    if other_than is not None:
        query = query.where(allocations.c.owner != other_than)
    return list(conn.execute(query).mappings())


def adopt_allocations(conn: Connection, *, run_id: str, owner: str) -> dict[str, RowMapping]:
    """The run's allocations, now held by ``owner`` (who took the run over)."""
    conn.execute(update(allocations).where(allocations.c.run_id == run_id).values(owner=owner))
    return allocations_of(conn, run_id=run_id)


def allocations_of(conn: Connection, *, run_id: str) -> dict[str, RowMapping]:
    rows = conn.execute(select(allocations).where(allocations.c.run_id == run_id)).mappings()
    return {row["task_name"]: row for row in rows}


def add_allocations(conn: Connection, *, rows: list[dict[str, Any]]) -> None:
    """Insert rows, replacing any of the same task (a stale one a crash left)."""
    if not rows:
        return
    drop_allocations(conn, keys=[(r["run_id"], r["task_name"]) for r in rows])
    conn.execute(insert(allocations), rows)


def drop_allocations(conn: Connection, *, keys: Iterable[tuple[str, str]]) -> None:
    wanted = list(keys)
    if not wanted:
        return
    by_run: dict[str, list[str]] = {}
    for run_id, task in wanted:
        by_run.setdefault(run_id, []).append(task)
    where = or_(
        *(
            and_(allocations.c.run_id == run_id, allocations.c.task_name.in_(tasks))
            for run_id, tasks in by_run.items()
        )
    )
    conn.execute(delete(allocations).where(where))


def drop_run_allocations(conn: Connection, *, run_ids: Iterable[str]) -> None:
    ids = list(run_ids)
    if ids:
        conn.execute(delete(allocations).where(allocations.c.run_id.in_(ids)))


def usage_by_queue(conn: Connection) -> dict[str, dict[str, Any]]:
    """Per queue: cpu, memory and gpu held (per worker times workers) and running tasks."""
    out: dict[str, dict[str, Any]] = {}
    for row in live_allocations(conn):
        used = out.setdefault(row["queue"], {"cpu": 0.0, "memory": 0, "gpu": 0, "running": 0})
        used["cpu"] += row["cpu"] * row["workers"]
        used["memory"] += row["memory"] * row["workers"]
        used["gpu"] += row["gpu"] * row["workers"]
        used["running"] += 1
    return out


def queue_names(conn: Connection, *, project_ids: Iterable[int]) -> dict[int, str]:
    """Each project's queue: it is named as the project."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    rows = conn.execute(select(projects.c.id, projects.c.name).where(projects.c.id.in_(ids)))
    return {row.id: row.name for row in rows}


def waiting_reasons(conn: Connection, *, run_ids: list[str]) -> dict[str, str]:
    """Per run, why one of its tasks waits for admission (its reason, the first by name)."""
    if not run_ids:
        return {}
    query = (
        select(task_runs.c.run_id, func.min(task_runs.c.message))
        .where(
            task_runs.c.run_id.in_(run_ids),
            task_runs.c.status == "queued",
            task_runs.c.message.like("queued:%"),
        )
        .group_by(task_runs.c.run_id)
    )
    return {str(row[0]): str(row[1]) for row in conn.execute(query)}
