"""The scheduler: one schedule per pipeline, and one record per (pipeline, execution_date).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from cubestudio.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id"), primary_key=True),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("applied_by", sa.String(128), nullable=False),
        sa.Column("start_at", UTCDateTime, nullable=False),
        sa.Column("planned_through", UTCDateTime),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("applied_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "schedule_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id"), nullable=False),
        sa.Column("execution_date", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id")),
        sa.Column("message", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("launched_at", UTCDateTime),
        sa.Column("launches", sa.Integer, nullable=False),
        sa.UniqueConstraint("pipeline_id", "execution_date", name="uq_schedule_records_tick"),
    )
    op.create_index(
        "ix_schedule_records_status",
        "schedule_records",
        ["pipeline_id", "status", "execution_date"],
    )


def downgrade() -> None:
    op.drop_index("ix_schedule_records_status", "schedule_records")
    op.drop_table("schedule_records")
    op.drop_table("schedules")
