"""Projects and roles: a new user belongs to no project; a member of project A gets 404 for
project B; only project admins manage members; a project keeps at least one admin."""

from __future__ import annotations

from tests.api.conftest import Api


def test_a_new_user_belongs_to_no_project_until_added(api: Api, admin: str) -> None:
    created = api.call("POST", "/users", admin, json={"name": "bob", "password": "p" * 12})
    assert created.status_code == 201
    bob = api.token("bob", "p" * 12)
    assert api.call("GET", "/projects", bob).json() == []
    assert api.call("GET", "/projects/default", bob).status_code == 404
    added = api.call("PUT", "/projects/default/members/bob", admin, json={"role": "viewer"})
    assert added.status_code == 200
    assert [p["name"] for p in api.call("GET", "/projects", bob).json()] == ["default"]
    assert api.call("GET", "/projects/default", bob).json()["role"] == "viewer"


def test_members_of_one_project_cannot_see_another(api: Api, admin: str) -> None:
    alice = api.user("alice", project="team-a", role="admin")
    api.user("bert", project="team-b", role="admin")
    assert api.call("GET", "/projects/team-a", alice).status_code == 200
    other = api.call("GET", "/projects/team-b", alice)
    missing = api.call("GET", "/projects/no-such", alice)
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    members = api.call("PUT", "/projects/team-b/members/alice", alice, json={"role": "admin"})
    assert members.status_code == 404


def test_only_project_admins_manage_members(api: Api, admin: str) -> None:
    viewer = api.user("vic", project="team-a", role="viewer")
    api.user("dev", project="team-a", role="developer")
    refused = api.call("PUT", "/projects/team-a/members/dev", viewer, json={"role": "admin"})
    assert refused.status_code == 403
    assert "admin role" in refused.json()["error"]["message"]
    assert api.call("GET", "/projects/team-a/members", viewer).status_code == 200


def test_a_project_keeps_its_last_admin(api: Api, admin: str) -> None:
    boss = api.user("boss", project="team-a", role="admin")
    demoted = api.call("PUT", "/projects/team-a/members/boss", boss, json={"role": "viewer"})
    assert demoted.status_code == 409
    assert api.call("GET", "/projects/team-a", boss).json()["role"] == "admin"


def test_only_platform_admins_create_users_and_projects(api: Api, admin: str) -> None:
    dev = api.user("dev", project="default")
    assert api.call("POST", "/projects", dev, json={"name": "x"}).status_code == 403
    assert api.call("POST", "/users", dev, json={"name": "y"}).status_code == 403
    made = api.call("POST", "/projects", admin, json={"name": "ml-team"})
    assert made.status_code == 201 and made.json()["role"] == "admin"
    bad = api.call("POST", "/projects", admin, json={"name": "Bad Name"})
    assert bad.status_code == 400 and "project name" in bad.json()["error"]["message"]
