"""Pipelines over the API: every save a version, validation as 422 with field paths (the
messages of `cube validate`), diff, trigger pinning the version, schedule, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cubestudio.store.tables import runs
from tests.api.conftest import Api

DIAMOND: dict[str, Any] = {
    "name": "diamond",
    "description": "a diamond",
    "params": {"n": {"type": "int", "default": 1}},
    "tasks": [
        {"name": "a", "command": "echo {{ params.n }}"},
        {"name": "b", "command": "true", "depends": ["a"]},
        {"name": "c", "command": "true", "depends": ["a"]},
        {"name": "d", "command": "true", "depends": ["b", "c"]},
    ],
}


def _create(api: Api, token: str, spec: dict[str, Any] = DIAMOND, project: str = "team") -> Any:
    return api.call("POST", f"/projects/{project}/pipelines", token, json={"spec": spec})


def test_every_save_is_a_new_immutable_version(api: Api) -> None:
    dev = api.user("dev", project="team")
    created = _create(api, dev)
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["author"]) == (1, "dev")
    changed = {**DIAMOND, "description": "v2"}
    saved = api.call(
        "PUT", "/projects/team/pipelines/diamond", dev,
        json={"spec": changed, "layout": {"a": {"x": 1, "y": 2}}, "message": "better"},
    )  # fmt: skip
    assert saved.status_code == 200 and saved.json()["version"] == 2
    latest = api.call("GET", "/projects/team/pipelines/diamond", dev).json()
    assert (latest["version"], latest["spec"]["description"]) == (2, "v2")
    assert latest["layout"] == {"a": {"x": 1, "y": 2}}
    first = api.call("GET", "/projects/team/pipelines/diamond/versions/1", dev).json()
    assert first["spec"]["description"] == "a diamond"
    versions = api.call("GET", "/projects/team/pipelines/diamond/versions", dev).json()
    assert [(v["version"], v["message"]) for v in versions] == [(2, "better"), (1, None)]
    listed = api.call("GET", "/projects/team/pipelines", dev).json()
    assert [(p["name"], p["latest_version"]) for p in listed] == [("diamond", 2)]
    again = _create(api, dev)
    assert again.status_code == 409


def test_yaml_text_round_trips_with_the_data(api: Api) -> None:
    dev = api.user("dev", project="team")
    created = _create(api, dev).json()
    by_yaml = api.call(
        "PUT", "/projects/team/pipelines/diamond", dev, json={"yaml": created["yaml"]}
    )
    assert by_yaml.status_code == 200, by_yaml.text
    assert by_yaml.json()["spec"] == created["spec"]


def test_invalid_pipelines_get_422_with_field_paths(api: Api) -> None:
    dev = api.user("dev", project="team")
    cyclic = {
        "name": "loop",
        "tasks": [
            {"name": "a", "command": "true", "depends": ["b"]},
            {"name": "b", "command": "true", "depends": ["a"]},
        ],
    }
    response = api.call("POST", "/projects/team/pipelines/validate", dev, json={"spec": cyclic})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid" and "cycle" in error["message"]
    assert error["details"][0]["field"].startswith("tasks")
    bad_field = {"name": "x", "tasks": [{"name": "a", "command": "true", "retries": "many"}]}
    response = api.call("POST", "/projects/team/pipelines", dev, json={"spec": bad_field})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "tasks[0].retries"
    ok = api.call("POST", "/projects/team/pipelines/validate", dev, json={"spec": DIAMOND})
    assert ok.json() == {"valid": True}
    neither = api.call("POST", "/projects/team/pipelines/validate", dev, json={})
    assert neither.status_code == 422


def test_saved_pipelines_take_secrets_only_from_the_project(api: Api) -> None:
    dev = api.user("dev", project="team")
    leaky = {**DIAMOND, "env": {"TOKEN": {"secret": True, "value": "hunter2"}}}
    response = _create(api, dev, leaky)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "env.TOKEN"
    server_env = {**DIAMOND, "env": {"TOKEN": {"secret": True, "from_env": "HOME"}}}
    assert _create(api, dev, server_env).status_code == 422


def test_diff_of_two_versions(api: Api) -> None:
    dev = api.user("dev", project="team")
    _create(api, dev)
    tasks = [t for t in DIAMOND["tasks"] if t["name"] != "c"]
    tasks = [{**t, "depends": ["a"]} if t["name"] == "d" else t for t in tasks]
    tasks.append({"name": "e", "command": "true"})
    api.call(
        "PUT", "/projects/team/pipelines/diamond", dev, json={"spec": {**DIAMOND, "tasks": tasks}}
    )
    diff = api.call("GET", "/projects/team/pipelines/diamond/diff?from=1&to=2", dev).json()
    assert diff["tasks"] == {"added": ["e"], "removed": ["c"], "changed": ["d"]}
    assert "-  name: c" in diff["unified"] or "- name: c" in diff["unified"]


def test_trigger_pins_the_version_and_hands_the_run_to_the_engine(api: Api) -> None:
    dev = api.user("dev", project="team")
    _create(api, dev)
    api.call("PUT", "/projects/team/pipelines/diamond", dev, json={"spec": DIAMOND})
    started = api.call(
        "POST",
        "/projects/team/pipelines/diamond/runs",
        dev,
        json={"params": {"n": 5}, "version": 1},
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["run_id"]
    with api.db.begin() as conn:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().one()
    assert (row["status"], row["pipeline_version"], row["runner"]) == ("pending", 1, "dev")
    assert row["lease_owner"] is None  # released: an engine may claim it
    assert row["params"] == '{"n": 5}'
    bad = api.call(
        "POST", "/projects/team/pipelines/diamond/runs", dev, json={"params": {"nope": 1}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "params.nope"


def test_viewers_read_but_do_not_write_or_run(api: Api) -> None:
    dev = api.user("dev", project="team")
    viewer = api.user("vic", project="team", role="viewer")
    _create(api, dev)
    assert api.call("GET", "/projects/team/pipelines/diamond", viewer).status_code == 200
    assert _create(api, viewer, {**DIAMOND, "name": "other"}).status_code == 403
    trigger = api.call("POST", "/projects/team/pipelines/diamond/runs", viewer, json={})
    assert trigger.status_code == 403
    assert api.call("DELETE", "/projects/team/pipelines/diamond", viewer).status_code == 403


def test_other_projects_see_nothing(api: Api) -> None:
    dev = api.user("dev", project="team")
    stranger = api.user("eve", project="other")
    _create(api, dev)
    assert api.call("GET", "/projects/team/pipelines/diamond", stranger).status_code == 404
    assert _create(api, stranger, project="other").status_code == 201  # same name elsewhere
    mine = api.call("GET", "/projects/other/pipelines/diamond", stranger).json()
    assert mine["version"] == 1


def test_schedule_preview_enable_disable(api: Api) -> None:
    dev = api.user("dev", project="team")
    nightly = {**DIAMOND, "schedule": {"cron": "0 2 * * *", "timezone": "UTC"}}
    _create(api, dev, nightly)
    preview = api.call("GET", "/projects/team/pipelines/diamond/schedule?count=5", dev).json()
    assert len(preview["next"]) == 5 and all(t.endswith("02:00:00+00:00") for t in preview["next"])
    assert preview["enabled"] is False
    enabled = api.call("POST", "/projects/team/pipelines/diamond/schedule/enable", dev)
    assert enabled.status_code == 200, enabled.text
    assert api.call("GET", "/projects/team/pipelines/diamond/schedule", dev).json()["enabled"]
    api.call("POST", "/projects/team/pipelines/diamond/schedule/disable", dev)
    listed = api.call("GET", "/projects/team/pipelines", dev).json()
    assert listed[0]["schedule"]["enabled"] is False


def test_delete_hides_the_pipeline_and_keeps_its_runs(api: Api) -> None:
    dev = api.user("dev", project="team")
    _create(api, dev)
    run_id = api.call("POST", "/projects/team/pipelines/diamond/runs", dev, json={}).json()[
        "run_id"
    ]
    assert api.call("DELETE", "/projects/team/pipelines/diamond", dev).status_code == 204
    assert api.call("GET", "/projects/team/pipelines/diamond", dev).status_code == 404
    assert api.call("GET", "/projects/team/pipelines", dev).json() == []
    assert api.call("GET", f"/projects/team/runs/{run_id}", dev).status_code == 200
    back = _create(api, dev)
    assert back.status_code == 201 and back.json()["version"] == 2  # its history kept
