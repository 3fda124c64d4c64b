"""Who may act on a run: the lease an engine process holds, and the rules for taking one.

Every process that drives runs (``cube engine``, and ``cube run``/``retry``/``resume``/
``stop``/``debug`` driving one run themselves) is an engine *instance* with a token
"<engine id>/<random>". Taking a run is compare-and-set on its epoch; every turn's
transaction starts with a fence on (owner, epoch), so a process that lost the run changes
nothing: intent is committed before every side effect, and its intent no longer commits.
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from cubestudio.errors import StateError
from cubestudio.procinfo import is_alive, own_identity
from cubestudio.store import leases as store


class LeaseLost(StateError):
    """This process no longer holds the run: another engine took it over."""


@dataclass
class Identity:
    """This process as an engine: its id (shown to users) and its instance token."""

    engine_id: str
    host: str = field(default_factory=socket.gethostname)
    instance: str = ""
    pid: int = 0
    process_start: str = ""

    def __post_init__(self) -> None:
        if not self.instance:
            self.instance = f"{self.engine_id}/{secrets.token_hex(6)}"
        if not self.pid:
            self.pid, self.process_start = own_identity()

    @classmethod
    def for_cli(cls) -> Identity:
        """A `cube run` (or retry, resume, stop, debug) process driving one run itself."""
        pid, start = own_identity()
        engine_id = f"cli-{socket.gethostname()}-{pid}"
        # One instance per process (not per call): a run this process holds stays its own.
        return cls(engine_id=engine_id, instance=f"{engine_id}/{start}")


@dataclass
class Lease:
    """A run held by this process: the epoch its writes are fenced with, and until when the
    lease holds unless renewed."""

    run_id: str
    owner: str
    epoch: int
    seconds: float
    expires_at: datetime

    def renewed_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)

    def fence(self, conn: Connection, now: datetime) -> None:
        """The first statement of a turn's transaction: renew, or raise LeaseLost (the
        caller's transaction then rolls back, so nothing of the turn is written)."""
        until = self.renewed_until(now)
        if not store.fence(
            conn, run_id=self.run_id, owner=self.owner, epoch=self.epoch, expires_at=until
        ):
            raise LeaseLost(
                f"run {self.run_id} was taken over by another engine; this one lets it go"
            )
        self.expires_at = until

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def holder_text(row: Any, now: datetime) -> str:
    """'engine E (process P on host H, lease 4s left)' for messages."""
    owner = str(row["lease_owner"] or "?").split("/")[0]
    left = (row["lease_expires_at"] - now).total_seconds() if row["lease_expires_at"] else 0.0
    return (
        f"engine {owner} (process {row['engine_pid']} on host {row['engine_host']}, "
        f"lease {max(left, 0.0):.0f}s left)"
    )


def take(
    conn: Connection,
    *,
    run_id: str,
    me: Identity,
    now: datetime,
    seconds: float,
) -> Lease:
    """Take the run's lease for this process, or raise StateError saying who holds it.

    Free: nobody holds it, its lease expired, this process holds it already, or its holder
    is a process on this host that is gone (no need to wait for expiry). A run whose tasks
    were started on another host can only be taken there: the local driver adopts
    processes only where they run."""
    row = store.lease_of(conn, run_id=run_id)
    if row is None:
        raise StateError(f"run {run_id} no longer exists")
    same_host = row["engine_host"] in (None, me.host)
    holder_gone = same_host and not is_alive(row["engine_pid"], row["engine_start"])
    free = (
        row["lease_owner"] is None
        or row["lease_owner"] == me.instance
        or row["lease_expires_at"] is None
        or row["lease_expires_at"] <= now
        or holder_gone
    )
    if not free:
        raise StateError(f"run {run_id} is driven by {holder_text(row, now)}")
    if not same_host and row["status"] == "running":
        raise StateError(
            f"run {run_id} has tasks started on host {row['engine_host']}: resume it there "
            "(the local driver adopts processes only on the host they run on)"
        )
    until = now + timedelta(seconds=seconds)
    taken = store.claim(
        conn,
        seen={run_id: row["lease_epoch"]},
        owner=me.instance,
        engine_id=me.engine_id,
        host=me.host,
        pid=me.pid,
        process_start=me.process_start,
        now=now,
        expires_at=until,
    )
    if run_id not in taken:  # a concurrent claimer won between our read and write
        raise StateError(f"run {run_id} was just taken by another engine")
    return Lease(run_id, me.instance, taken[run_id], seconds, until)
