"""Resource monitoring: ``attempt_metrics`` (per attempt: its latest sample and its peaks)
and ``attempt_samples`` (its downsampled series).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from cubestudio.store.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "attempt_metrics",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("task_name", sa.String(63), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("first_at", UTCDateTime, nullable=False),
        sa.Column("sampled_at", UTCDateTime, nullable=False),
        sa.Column("samples", sa.Integer, nullable=False),
        sa.Column("cpu", sa.Float, nullable=False),
        sa.Column("rss", sa.BigInteger, nullable=False),
        sa.Column("gpu_util", sa.Float, nullable=True),
        sa.Column("gpu_mem", sa.BigInteger, nullable=True),
        sa.Column("cpu_avg", sa.Float, nullable=False),
        sa.Column("cpu_max", sa.Float, nullable=False),
        sa.Column("rss_max", sa.BigInteger, nullable=False),
        sa.Column("gpu_util_max", sa.Float, nullable=True),
        sa.Column("gpu_mem_max", sa.BigInteger, nullable=True),
        sa.Column("ended", sa.Boolean, nullable=False),
    )
    op.create_table(
        "attempt_samples",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("task_name", sa.String(63), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("cpu", sa.Float, nullable=False),
        sa.Column("rss", sa.BigInteger, nullable=False),
        sa.Column("gpu_util", sa.Float, nullable=True),
        sa.Column("gpu_mem", sa.BigInteger, nullable=True),
    )
    op.create_index(
        "ix_attempt_samples_attempt",
        "attempt_samples",
        ["run_id", "task_name", "attempt", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_attempt_samples_attempt", table_name="attempt_samples")
    op.drop_table("attempt_samples")
    op.drop_table("attempt_metrics")
