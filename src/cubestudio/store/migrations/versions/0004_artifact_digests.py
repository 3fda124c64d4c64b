"""The sha256 of each stored artifact, checked whenever it is handed out.

Rows written before this migration keep a NULL digest: their size alone is checked.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain nullable column: an ADD COLUMN on SQLite, PostgreSQL and MariaDB alike.
    op.add_column("artifacts", sa.Column("sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:  # SQLite drops a column by copying
        batch.drop_column("sha256")
