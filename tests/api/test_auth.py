"""Logins, tokens and the rules every route obeys: a token is needed everywhere but login
and health; revoked and expired tokens stop working; failed logins are rate-limited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from cubestudio.auth.tokens import new_token
from cubestudio.store import accounts
from tests.api.conftest import ADMIN_PASSWORD, PASSWORD, Api

OPEN = {("/api/v1/auth/login", "post"), ("/healthz", "get"), ("/metrics", "get")}


def test_every_route_but_login_needs_a_token(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    checked = 0
    for path, methods in spec["paths"].items():
        for method in methods:
            if (path, method) in OPEN:
                continue
            url = re.sub(r"\{[^}]+\}", "x", path)
            response = api.client.request(method.upper(), url)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
            checked += 1
    assert checked >= 10
    assert api.client.get("/healthz").json()["status"] == "ok"


def test_login_gives_a_bearer_token_and_a_wrong_password_does_not(api: Api) -> None:
    ok = api.client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    me = api.client.get("/api/v1/auth/me", headers=api.as_(ok.json()["access_token"])).json()
    assert (me["name"], me["is_admin"]) == ("admin", True)
    bad = api.client.post("/api/v1/auth/login", json={"username": "admin", "password": "nope"})
    assert bad.status_code == 401
    assert bad.json()["error"] == {
        "code": "unauthorized",
        "message": "wrong user name or password",
        "field": "password",
    }
    unknown = api.client.post("/api/v1/auth/login", json={"username": "zed", "password": "x"})
    assert unknown.status_code == 401  # the same answer: names are not revealed


def test_failed_logins_are_rate_limited_per_user(api: Api) -> None:
    for _ in range(5):
        response = api.client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": "wrong"}
        )
        assert response.status_code == 401
    blocked = api.client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"]["code"] == "too_many_attempts"


def test_api_tokens_are_shown_once_listed_without_secret_and_revocable(
    api: Api, admin: str
) -> None:
    created = api.call("POST", "/auth/tokens", admin, json={"name": "ci"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("cube_api_")
    assert api.call("GET", "/auth/me", token).json()["name"] == "admin"
    listed = api.call("GET", "/auth/tokens", admin).json()
    assert [t["name"] for t in listed] == ["ci"]
    assert token not in str(listed) and "token" not in listed[0]
    assert api.call("DELETE", f"/auth/tokens/{listed[0]['id']}", admin).status_code == 204
    assert api.call("GET", "/auth/me", token).status_code == 401
    with api.db.begin() as conn:  # only the hash is stored
        rows = accounts.list_tokens(conn, user_id=1)
    assert token not in str([dict(r) for r in rows])


def test_an_expired_token_stops_working(api: Api) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    issued = new_token("api")
    with api.db.begin() as conn:
        accounts.add_token(
            conn,
            user_id=1,
            kind="api",
            name="old",
            token_hash=issued.token_hash,
            prefix=issued.prefix,
            now=past - timedelta(days=1),
            expires_at=past,
        )
    response = api.call("GET", "/auth/me", issued.token)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_logout_revokes_the_session(api: Api) -> None:
    api.user("ann")
    token = api.token("ann")
    assert api.call("POST", "/auth/logout", token).status_code == 204
    assert api.call("GET", "/auth/me", token).status_code == 401
    assert api.token("ann", PASSWORD)  # logging in again works


def test_a_body_over_the_cap_is_refused_before_parsing(api: Api) -> None:
    from cubestudio.api.limits import MAX_BODY

    big = b"x" * (MAX_BODY + 1)
    response = api.client.post(
        "/api/v1/auth/login", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
