"""Admission (F13): ``queues`` (a project's capability and weight), ``allocations`` (what
each admitted task holds of the pool, across every process that launches tasks) and
``pool_lock`` (one row that admission deciders lock, so two never hand out one GPU).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from cubestudio.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queues",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("cpu", sa.Float, nullable=True),
        sa.Column("memory", sa.BigInteger, nullable=True),
        sa.Column("gpu", sa.Integer, nullable=True),
        sa.Column("weight", sa.Float, nullable=False, server_default="1"),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "allocations",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("task_name", sa.String(63), primary_key=True),
        sa.Column("owner", sa.String(160), nullable=False),
        sa.Column("queue", sa.String(63), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cpu", sa.Float, nullable=False),
        sa.Column("memory", sa.BigInteger, nullable=False),
        sa.Column("gpu", sa.Integer, nullable=False),
        sa.Column("shareable", sa.Boolean, nullable=False),
        sa.Column("workers", sa.Integer, nullable=False),
        sa.Column("gpus", sa.Text, nullable=False),
        sa.Column("granted_at", UTCDateTime, nullable=False),
    )
    op.create_table("pool_lock", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO pool_lock (id) VALUES (1)")


def downgrade() -> None:
    op.drop_table("pool_lock")
    op.drop_table("allocations")
    op.drop_table("queues")
