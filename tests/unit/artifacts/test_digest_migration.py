"""Migration 0004 adds the artifacts' sha256 on every backend; rows stored before it read
back without one (their size alone is checked), and it can be undone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, column, insert, inspect, table, text

from cubestudio.store import runs as store
from cubestudio.store.db import Database, migrate

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).replace(tzinfo=None)


def _columns(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns("artifacts")}


def _insert(conn: Connection, table_name: str, /, **values: object) -> None:
    """A row in a table as 0003 made it (lightweight table: only the columns named)."""
    conn.execute(insert(table(table_name, *(column(c) for c in values))).values(**values))


def _old_row(db: Database) -> None:
    """An artifact as code before 0004 stored it, written in 0003's own columns."""
    common = {"creator": "ann", "spec": "{}", "created_at": NOW}
    with db.engine.begin() as conn:
        _insert(conn, "pipelines", name="p", updated_at=NOW, **common)
        pid = conn.execute(text("SELECT id FROM pipelines")).scalar()
        run = {"id": "r1", "pipeline_id": pid, "pipeline_name": "p", "status": "succeeded"}
        run |= {"trigger": "manual", "execution_date": NOW, "runner": "ann", "params": "{}"}
        _insert(conn, "runs", cluster_name="local", stop_requested=False, **run, **common)
        artifact = {"run_id": "r1", "task_name": "t", "attempt": 1, "name": "model"}
        _insert(
            conn, "artifacts", kind="file", size=700, uri="file:///x", created_at=NOW, **artifact
        )


def test_rows_from_before_digests_read_back_without_one(db_url: str) -> None:
    db = Database(db_url)
    try:
        migrate(db, "0003")
        assert "sha256" not in _columns(db)
        _old_row(db)
        db.ensure_schema()
        with db.begin() as conn:
            (row,) = store.load_artifacts(conn, run_id="r1")
        assert (row["size"], row["sha256"]) == (700, None)
        migrate(db, "0003", down=True)
        assert "sha256" not in _columns(db)
        db.ensure_schema()
        assert "sha256" in _columns(db)
    finally:
        db.dispose()
