"""The engine service: a lease per run, the engines alive, and who drove which part of a run.

- ``runs.lease_owner / lease_epoch / lease_expires_at``: the one engine allowed to act on a
  run. Claiming bumps the epoch; every write of a turn is conditional on it (fencing).
- ``engines``: each engine process (``cube engine``, and ``cube run`` driving its own run),
  with a heartbeat, so ``cube engine status`` can tell which are alive.
- ``run_leases``: one row per claim, closed when the lease is released or lost.
- ``attempts.engine_id``: the engine that launched the attempt.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from cubestudio.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("lease_owner", sa.String(160), nullable=True))
    op.add_column("runs", sa.Column("lease_epoch", sa.Integer, nullable=False, server_default="0"))
    op.add_column("runs", sa.Column("lease_expires_at", UTCDateTime, nullable=True))
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_lease_owner", "runs", ["lease_owner"])
    op.add_column("attempts", sa.Column("engine_id", sa.String(128), nullable=True))
    op.create_table(
        "engines",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("instance", sa.String(160), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("process_start", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("max_runs", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
        sa.Column("stopped_at", UTCDateTime, nullable=True),
    )
    op.create_table(
        "run_leases",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("engine_id", sa.String(128), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime, nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("run_leases")
    op.drop_table("engines")
    op.drop_index("ix_runs_lease_owner", "runs")
    op.drop_index("ix_runs_status", "runs")
    # Plain ALTER TABLE ... DROP COLUMN on every backend (SQLite has it since 3.35): a batch
    # copy of `runs` would drop a table other tables' foreign keys point at.
    op.drop_column("attempts", "engine_id")
    for column in ("lease_expires_at", "lease_epoch", "lease_owner"):
        op.drop_column("runs", column)
