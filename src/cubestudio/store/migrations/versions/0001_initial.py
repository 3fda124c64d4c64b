"""Initial schema: pipelines, runs, task runs and attempts.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from cubestudio.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("creator", sa.String(128), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id"), nullable=False),
        sa.Column("pipeline_name", sa.String(63), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("execution_date", UTCDateTime, nullable=False),
        sa.Column("creator", sa.String(128), nullable=False),
        sa.Column("runner", sa.String(128), nullable=False),
        sa.Column("cluster_name", sa.String(63), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("deadline", UTCDateTime),
        sa.Column("message", sa.Text),
        sa.Column("stop_requested", sa.Boolean, nullable=False),
        sa.Column("engine_pid", sa.Integer),
        sa.Column("engine_host", sa.String(255)),
        sa.Column("engine_start", sa.String(32)),
    )
    op.create_index("ix_runs_created_at", "runs", ["created_at"])
    op.create_index("ix_runs_pipeline_created", "runs", ["pipeline_id", "created_at"])
    op.create_table(
        "task_runs",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("retry_base", sa.Integer, nullable=False),
        sa.Column("exit_code", sa.Integer),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("next_try_at", UTCDateTime),
        sa.Column("message", sa.Text),
        sa.Column("outputs", sa.Text),
    )
    op.create_table(
        "attempts",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("task_name", sa.String(63), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("exit_code", sa.Integer),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("deadline", UTCDateTime),
        sa.Column("kill_reason", sa.String(16)),
        sa.Column("kill_at", UTCDateTime),
        sa.Column("message", sa.Text),
        sa.Column("outputs", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("attempts")
    op.drop_table("task_runs")
    op.drop_index("ix_runs_pipeline_created", "runs")
    op.drop_index("ix_runs_created_at", "runs")
    op.drop_table("runs")
    op.drop_table("pipelines")
