"""The access cache keeps a token's user and a member's role for its TTL, and forgets all
of it at once when cleared (a change made through this server)."""

from __future__ import annotations

from cubestudio.api.access import MAX_ENTRIES, AccessCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_live_for_the_ttl_only() -> None:
    clock = Clock()
    cache = AccessCache(ttl=2.0, clock=clock)
    cache.put("token", "ann")
    clock.now += 1.9
    assert cache.get("token") == "ann"
    clock.now += 0.2
    assert cache.get("token") is None  # a change made elsewhere is seen within the TTL


def test_clear_forgets_everything_and_size_is_bounded() -> None:
    cache = AccessCache(ttl=60.0, clock=Clock())
    cache.put(("project", 1), "admin")
    cache.clear()
    assert cache.get(("project", 1)) is None
    for n in range(MAX_ENTRIES + 5):
        cache.put(n, n)
    assert len(cache._entries) <= MAX_ENTRIES


def test_a_token_revoked_by_another_process_stops_within_the_ttl(tmp_path: object) -> None:
    from datetime import UTC, datetime
    from pathlib import Path

    from fastapi.testclient import TestClient

    from cubestudio.api.app import create_app
    from cubestudio.auth import users as auth
    from cubestudio.settings import Settings
    from cubestudio.store import accounts
    from cubestudio.store.db import Database

    assert isinstance(tmp_path, Path)
    url = f"sqlite:///{tmp_path / 'cube.db'}"
    db = Database(url)
    db.ensure_schema()
    now = datetime.now(UTC)
    auth.ensure_admin(db, home=tmp_path / "home", password="a-fine-password", now=now)
    issued = auth.create_token(db, user_id=1, name="ci", now=now, days=1)
    app = create_app(Settings(home=tmp_path / "home", database_url=url), db)
    clock = Clock()
    app.state.access = AccessCache(ttl=2.0, clock=clock)
    headers = {"Authorization": f"Bearer {issued.token}"}
    with TestClient(app) as client:
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        with db.begin() as conn:  # as `cube token revoke` does, in another process
            accounts.revoke_token(conn, user_id=1, token_id=issued.token_id, now=now)
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200  # cached
        clock.now += 2.1
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    db.dispose()
