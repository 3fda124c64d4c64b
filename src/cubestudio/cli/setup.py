"""Opening the store and the local driver from the settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cubestudio.artifacts import open_store
from cubestudio.drivers.local import LocalDriver
from cubestudio.engine.artifacts import ArtifactStore
from cubestudio.private import private_folder
from cubestudio.settings import Settings, get_settings
from cubestudio.store.db import Database

if TYPE_CHECKING:
    from cubestudio.engine.gate import AdmissionGate
    from cubestudio.spec.template import TemplateSpec
    from cubestudio.store.templates import StoreCatalog


def open_db(settings: Settings | None = None) -> Database:
    settings = settings or get_settings()
    ensure_home(settings)
    db = Database(settings.resolved_database_url())
    db.ensure_schema()
    return db


def open_driver(settings: Settings | None = None) -> LocalDriver:
    from cubestudio.monitor.recorder import open_recorder

    settings = settings or get_settings()
    driver = LocalDriver(runs_folder(settings))
    driver.monitor = open_recorder(settings)  # samples the tasks it drives (None: off)
    return driver


def open_gate(settings: Settings | None = None, owner: str = "") -> AdmissionGate:
    """Admission for the tasks this process launches: this machine's pool (or
    CUBE_POOL_CPU / CUBE_POOL_MEMORY / CUBE_POOL_GPU), shared with other processes through
    the store (engine/gate.py)."""
    from cubestudio.engine.admission import machine_pool
    from cubestudio.engine.gate import AdmissionGate

    return AdmissionGate(machine_pool(settings or get_settings()), owner=owner)


def runs_folder(settings: Settings) -> Path:
    """$CUBE_HOME/runs, made private (with $CUBE_HOME) if need be."""
    ensure_home(settings)
    private_folder(
        settings.runs_dir,
        label=str(settings.runs_dir),
        fix="move that file away: the runs folder of CUBE_HOME goes there",
    )
    return settings.runs_dir


def ensure_home(settings: Settings) -> None:
    """$CUBE_HOME as a folder only its owner can reach (made so when it is too open): task
    logs, value outputs and the database below it can hold a run's secrets."""
    home = settings.home_dir
    private_folder(home, label=f"CUBE_HOME={home}", fix="point CUBE_HOME at a folder")


class LazyCatalog:
    """The template registry, opened only when a pipeline really uses a template, so that
    `cube validate` of a plain pipeline needs no database."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._catalog: StoreCatalog | None = None

    def resolve(self, name: str, version: int | None) -> TemplateSpec:
        from cubestudio.store.tables import DEFAULT_PROJECT_ID
        from cubestudio.store.templates import StoreCatalog

        if self._catalog is None:
            # The platform's templates and the default project's (the local CLI's).
            self._catalog = StoreCatalog(
                open_db(self._settings).begin, project_id=DEFAULT_PROJECT_ID
            )
        return self._catalog.resolve(name, version)


def open_artifacts(settings: Settings | None = None) -> ArtifactStore:
    return open_store(settings or get_settings())
