"""Project secrets over the API: developers and admins set, list and delete them; a viewer
cannot even list them; a value goes in and no route gives it back; another project's secrets
are 404, as if they did not exist."""

from __future__ import annotations

from typing import Any

from cubestudio.auth import project_secrets
from cubestudio.store import accounts
from tests.api.conftest import Api

VALUE = "s3cr3t-Ω-value"


def _project_id(api: Api, name: str) -> int:
    with api.db.begin() as conn:
        row = accounts.get_project(conn, name=name)
    assert row is not None
    return int(row["id"])


def _stored(api: Api, project: str, name: str) -> dict[str, str]:
    """The value as a run would get it: opened with the server's own key."""
    box = api.client.app.state.secrets  # type: ignore[attr-defined]
    return project_secrets.resolve(
        api.db, box=box, project_id=_project_id(api, project), names=[name]
    )


def test_a_developer_sets_replaces_lists_and_deletes_without_seeing_a_value(api: Api) -> None:
    dev = api.user("dev", project="team-a", role="developer")
    seen: list[Any] = []

    def call(method: str, path: str, **kw: Any) -> Any:
        response = api.call(method, f"/projects/team-a{path}", dev, **kw)
        seen.append(response)
        return response

    created = call("PUT", "/secrets/API_TOKEN", json={"value": VALUE})
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"name", "created_by", "created_at", "updated_at"}
    assert created.json()["name"] == "API_TOKEN" and created.json()["created_by"] == "dev"
    replaced = call("PUT", "/secrets/API_TOKEN", json={"value": VALUE + "-2"})
    assert replaced.status_code == 200
    assert replaced.json()["created_at"] == created.json()["created_at"]
    assert replaced.json()["updated_at"] >= created.json()["updated_at"]
    assert _stored(api, "team-a", "API_TOKEN") == {"API_TOKEN": VALUE + "-2"}
    listed = call("GET", "/secrets")
    assert [s["name"] for s in listed.json()] == ["API_TOKEN"]
    assert call("GET", "/secrets/API_TOKEN").json()["name"] == "API_TOKEN"
    assert call("DELETE", "/secrets/API_TOKEN").status_code == 204
    assert call("GET", "/secrets").json() == []
    assert call("GET", "/secrets/API_TOKEN").status_code == 404
    gone = call("DELETE", "/secrets/API_TOKEN")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert all("s3cr3t" not in r.text for r in seen)  # no route gives a value back


def test_no_route_of_the_openapi_spec_can_return_a_value(api: Api) -> None:
    schemas = api.client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert set(schemas["SecretOut"]["properties"]) == {
        "name",
        "created_by",
        "created_at",
        "updated_at",
    }


def test_a_viewer_cannot_list_set_or_delete_secrets(api: Api) -> None:
    admin = api.user("boss", project="team-a", role="admin")
    viewer = api.user("vic", project="team-a", role="viewer")
    assert (
        api.call("PUT", "/projects/team-a/secrets/T", admin, json={"value": "v"}).status_code == 201
    )
    refused = [
        api.call("GET", "/projects/team-a/secrets", viewer),
        api.call("GET", "/projects/team-a/secrets/T", viewer),
        api.call("PUT", "/projects/team-a/secrets/T", viewer, json={"value": "mine"}),
        api.call("PUT", "/projects/team-a/secrets/NEW", viewer, json={"value": "mine"}),
        api.call("DELETE", "/projects/team-a/secrets/T", viewer),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "forbidden" and "developer role" in error["message"]
    names = [s["name"] for s in api.call("GET", "/projects/team-a/secrets", admin).json()]
    assert names == ["T"]
    assert _stored(api, "team-a", "T") == {"T": "v"}


def test_another_projects_secrets_are_not_found(api: Api, admin: str) -> None:
    alice = api.user("alice", project="team-a", role="admin")
    api.user("bert", project="team-b", role="admin")
    assert (
        api.call("PUT", "/projects/team-b/secrets/T", admin, json={"value": "b"}).status_code == 201
    )
    calls = [
        api.call("GET", "/projects/team-b/secrets", alice),
        api.call("GET", "/projects/team-b/secrets/T", alice),
        api.call("PUT", "/projects/team-b/secrets/T", alice, json={"value": "a"}),
        api.call("DELETE", "/projects/team-b/secrets/T", alice),
    ]
    assert [r.status_code for r in calls] == [404] * 4
    assert all(r.json()["error"]["code"] == "not_found" for r in calls)
    # The same name in alice's own project is another secret.
    assert (
        api.call("PUT", "/projects/team-a/secrets/T", alice, json={"value": "a"}).status_code == 201
    )
    assert _stored(api, "team-b", "T") == {"T": "b"}
    assert _stored(api, "team-a", "T") == {"T": "a"}


def test_bad_names_and_values_are_422_naming_the_field(api: Api) -> None:
    dev = api.user("dev", project="team-a", role="developer")
    base = "/projects/team-a/secrets"
    cases = [
        ("/1BAD", {"value": "v"}, "name", "is not a secret name"),
        ("/MY-TOKEN", {"value": "v"}, "name", "is not a secret name"),
        ("/T", {"value": ""}, "value", "cannot be empty"),
        ("/T", {"value": "a\u0000b"}, "value", "NUL character"),
        ("/T", {"value": "é" * (project_secrets.MAX_VALUE_BYTES // 2 + 1)}, "value", "limit"),
        ("/T", {"value": "v" * (project_secrets.MAX_VALUE_BYTES + 1)}, "value", "at most"),
        ("/T", {"vaule": "v"}, "value", "Field required"),
        ("/T", {"value": 5}, "value", "valid string"),
    ]
    for path, body, field, message in cases:
        response = api.call("PUT", base + path, dev, json=body)
        assert response.status_code == 422, (path, body, response.text)
        error = response.json()["error"]
        assert error["field"] == field and message in error["message"], (path, error)
    assert api.call("GET", base, dev).json() == []
