"""Import from cube-studio over the API: all 98 templates into a project, then the 4 demo
pipelines saved as versions of it, each valid; what has no home here listed per item."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.conftest import Api

ANCHORS = Path(__file__).resolve().parents[2].parent / "shared" / "anchors" / "cube-studio"


def _load(name: str) -> object:
    return json.loads((ANCHORS / name).read_text(encoding="utf-8"))


def test_templates_then_pipelines_import_into_a_project(api: Api) -> None:
    dev = api.user("dev", project="team")
    templates = api.call(
        "POST", "/projects/team/import/cube-studio", dev, json=_load("init-job-template.json")
    )
    assert templates.status_code == 200, templates.text
    body = templates.json()
    assert body["kind"] == "templates" and len(body["items"]) == 98
    assert {i["status"] for i in body["items"]} == {"registered"}
    listed = api.call("GET", "/templates?project=team", dev).json()
    assert sum(1 for t in listed if t["project"] == "team") == 98
    pipelines = api.call(
        "POST", "/projects/team/import/cube-studio", dev, json=_load("init-pipeline.json")
    ).json()
    assert pipelines["kind"] == "pipelines" and len(pipelines["items"]) == 4
    assert [i["status"] for i in pipelines["items"]] == ["saved"] * 4, pipelines["items"]
    assert all(i["unmapped"] for i in pipelines["items"])  # volume_mount and the like, listed
    names = [p["name"] for p in api.call("GET", "/projects/team/pipelines", dev).json()]
    assert sorted(names) == sorted(i["name"] for i in pipelines["items"])
    again = api.call(
        "POST", "/projects/team/import/cube-studio", dev, json=_load("init-job-template.json")
    ).json()
    assert {i["status"] for i in again["items"]} == {"unchanged"}


def test_a_bad_export_and_roles(api: Api) -> None:
    dev = api.user("dev", project="team")
    viewer = api.user("vic", project="team", role="viewer")
    bad = api.call("POST", "/projects/team/import/cube-studio", dev, json={"x": 1})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "body"
    export = _load("init-pipeline.json")
    assert (
        api.call("POST", "/projects/team/import/cube-studio", viewer, json=export).status_code
        == 403
    )
    platform = api.call("POST", "/projects/team/import/cube-studio?platform=true", dev, json=export)
    assert platform.status_code == 403
