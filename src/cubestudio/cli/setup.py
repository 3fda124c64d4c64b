"""Opening the store and the local driver from the settings."""

from __future__ import annotations

from cubestudio.drivers.local import LocalDriver
from cubestudio.settings import Settings, get_settings
from cubestudio.store.db import Database


def open_db(settings: Settings | None = None) -> Database:
    settings = settings or get_settings()
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url())
    db.ensure_schema()
    return db


def open_driver(settings: Settings | None = None) -> LocalDriver:
    settings = settings or get_settings()
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    return LocalDriver(settings.runs_dir)
