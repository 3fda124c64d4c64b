"""Keyword-only functions over run leases and the engines table (the engine service).

A run's lease (``lease_owner``, ``lease_epoch``, ``lease_expires_at``) names the one engine
process allowed to act on it. Claiming bumps the epoch; each turn's writes start with
``fence``, an update conditional on the owner and the epoch, so a process that lost its lease
(paused past expiry, then taken over) writes nothing: its whole transaction is rolled back.
``lease_owner`` is an engine *instance* ("<engine id>/<random>"), never the bare id, so a
paused process cannot mistake a later one with the same id for itself.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    bindparam,
    func,
    insert,
    or_,
    select,
    true,
    tuple_,
    update,
)

from cubestudio.store.tables import engines, run_leases, runs

ACTIVE = ("pending", "running")
_LEASE_COLUMNS = (
    runs.c.id,
    runs.c.status,
    runs.c.trigger,
    runs.c.lease_owner,
    runs.c.lease_epoch,
    runs.c.lease_expires_at,
    runs.c.engine_pid,
    runs.c.engine_host,
    runs.c.engine_start,
)


def _locked(conn: Connection, query: Any, *, skip_locked: bool = False) -> Any:
    """Row locks on PostgreSQL and MariaDB; SQLite's BEGIN IMMEDIATE holds the database."""
    if conn.dialect.name == "sqlite":
        return query
    return query.with_for_update(skip_locked=skip_locked)


def lease_of(conn: Connection, *, run_id: str) -> RowMapping | None:
    """The run's lease and status, its row locked until the transaction ends."""
    query = select(*_LEASE_COLUMNS).where(runs.c.id == run_id)
    return conn.execute(_locked(conn, query)).mappings().first()


def claimable(
    conn: Connection, *, now: datetime, host: str, limit: int, own_prefix: str | None = None
) -> list[RowMapping]:
    """Active runs nobody holds (no lease, or an expired one), oldest first, locked and
    skipped by a concurrent claimer. Runs whose attempts started on another host stay with
    that host (the local driver adopts processes only where they run). ``own_prefix``: also
    runs held by an earlier process of this engine id (its restart takes them at once)."""
    free = or_(runs.c.lease_owner.is_(None), runs.c.lease_expires_at < now)
    if own_prefix is not None:
        escaped = own_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        free = or_(free, runs.c.lease_owner.like(f"{escaped}%", escape="\\"))
    query = (
        select(*_LEASE_COLUMNS)
        .where(
            runs.c.status.in_(ACTIVE),
            free,
            or_(
                runs.c.engine_host.is_(None),
                runs.c.engine_host == host,
                runs.c.status == "pending",
            ),
        )
        .order_by(runs.c.created_at)
        .limit(limit)
    )
    return list(conn.execute(_locked(conn, query, skip_locked=True)).mappings())


def claim(
    conn: Connection,
    *,
    seen: dict[str, int],
    owner: str,
    engine_id: str,
    host: str,
    pid: int,
    process_start: str,
    now: datetime,
    expires_at: datetime,
) -> dict[str, int]:
    """Take the lease of each run in ``seen`` (run id -> the epoch read) whose epoch is still
    the one read: {run id: new epoch} of the runs taken. Runs another process claimed first
    are left out. A batch costs three statements, whatever its size."""
    if not seen:
        return {}
    params = [{"rid": run_id, "seen": epoch, "next": epoch + 1} for run_id, epoch in seen.items()]
    result = conn.execute(
        update(runs)
        .where(runs.c.id == bindparam("rid"), runs.c.lease_epoch == bindparam("seen"))
        .values(
            lease_owner=owner,
            lease_epoch=bindparam("next"),
            lease_expires_at=expires_at,
            engine_pid=pid,
            engine_host=host,
            engine_start=process_start,
        ),
        params,
    )
    taken = {run_id: epoch + 1 for run_id, epoch in seen.items()}
    if result.rowcount != len(params):  # some were claimed first elsewhere: which ones
        mine = conn.execute(
            select(runs.c.id, runs.c.lease_epoch).where(
                runs.c.id.in_(list(seen)), runs.c.lease_owner == owner
            )
        )
        held = {row.id: row.lease_epoch for row in mine}
        taken = {r: e for r, e in taken.items() if held.get(r) == e}
    if not taken:
        return {}
    conn.execute(
        update(run_leases)
        .where(run_leases.c.run_id.in_(list(taken)), run_leases.c.ended_at.is_(None))
        .values(ended_at=now, end_reason="taken_over")
    )
    conn.execute(
        insert(run_leases),
        [
            {"run_id": r, "epoch": e, "engine_id": engine_id, "host": host, "claimed_at": now}
            for r, e in taken.items()
        ],
    )
    return taken


