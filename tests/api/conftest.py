"""The API in-process (FastAPI's TestClient over the real app) on SQLite and PostgreSQL, with
helpers to make users, projects and tokens. Tests through a live uvicorn use ``live_server``
(tests/api/live.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cubestudio.api.app import create_app
from cubestudio.auth import users as auth
from cubestudio.settings import Settings
from cubestudio.store import accounts
from cubestudio.store.db import Database
from tests.conftest import make_db_url

ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "a-long-enough-password"


@dataclass
class Api:
    """A client of the API with the store behind it."""

    client: TestClient
    db: Database
    settings: Settings

    def token(self, name: str, password: str = PASSWORD) -> str:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": name, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def user(self, name: str, *, project: str | None = None, role: str = "developer") -> str:
        """A user (member of ``project`` with ``role`` when given) and a login token."""
        now = datetime.now(UTC)
        user_id = auth.create_user(self.db, name=name, password=PASSWORD, is_admin=False, now=now)
        if project is not None:
            with self.db.begin() as conn:
                row = accounts.get_project(conn, name=project)
                if row is None:
                    project_id = accounts.create_project(
                        conn, name=project, description="", created_by="test", now=now
                    )
                else:
                    project_id = row["id"]
                accounts.set_member(
                    conn, project_id=project_id, user_id=user_id, role=role, now=now
                )
        return self.token(name)

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        return self.client.request(method, f"/api/v1{path}", headers=self.as_(token), **kwargs)


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    for url in make_db_url(request.param, tmp_path):
        settings = Settings(home=tmp_path / "home", database_url=url)
        db = Database(url)
        db.ensure_schema()
        auth.ensure_admin(
            db, home=settings.home_dir, password=ADMIN_PASSWORD, now=datetime.now(UTC)
        )
        app = create_app(settings, db)
        with TestClient(app) as client:
            yield Api(client, db, settings)
        db.dispose()


@pytest.fixture
def admin(api: Api) -> str:
    """A login token of the first admin."""
    return api.token("admin", ADMIN_PASSWORD)


def engine_process(api: Api, engine_id: str) -> Iterator[Any]:
    """The body of an `engine` fixture: a real `cube engine` on the API's store and home,
    stopped (SIGTERM) and its tasks killed when the test ends."""
    import signal

    from tests.conftest import Cube
    from tests.integration.engine_helpers import kill_tasks

    assert api.settings.database_url is not None
    cube = Cube(api.settings.home_dir, api.settings.database_url)
    proc = cube.popen("engine", "--id", engine_id)
    yield proc
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    kill_tasks(api.settings.home_dir)
