"""Keyword-only functions over the webhook outbox (``alert_deliveries``).

The engine records deliveries in the transaction of the turn that made the move (``record``),
so an alert exists exactly when its move was committed. Senders take due deliveries with
``claim_due``: the rows are locked while claimed (skipped by a concurrent sender) and held
for ``hold_until`` by moving their next_try_at, so the HTTP call happens outside any
transaction; a sender that dies mid-call leaves them due again at ``hold_until`` (delivery is
at least once: receivers dedupe on the X-Cube-Delivery id). ``finish`` writes the outcome
only while the claim is still the sender's own (the tries it claimed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, insert, select, update

from cubestudio.store.tables import alert_deliveries, projects, runs

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def record(conn: Connection, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert deliveries (one executemany): run_id, task_name, event, url, payload,
    next_try_at, created_at; each starts pending with no tries."""
    if rows:
        conn.execute(insert(alert_deliveries), [{**r, "status": PENDING, "tries": 0} for r in rows])


def _locked(conn: Connection, query: Any) -> Any:
    """Row locks skipped by a concurrent claimer on PostgreSQL and MariaDB; SQLite's BEGIN
    IMMEDIATE (every transaction of ours) holds the whole database instead."""
    if conn.dialect.name == "sqlite":
        return query
    return query.with_for_update(skip_locked=True)


def claim_due(
    conn: Connection, *, now: datetime, hold_until: datetime, limit: int
) -> list[dict[str, Any]]:
    """Pending deliveries due at ``now``, oldest first, claimed: their tries counted and
    their next_try_at moved to ``hold_until``. Each row as claimed, with ``project`` (the
    name of its run's project; None when the run is gone)."""
    query = (
        select(alert_deliveries)
        .where(alert_deliveries.c.status == PENDING, alert_deliveries.c.next_try_at <= now)
        .order_by(alert_deliveries.c.next_try_at, alert_deliveries.c.id)
        .limit(limit)
    )
    rows = [dict(r) for r in conn.execute(_locked(conn, query)).mappings()]
    if not rows:
        return []
    conn.execute(
        update(alert_deliveries)
        .where(alert_deliveries.c.id == bindparam("b_id"))
        .values(tries=bindparam("b_tries"), next_try_at=hold_until),
        [{"b_id": r["id"], "b_tries": r["tries"] + 1} for r in rows],
    )
    names = _project_names(conn, run_ids={r["run_id"] for r in rows})
    for row in rows:
        row["tries"] += 1
        row["next_try_at"] = hold_until
        row["project"] = names.get(row["run_id"])
    return rows


def _project_names(conn: Connection, *, run_ids: set[str]) -> dict[str, str]:
    query = (
        select(runs.c.id, projects.c.name)
        .join(projects, projects.c.id == runs.c.project_id)
        .where(runs.c.id.in_(sorted(run_ids)))
    )
    return {row.id: row.name for row in conn.execute(query)}


def finish(
    conn: Connection,
    *,
    delivery_id: int,
    tries: int,
    status: str,
    now: datetime,
    next_try_at: datetime | None = None,
    error: str | None = None,
) -> bool:
    """The outcome of a claimed try: delivered, failed for good, or pending again at
    ``next_try_at``. False (nothing written) when the claim is no longer this sender's."""
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == DELIVERED:
        values["delivered_at"] = now
    if next_try_at is not None:
        values["next_try_at"] = next_try_at
    result = conn.execute(
        update(alert_deliveries)
        .where(
            alert_deliveries.c.id == delivery_id,
            alert_deliveries.c.tries == tries,
            alert_deliveries.c.status == PENDING,
        )
        .values(**values)
    )
    return result.rowcount == 1


def of_run(conn: Connection, *, run_id: str, limit: int = 500) -> list[RowMapping]:
    """The run's deliveries, in the order they were recorded."""
    query = (
        select(alert_deliveries)
        .where(alert_deliveries.c.run_id == run_id)
        .order_by(alert_deliveries.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def delete_of_run(conn: Connection, *, run_id: str) -> None:
    """For ``runs.delete_run``: a deleted run's deliveries go with it."""
    conn.execute(delete(alert_deliveries).where(alert_deliveries.c.run_id == run_id))