def fence(conn: Connection, *, run_id: str, owner: str, epoch: int, expires_at: datetime) -> bool:
    """Renew the lease if this process still holds it: the first statement of every turn's
    transaction, which the caller rolls back when it returns False."""
    result = conn.execute(
        update(runs)
        .where(runs.c.id == run_id, runs.c.lease_owner == owner, runs.c.lease_epoch == epoch)
        .values(lease_expires_at=expires_at)
    )
    return result.rowcount == 1


def fence_many(
    conn: Connection, *, owner: str, epochs: dict[str, int], expires_at: datetime
) -> bool:
    """``fence`` for many runs in one statement: True when this process still holds every
    one (all renewed). False when it lost any: the others are renewed, and the caller fences
    run by run to learn which were lost."""
    result = conn.execute(
        update(runs)
        .where(
            runs.c.id.in_(list(epochs)),  # the primary key's index: the pair alone may scan
            runs.c.lease_owner == owner,
            tuple_(runs.c.id, runs.c.lease_epoch).in_(list(epochs.items())),
        )
        .values(lease_expires_at=expires_at)
    )
    return result.rowcount == len(epochs)


def renew_all(
    conn: Connection, *, owner: str, held: Collection[str], now: datetime, expires_at: datetime
) -> set[str]:
    """Renew every lease ``owner`` holds in one statement; the held runs it lost."""
    result = conn.execute(
        update(runs)
        .where(runs.c.lease_owner == owner, runs.c.lease_expires_at >= now)
        .values(lease_expires_at=expires_at)
    )
    if result.rowcount >= len(held):
        return set()
    still = conn.execute(
        select(runs.c.id).where(runs.c.lease_owner == owner, runs.c.lease_expires_at >= now)
    ).scalars()
    return set(held) - set(still)


def release(
    conn: Connection, *, owner: str, run_ids: Collection[str], now: datetime, reason: str
) -> None:
    """Give the leases up at once (a peer may claim them now); attempts keep running."""
    if not run_ids:
        return
    ids = list(run_ids)
    conn.execute(
        update(runs)
        .where(runs.c.id.in_(ids), runs.c.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )
    conn.execute(
        update(run_leases)
        .where(run_leases.c.run_id.in_(ids), run_leases.c.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )


def stop_requests(conn: Connection, *, owner: str) -> list[str]:
    """The runs this process holds whose stop was requested."""
    query = select(runs.c.id).where(
        runs.c.lease_owner == owner, runs.c.stop_requested == true(), runs.c.status.in_(ACTIVE)
    )
    return list(conn.execute(query).scalars())


def leases_of(conn: Connection, *, run_id: str) -> list[RowMapping]:
    """Which engine drove which part of the run, oldest claim first."""
    query = select(run_leases).where(run_leases.c.run_id == run_id).order_by(run_leases.c.epoch)
    return list(conn.execute(query).mappings())


# -- engines ------------------------------------------------------------------------------------
def get_engine(conn: Connection, *, engine_id: str) -> RowMapping | None:
    query = select(engines).where(engines.c.id == engine_id)
    return conn.execute(_locked(conn, query)).mappings().first()


def register_engine(conn: Connection, *, row: dict[str, Any]) -> None:
    """Insert or replace the engine's row (the caller checked no live process has the id)."""
    if get_engine(conn, engine_id=row["id"]) is None:
        conn.execute(insert(engines).values(**row))
    else:
        conn.execute(update(engines).where(engines.c.id == row["id"]).values(**row))


def beat(conn: Connection, *, instance: str, now: datetime) -> bool:
    """The engine's heartbeat; False when a later process took its id over."""
    result = conn.execute(
        update(engines).where(engines.c.instance == instance).values(heartbeat_at=now)
    )
    return result.rowcount == 1


def stop_engine(conn: Connection, *, instance: str, now: datetime) -> None:
    conn.execute(
        update(engines)
        .where(engines.c.instance == instance)
        .values(stopped_at=now, heartbeat_at=now)
    )


def list_engines(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(engines).order_by(engines.c.id)).mappings())


def runs_held(conn: Connection, *, owners: Collection[str]) -> list[RowMapping]:
    """The runs the given engine instances hold, with their lease times."""
    if not owners:
        return []
    query = (
        select(runs.c.id, runs.c.pipeline_name, runs.c.status, *_LEASE_COLUMNS[3:6])
        .where(runs.c.lease_owner.in_(list(owners)), runs.c.status.in_(ACTIVE))
        .order_by(runs.c.created_at)
    )
    return list(conn.execute(query).mappings())


def active_unowned(conn: Connection, *, now: datetime) -> int:
    """How many active runs no live lease covers: waiting for an engine."""
    query = select(func.count()).where(
        runs.c.status.in_(ACTIVE),
        or_(runs.c.lease_owner.is_(None), runs.c.lease_expires_at < now),
    )
    return int(conn.execute(query).scalar() or 0)
