"""Keyword-only functions over the resource metrics of attempts (``attempt_metrics``: the
latest sample and the peaks; ``attempt_samples``: the downsampled series).

The engine's recorder (monitor/recorder.py) writes them in batches: one ``save`` per flush
for every attempt sampled since the last, with a few statements whatever their number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, bindparam, delete, func, insert, select, update

from cubestudio.store.tables import attempt_metrics, attempt_samples, attempts, runs

Key = tuple[str, str, int]  # (run id, task name, attempt number)
PEAK_FIELDS = (
    "first_at",
    "sampled_at",
    "samples",
    "cpu",
    "rss",
    "gpu_util",
    "gpu_mem",
    "cpu_avg",
    "cpu_max",
    "rss_max",
    "gpu_util_max",
    "gpu_mem_max",
    "ended",
)


def stored_peaks(conn: Connection, *, keys: Iterable[Key]) -> dict[Key, RowMapping]:
    """The rows already stored for these attempts (an attempt adopted after an engine
    restart carries on from its peaks)."""
    wanted = set(keys)
    if not wanted:
        return {}
    run_ids = sorted({key[0] for key in wanted})
    query = select(attempt_metrics).where(attempt_metrics.c.run_id.in_(run_ids))
    found = {}
    for row in conn.execute(query).mappings():
        key = (row["run_id"], row["task_name"], row["attempt"])
        if key in wanted:
            found[key] = row
    return found


def save(
    conn: Connection,
    *,
    new: Sequence[dict[str, Any]],
    changed: Sequence[dict[str, Any]],
    points: Sequence[dict[str, Any]],
) -> None:
    """Insert the rows of attempts first sampled (``new``), update the others (``changed``),
    append series points. Rows carry run_id, task_name, attempt and ``PEAK_FIELDS``."""
    if new:
        conn.execute(insert(attempt_metrics), list(new))
    if changed:
        statement = (
            update(attempt_metrics)
            .where(
                attempt_metrics.c.run_id == bindparam("k_run"),
                attempt_metrics.c.task_name == bindparam("k_task"),
                attempt_metrics.c.attempt == bindparam("k_attempt"),
            )
            .values({name: bindparam(name) for name in PEAK_FIELDS if name != "first_at"})
        )
        conn.execute(
            statement,
            [
                {
                    "k_run": row["run_id"],
                    "k_task": row["task_name"],
                    "k_attempt": row["attempt"],
                    **{name: row[name] for name in PEAK_FIELDS if name != "first_at"},
                }
                for row in changed
            ],
        )
    if points:
        conn.execute(insert(attempt_samples), list(points))


def of_run(conn: Connection, *, run_id: str) -> list[RowMapping]:
    """Every sampled attempt of the run, with the attempt's status, by task and attempt."""
    query = (
        select(attempt_metrics, attempts.c.status)
        .outerjoin(
            attempts,
            and_(
                attempts.c.run_id == attempt_metrics.c.run_id,
                attempts.c.task_name == attempt_metrics.c.task_name,
                attempts.c.number == attempt_metrics.c.attempt,
            ),
        )
        .where(attempt_metrics.c.run_id == run_id)
        .order_by(attempt_metrics.c.task_name, attempt_metrics.c.attempt)
    )
    return list(conn.execute(query).mappings())


def series_of_run(conn: Connection, *, run_id: str) -> list[RowMapping]:
    """The run's stored points, by task, attempt and time."""
    t = attempt_samples
    query = (
        select(t.c.task_name, t.c.attempt, t.c.at, t.c.cpu, t.c.rss, t.c.gpu_util, t.c.gpu_mem)
        .where(t.c.run_id == run_id)
        .order_by(t.c.task_name, t.c.attempt, t.c.at, t.c.id)
    )
    return list(conn.execute(query).mappings())


def recent_peaks(conn: Connection, *, pipeline_id: int, runs_per_task: int) -> list[RowMapping]:
    """For each task of the pipeline, the peaks of its succeeded attempts in its
    ``runs_per_task`` newest runs that have one (debug runs left out), newest first:
    task_name, run_id, created_at, attempt, cpu_max, cpu_avg, rss_max, gpu_mem_max."""
    m = attempt_metrics
    ranked = (
        select(
            m.c.task_name,
            m.c.run_id,
            runs.c.created_at,
            m.c.attempt,
            m.c.cpu_max,
            m.c.cpu_avg,
            m.c.rss_max,
            m.c.gpu_mem_max,
            func.row_number()
            .over(partition_by=m.c.task_name, order_by=(runs.c.created_at.desc(), m.c.run_id))
            .label("rank"),
        )
        .join(runs, runs.c.id == m.c.run_id)
        .join(
            attempts,
            and_(
                attempts.c.run_id == m.c.run_id,
                attempts.c.task_name == m.c.task_name,
                attempts.c.number == m.c.attempt,
            ),
        )
        .where(
            runs.c.pipeline_id == pipeline_id,
            runs.c.trigger != "debug",
            attempts.c.status == "succeeded",
        )
        .subquery()
    )
    query = (
        select(ranked)
        .where(ranked.c.rank <= runs_per_task)
        .order_by(ranked.c.task_name, ranked.c.rank)
    )
    return list(conn.execute(query).mappings())


def delete_of_run(conn: Connection, *, run_id: str) -> None:
    conn.execute(delete(attempt_samples).where(attempt_samples.c.run_id == run_id))
    conn.execute(delete(attempt_metrics).where(attempt_metrics.c.run_id == run_id))
