"""A run nobody kept secrets for (a scheduled one) gets its project secrets from the engine's
lookup when it is loaded; the lookup is asked only for pipelines that refer to one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.spec.model import PipelineSpec
from cubestudio.store.db import Database

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WITH_SECRET = """
name: s
env:
  TOKEN: {secret: true, from_secret: API_TOKEN}
tasks:
  - {name: a, command: "true"}
"""


def test_the_engine_looks_project_secrets_up_for_the_run_s_project(db: Database) -> None:
    run_id = create_run(db, spec=load_pipeline_text(WITH_SECRET), params={}, now=T0)
    asked: list[tuple[int, str]] = []

    def lookup(project_id: int, spec: PipelineSpec) -> dict[str, str]:
        asked.append((project_id, spec.name))
        return {"API_TOKEN": "s3cret"}

    driver = MemoryDriver()
    controller = load_controller(
        db, driver, run_id, kill_grace=1, environ={}, project_secrets=lookup
    )
    controller.start(T0)
    assert asked == [(1, "s")]
    (request,) = driver.launched
    assert request.env["TOKEN"] == "s3cret"


def test_no_lookup_for_a_pipeline_without_project_secrets(db: Database) -> None:
    plain = "name: p\ntasks:\n  - {name: a, command: 'true'}\n"
    run_id = create_run(db, spec=load_pipeline_text(plain), params={}, now=T0)

    def lookup(*_args: Any) -> dict[str, str]:
        raise AssertionError("not asked")

    load_controller(db, MemoryDriver(), run_id, kill_grace=1, environ={}, project_secrets=lookup)
