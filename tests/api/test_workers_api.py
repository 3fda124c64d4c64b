"""A distributed task's workers over the API (F12), with a real `cube engine`: each member
of the attempt's gang with its rank, ports and state, and each member's own log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, engine_process
from tests.integration.engine_helpers import wait_ended

MEMBER = Path(__file__).parents[1] / "unit" / "drivers" / "gang_scripts" / "member.py"


@pytest.fixture
def engine(api: Api) -> Iterator[Any]:
    yield from engine_process(api, "workers-api-test")


SPEC: dict[str, Any] = {
    "name": "gang",
    "tasks": [
        {
            "name": "train",
            "template": "pytorch-ddp",
            "args": {"script": str(MEMBER), "script_args": ["*=env"], "workers": 2},
        },
        {"name": "after", "command": "true", "depends": ["train"]},
    ],
}


def test_a_gangs_workers_and_their_own_logs(api: Api, engine: Any) -> None:
    dev = api.user("dev", project="team")
    outsider = api.user("out", project="elsewhere")
    assert api.call("POST", "/projects/team/pipelines", dev, json={"spec": SPEC}).status_code == 201
    made = api.call("POST", "/projects/team/pipelines/gang/runs", dev, json={})
    run_id = made.json()["run_id"]
    assert wait_ended(api.db, [run_id], timeout=90) == {run_id: "succeeded"}
    base = f"/projects/team/runs/{run_id}/tasks"
    got = api.call("GET", f"{base}/train/workers", dev)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["attempt"], body["kind"], body["on_failure"], body["failure"]) == (
        1,
        "pytorch",
        "fail_fast",
        None,
    )
    assert [(w["name"], w["rank"], w["state"], w["exit_code"]) for w in body["workers"]] == [
        ("master-0", 0, "succeeded", 0),
        ("worker-0", 1, "succeeded", 0),
    ]
    assert body["workers"][0]["ports"]["master"] > 0
    assert all("usage" in w and w["series"] is None for w in body["workers"])
    with_series = api.call("GET", f"{base}/train/workers", dev, params={"series": "true"}).json()
    assert all(
        set(w["series"]) == {"at", "cpu", "rss", "gpu_util", "gpu_mem"}
        for w in with_series["workers"]
    )
    log = api.call("GET", f"{base}/train/logs", dev, params={"worker": "1"})
    assert log.status_code == 200, log.text
    assert json.loads(log.text)["CUBE_WORKER"] == "worker-0"
    whole = api.call("GET", f"{base}/train/logs", dev).text
    assert whole.count("[master-0] ") == 1 and whole.count("[worker-0] ") == 1
    missing = api.call("GET", f"{base}/train/logs", dev, params={"worker": "5"})
    assert missing.status_code == 404 and "give a rank (0-1)" in missing.text
    plain = api.call("GET", f"{base}/after/workers", dev)
    assert plain.status_code == 404 and "not a distributed task" in plain.text
    assert api.call("GET", f"{base}/train/workers", outsider).status_code == 404
