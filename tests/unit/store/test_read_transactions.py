"""Database.read(): on SQLite a deferred transaction that reads beside a writer holding the
write lock (the API's reads never queue behind the engine's turns); elsewhere a plain one."""

from __future__ import annotations

import time

from sqlalchemy import select, text

from cubestudio.store.db import Database
from cubestudio.store.tables import projects


def test_a_read_does_not_wait_for_a_writer_on_sqlite(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    db.ensure_schema()
    try:
        with db.begin() as writer:  # BEGIN IMMEDIATE: the write lock held until the commit
            writer.execute(text("UPDATE projects SET description = 'changing'"))
            started = time.monotonic()
            with db.read() as reader:
                seen = reader.execute(select(projects.c.description)).scalar()
            waited = time.monotonic() - started
        assert seen != "changing"  # the snapshot before the writer's commit
        assert waited < 1.0  # begin() here would wait busy_timeout (30 s), then fail
        with db.read() as reader:
            assert reader.execute(select(projects.c.description)).scalar() == "changing"
    finally:
        db.dispose()


def test_reads_work_on_every_backend(db: Database) -> None:
    with db.read() as conn:
        assert conn.execute(select(projects.c.name)).scalar() == "default"
