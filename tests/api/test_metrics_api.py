"""Monitoring over the API, with a real `cube engine`: a run's metrics per task and attempt
(latest, peaks, series), member-only; right-sizing preview and apply (a new version)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.api.conftest import Api, engine_process
from tests.integration.engine_helpers import wait_ended

MB = 2**20
HOG: dict[str, Any] = {
    "name": "hog",
    "tasks": [
        {
            "name": "hold",
            "command": 'python3 -c "import time; b = bytearray(80 * 1024 * 1024); time.sleep(2.5)"',
        },
        {"name": "after", "command": "true", "depends": ["hold"]},
    ],
}


@pytest.fixture
def engine(api: Api) -> Iterator[Any]:
    yield from engine_process(api, "metrics-api-test")


def _ran(api: Api, token: str) -> str:
    response = api.call("POST", "/projects/team/pipelines", token, json={"spec": HOG})
    assert response.status_code == 201, response.text
    response = api.call("POST", "/projects/team/pipelines/hog/runs", token, json={})
    assert response.status_code == 201, response.text
    run_id = str(response.json()["run_id"])
    assert wait_ended(api.db, [run_id], timeout=60) == {run_id: "succeeded"}
    return run_id


def test_a_runs_metrics_per_attempt_and_for_members_only(api: Api, engine: Any) -> None:
    dev = api.user("dev", project="team")
    outsider = api.user("out", project="elsewhere")
    run_id = _ran(api, dev)
    response = api.call("GET", f"/projects/team/runs/{run_id}/metrics", dev)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["run_id"] == run_id and body["status"] == "succeeded"
    hold = next(t for t in body["tasks"] if t["task"] == "hold")
    assert hold["attempt"] == 1 and hold["status"] == "succeeded"
    assert hold["peak"]["rss_bytes"] >= 80 * MB
    series = hold["series"]
    assert len(series["at"]) >= 2
    assert len(series["at"]) == len(series["cpu_percent"]) == len(series["rss_bytes"])
    assert max(series["rss_bytes"]) == hold["peak"]["rss_bytes"]  # a point keeps its largest
    times = [datetime.fromisoformat(t) for t in series["at"]]
    assert times == sorted(times)
    for path, token in (
        (f"/projects/team/runs/{run_id}/metrics", outsider),  # not a member: as if absent
        (f"/projects/elsewhere/runs/{run_id}/metrics", outsider),  # not that project's run
        ("/projects/team/runs/no-such-run/metrics", dev),
    ):
        assert api.call("GET", path, token).status_code == 404


def test_rightsize_preview_then_apply_as_a_new_version(api: Api, engine: Any) -> None:
    dev = api.user("dev", project="team")
    viewer = api.user("viewer", project="team", role="viewer")
    run_id = _ran(api, dev)
    preview = api.call("POST", "/projects/team/pipelines/hog/rightsize", viewer, json={})
    assert preview.status_code == 200, preview.text
    advice = {t["task"]: t for t in preview.json()["tasks"]}
    assert preview.json()["version"] == 1 and preview.json()["applied_version"] is None
    assert [e["run_id"] for e in advice["hold"]["evidence"]] == [run_id]
    assert advice["hold"]["evidence"][0]["rss_max_bytes"] >= 80 * MB
    assert advice["hold"]["current"] == {"cpu": None, "memory": None}
    assert advice["hold"]["suggested"]["memory"] >= 1.4 * 80 * MB and advice["hold"]["changed"]
    path = "/projects/team/pipelines/hog/rightsize/apply"
    assert api.call("POST", path, viewer, json={}).status_code == 403
    applied = api.call("POST", path, dev, json={"policy": "cube-studio", "runs": 5})
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied_version"] == 2 and applied.json()["policy"] == "cube-studio"
    latest = api.call("GET", "/projects/team/pipelines/hog", dev).json()
    assert latest["version"] == 2
    assert latest["spec"]["tasks"][0]["resources"]["memory"] == 3 * 2**30  # ceil(0.1 Gi) + 2
    again = api.call("POST", path, dev, json={"policy": "cube-studio"})
    assert again.json()["applied_version"] is None  # nothing left to change
    missing = api.call("POST", "/projects/team/pipelines/nope/rightsize", dev, json={})
    assert missing.status_code == 404
    bad = api.call("POST", "/projects/team/pipelines/hog/rightsize", dev, json={"runs": 0})
    assert bad.status_code == 422
