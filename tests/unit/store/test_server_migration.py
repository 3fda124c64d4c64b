"""Migration 0006 (the server's tables) on every backend, over a store that already has
pipelines and runs: they land in the `default` project, pipeline names become unique per
project instead of platform-wide, and the migration can be undone and done again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, column, insert, inspect, select, table, text
from sqlalchemy.exc import IntegrityError

from cubestudio.store.db import Database, migrate
from cubestudio.store.tables import pipelines, projects, runs, task_runs

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).replace(tzinfo=None)


def _insert(conn: Connection, table_name: str, /, **values: object) -> None:
    """A row written in the columns an older revision had (a lightweight table)."""
    conn.execute(insert(table(table_name, *(column(c) for c in values))).values(**values))


def _old_rows(db: Database) -> None:
    """A pipeline, a run and its task as code before 0006 stored them."""
    common = {"creator": "ann", "spec": "{}", "created_at": NOW}
    with db.engine.begin() as conn:
        _insert(conn, "pipelines", name="daily", updated_at=NOW, **common)
        pid = conn.execute(text("SELECT id FROM pipelines")).scalar()
        run = {"id": "r1", "pipeline_id": pid, "pipeline_name": "daily", "status": "succeeded"}
        run |= {"trigger": "manual", "execution_date": NOW, "runner": "ann", "params": "{}"}
        _insert(conn, "runs", cluster_name="local", stop_requested=False, **run, **common)
        task = {"run_id": "r1", "name": "t", "position": 0, "status": "succeeded"}
        _insert(conn, "task_runs", attempts=1, retry_base=0, **task)
        _insert(conn, "templates", name="shell", version=1, spec="{}", creator="a", created_at=NOW)


def test_existing_rows_move_to_the_default_project(db_url: str) -> None:
    db = Database(db_url)
    try:
        migrate(db, "0005")
        _old_rows(db)
        db.ensure_schema()
        with db.begin() as conn:
            project = conn.execute(select(projects)).mappings().one()
            pipeline = conn.execute(select(pipelines)).mappings().one()
            run = conn.execute(select(runs)).mappings().one()
            task = conn.execute(select(task_runs)).mappings().one()
            template_project = conn.execute(text("SELECT project_id FROM templates")).scalar()
        assert (project["id"], project["name"]) == (1, "default")
        assert (pipeline["name"], pipeline["project_id"], pipeline["latest_version"]) == (
            "daily",
            1,
            0,
        )
        assert (run["id"], run["project_id"], run["pipeline_version"]) == ("r1", 1, None)
        assert run["pipeline_id"] == pipeline["id"] and task["status"] == "succeeded"
        assert template_project is None  # platform-wide
    finally:
        db.dispose()


def test_pipeline_names_are_unique_per_project(db: Database) -> None:
    common = {"creator": "ann", "spec": "{}", "created_at": NOW, "updated_at": NOW}
    with db.begin() as conn:
        conn.execute(insert(projects).values(name="team-b", created_by="ann", created_at=NOW))
        other = conn.execute(select(projects.c.id).where(projects.c.name == "team-b")).scalar()
        conn.execute(insert(pipelines).values(name="daily", project_id=1, **common))
        conn.execute(insert(pipelines).values(name="daily", project_id=other, **common))
    with pytest.raises(IntegrityError), db.begin() as conn:
        conn.execute(insert(pipelines).values(name="daily", project_id=other, **common))


def test_it_can_be_undone_and_done_again(db_url: str) -> None:
    db = Database(db_url)
    try:
        migrate(db, "0005")
        _old_rows(db)
        db.ensure_schema()
        migrate(db, "0005", down=True)
        with db.engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            columns = {c["name"] for c in inspect(conn).get_columns("runs")}
        assert "projects" not in names and "project_id" not in columns
        db.ensure_schema()
        with db.begin() as conn:
            assert conn.execute(select(runs.c.project_id)).scalar() == 1
    finally:
        db.dispose()
