"""Opening the store and the local driver from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cubestudio.artifacts import open_store
from cubestudio.drivers.local import LocalDriver
from cubestudio.engine.artifacts import ArtifactStore
from cubestudio.settings import Settings, get_settings
from cubestudio.store.db import Database

if TYPE_CHECKING:
    from cubestudio.spec.template import TemplateSpec
    from cubestudio.store.templates import StoreCatalog


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


class LazyCatalog:
    """The template registry, opened only when a pipeline really uses a template, so that
    `cube validate` of a plain pipeline needs no database."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._catalog: StoreCatalog | None = None

    def resolve(self, name: str, version: int | None) -> TemplateSpec:
        from cubestudio.store.templates import StoreCatalog

        if self._catalog is None:
            self._catalog = StoreCatalog(open_db(self._settings).begin)
        return self._catalog.resolve(name, version)


def open_artifacts(settings: Settings | None = None) -> ArtifactStore:
    return open_store(settings or get_settings())
