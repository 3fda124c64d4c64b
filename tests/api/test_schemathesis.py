"""Property-based requests generated from the OpenAPI document by schemathesis, made as
the platform admin against an app on SQLite with a pipeline and a run in it: no input may
give a 5xx. Bounded (a few examples per operation); the endless streams (events, followed
logs) are left out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from cubestudio.api.app import create_app
from cubestudio.auth import users as auth
from cubestudio.settings import Settings
from cubestudio.store.db import Database

TOKEN: dict[str, str] = {}
STATUSES: list[int] = []
PIPELINE = {"name": "p", "tasks": [{"name": "a", "command": "true"}]}


@pytest.fixture
def api_schema(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'cube.db'}"
    settings_ = Settings(home=tmp_path / "home", database_url=url)
    db = Database(url)
    db.ensure_schema()
    auth.ensure_admin(db, home=settings_.home_dir, password="a-fine-password", now=_now())
    TOKEN["value"] = auth.create_token(db, user_id=1, name="fuzz", now=_now(), days=1).token
    app = create_app(settings_, db)
    headers = {"Authorization": f"Bearer {TOKEN['value']}"}
    with TestClient(app) as client:  # something to find: a pipeline, a version, a run
        client.post("/api/v1/projects/default/pipelines", json={"spec": PIPELINE}, headers=headers)
        client.post("/api/v1/projects/default/pipelines/p/runs", json={}, headers=headers)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    return schema.exclude(path_regex=r"/events$").exclude(path_regex=r"/logs$")


def _now() -> datetime:
    return datetime.now(UTC)


def test_no_input_gives_a_server_error(api_schema: Any) -> None:
    """Every operation, each with a few generated requests (hypothesis, derandomized)."""
    headers = {"Authorization": f"Bearer {TOKEN['value']}"}
    checked = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            STATUSES.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.text[:500])

        check()
        checked += 1
    assert checked >= 30  # every route of the API but the two streams
    assert len(STATUSES) >= 3 * checked and any(200 <= code < 300 for code in STATUSES)
