"""The server: projects, users and their roles, API tokens, pipeline versions, project
secrets, the event log the live views stream, and the webhook outbox of alerts.

- ``projects`` with a first row, ``default`` (id 1): what existed before belongs to it, and
  the local CLI keeps using it.
- ``pipelines.project_id`` (names are unique per project, no longer platform-wide),
  ``latest_version`` and ``deleted_at``; ``pipeline_versions`` keeps every save.
- ``runs.project_id`` and ``runs.pipeline_version``; ``templates.project_id`` (NULL:
  platform-wide).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from cubestudio.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# SQLite's unique constraint on pipelines.name has no name: batch mode reflects it under this
# one, so that it can be dropped.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    _server_tables()
    op.execute(
        sa.text(
            "INSERT INTO projects (name, description, created_by, created_at) "
            "VALUES ('default', 'The project of everything made before projects existed "
            "and of the local CLI', 'system', CURRENT_TIMESTAMP)"
        )
    )
    _pipelines_per_project()
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("project_id", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("pipeline_version", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_runs_project", "projects", ["project_id"], ["id"])
        batch.create_index("ix_runs_project_created", ["project_id", "created_at", "id"])
        batch.create_index("ix_runs_project_status", ["project_id", "status"])
    with op.batch_alter_table("templates") as batch:
        batch.add_column(sa.Column("project_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_templates_project", "projects", ["project_id"], ["id"])


def _pipelines_per_project() -> None:
    uniques = sa.inspect(op.get_bind()).get_unique_constraints("pipelines")
    old = next(
        (u["name"] for u in uniques if u["column_names"] == ["name"] and u["name"]),
        "uq_pipelines_name",
    )
    with op.batch_alter_table("pipelines", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("project_id", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("latest_version", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("deleted_at", UTCDateTime, nullable=True))
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint("uq_pipelines_project_name", ["project_id", "name"])
        batch.create_foreign_key("fk_pipelines_project", "projects", ["project_id"], ["id"])


def _server_tables() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("disabled_at", UTCDateTime, nullable=True),
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("last_used_at", UTCDateTime, nullable=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"])
    op.create_table(
        "project_secrets",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "pipeline_versions",
        sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("layout", sa.Text, nullable=True),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_run", "events", ["run_id", "id"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("task_name", sa.String(63), nullable=True),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("next_try_at", UTCDateTime, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_alert_deliveries_due", "alert_deliveries", ["status", "next_try_at"])
    op.create_index("ix_alert_deliveries_run", "alert_deliveries", ["run_id"])


def downgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.drop_constraint("fk_templates_project", type_="foreignkey")
        batch.drop_column("project_id")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("fk_runs_project", type_="foreignkey")  # MySQL: before its index
        batch.drop_index("ix_runs_project_created")
        batch.drop_index("ix_runs_project_status")
        batch.drop_column("pipeline_version")
        batch.drop_column("project_id")
    with op.batch_alter_table("pipelines") as batch:
        batch.drop_constraint("fk_pipelines_project", type_="foreignkey")
        batch.drop_constraint("uq_pipelines_project_name", type_="unique")
        batch.create_unique_constraint("uq_pipelines_name", ["name"])
        batch.drop_column("deleted_at")
        batch.drop_column("latest_version")
        batch.drop_column("project_id")
    for table in (
        "alert_deliveries",
        "events",
        "pipeline_versions",
        "project_secrets",
        "api_tokens",
        "project_members",
        "users",
        "projects",
    ):
        op.drop_table(table)
