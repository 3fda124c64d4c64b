"""The store on every backend: migrations match the table definitions, URLs are normalised
and never leak passwords, timestamps come back as aware UTC with microseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cubestudio.errors import NotFoundError, StoreError
from cubestudio.store import runs as store
from cubestudio.store.db import Database, normalize_url, safe_url
from cubestudio.store.tables import metadata


def test_migrations_create_exactly_the_declared_tables(db_url: str) -> None:
    db = Database(db_url)
    db.ensure_schema()
    db.ensure_schema()  # idempotent
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    db.dispose()
    assert diff == []


def test_times_round_trip_as_aware_utc_with_microseconds(db_url: str) -> None:
    db = Database(db_url)
    db.ensure_schema()
    local = datetime(2026, 3, 8, 3, 15, 0, 123456, tzinfo=timezone(timedelta(hours=-4)))
    with db.begin() as conn:
        pid, creator = store.upsert_pipeline(
            conn, name="p", spec_json="{}", creator="ann", now=local
        )
        again, first_creator = store.upsert_pipeline(
            conn, name="p", spec_json="{}", creator="bob", now=local
        )
    assert again == pid and first_creator == "ann"
    with db.begin() as conn:
        store.insert_run(
            conn,
            run={
                "id": "r1",
                "pipeline_id": pid,
                "pipeline_name": "p",
                "status": "pending",
                "trigger": "manual",
                "execution_date": local,
                "creator": "ann",
                "runner": "ann",
                "cluster_name": "local",
                "spec": "{}",
                "params": "{}",
                "created_at": local,
                "stop_requested": False,
            },
            tasks=[],
        )
        row = store.get_run(conn, run_id="r1")
    db.dispose()
    assert row["execution_date"] == datetime(2026, 3, 8, 7, 15, 0, 123456, tzinfo=UTC)
    assert row["execution_date"].tzinfo is UTC


def test_run_ids_resolve_by_unique_prefix(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    db.ensure_schema()
    with db.begin() as conn:
        with pytest.raises(NotFoundError, match="no run 'zzz'"):
            store.get_run(conn, run_id="zzz")
    db.dispose()


def test_urls_pick_our_drivers_and_hide_passwords() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("mysql://root@h/db") == "mysql+pymysql://root@h/db"
    assert normalize_url("mariadb://root@h/db") == "mysql+pymysql://root@h/db"
    assert safe_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_a_bad_url_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match="is not a database URL"):
        Database("not a url")
    with pytest.raises(StoreError, match="cannot reach the database at mysql"):
        Database("mysql://root:pw@127.0.0.1:1/x").ensure_schema()
