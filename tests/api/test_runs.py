"""Runs over the API: the list with filters and cursor pages, one run in detail, and stop,
retry and rerun handed to the engine service, end to end with a real `cube engine`."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.conftest import Cube
from tests.integration.engine_helpers import wait_ended, wait_until

FLAKY: dict[str, Any] = {
    "name": "flaky",
    "tasks": [
        {"name": "a", "command": "echo hello"},
        {
            "name": "b",
            "command": "test -e $CUBE_PIPELINE_DIR/ok || test -e ok.flag",
            "depends": ["a"],
        },
        {"name": "c", "command": "true", "depends": ["b"]},
    ],
}
SLOW: dict[str, Any] = {"name": "slow", "tasks": [{"name": "nap", "command": "sleep 30"}]}


def _save(api: Api, token: str, spec: dict[str, Any]) -> None:
    response = api.call("POST", "/projects/team/pipelines", token, json={"spec": spec})
    assert response.status_code == 201, response.text


def _trigger(api: Api, token: str, name: str) -> str:
    response = api.call("POST", f"/projects/team/pipelines/{name}/runs", token, json={})
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


@pytest.fixture
def engine(api: Api, tmp_path: Any) -> Iterator[Any]:
    """A real `cube engine` on the API's store and home."""
    assert api.settings.database_url is not None
    cube = Cube(api.settings.home_dir, api.settings.database_url)
    proc = cube.popen("engine", "--id", "api-test")
    yield proc
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_the_list_filters_and_pages_without_repeating(api: Api) -> None:
    dev = api.user("dev", project="team")
    _save(api, dev, FLAKY)
    _save(api, dev, SLOW)
    ids = [_trigger(api, dev, "flaky") for _ in range(5)] + [_trigger(api, dev, "slow")]
    page = api.call("GET", "/projects/team/runs?limit=2", dev).json()
    seen = [r["id"] for r in page["items"]]
    while page["next_cursor"]:
        page = api.call(
            "GET", "/projects/team/runs", dev, params={"limit": 2, "cursor": page["next_cursor"]}
        ).json()
        seen += [r["id"] for r in page["items"]]
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    assert seen[0] == ids[-1]  # newest first
    slow = api.call("GET", "/projects/team/runs?pipeline=slow", dev).json()["items"]
    assert [r["id"] for r in slow] == [ids[-1]]
    pending = api.call("GET", "/projects/team/runs?status=pending&status=running", dev).json()
    assert len(pending["items"]) == 6
    assert api.call("GET", "/projects/team/runs?status=succeeded", dev).json()["items"] == []
    bad = api.call("GET", "/projects/team/runs?cursor=garbage", dev)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"


def test_runs_of_other_projects_are_not_found(api: Api) -> None:
    dev = api.user("dev", project="team")
    eve = api.user("eve", project="other")
    _save(api, dev, SLOW)
    run_id = _trigger(api, dev, "slow")
    assert api.call("GET", f"/projects/other/runs/{run_id}", eve).status_code == 404
    assert api.call("GET", f"/projects/team/runs/{run_id}", eve).status_code == 404
    assert api.call("POST", f"/projects/other/runs/{run_id}/stop", eve).status_code == 404
    assert api.call("GET", "/projects/other/runs", eve).json()["items"] == []


def test_a_run_driven_by_the_engine_then_retried_and_rerun(
    api: Api, engine: Any, tmp_path: Any
) -> None:
    dev = api.user("dev", project="team")
    viewer = api.user("vic", project="team", role="viewer")
    spec = {**FLAKY, "tasks": [dict(t) for t in FLAKY["tasks"]]}
    flag = tmp_path / "ok.flag"
    spec["tasks"][1]["command"] = f"test -e {flag}"
    _save(api, dev, spec)
    run_id = _trigger(api, dev, "flaky")
    assert wait_ended(api.db, [run_id], timeout=60) == {run_id: "failed"}
    detail = api.call("GET", f"/projects/team/runs/{run_id}", viewer).json()
    assert detail["status"] == "failed" and detail["pipeline_version"] == 1
    tasks = detail["tasks"]
    assert (tasks["a"]["status"], tasks["b"]["status"], tasks["c"]["status"]) == (
        "succeeded",
        "failed",
        "upstream_failed",
    )
    assert tasks["b"]["attempt_list"][0]["exit_code"] == 1
    assert tasks["b"]["attempt_list"][0]["engine_id"] == "api-test"
    assert api.call("POST", f"/projects/team/runs/{run_id}/retry", viewer).status_code == 403

    flag.touch()
    retried = api.call("POST", f"/projects/team/runs/{run_id}/retry", dev)
    assert retried.status_code == 202, retried.text
    assert retried.json()["tasks"] == ["b", "c"]
    wait_until(lambda: _status(api, dev, run_id) == "succeeded", "the retry succeeded", 60)
    attempts = api.call("GET", f"/projects/team/runs/{run_id}", dev).json()["tasks"]
    assert [t["attempts"] for t in attempts.values()] == [1, 2, 1]

    rerun = api.call("POST", f"/projects/team/runs/{run_id}/rerun", dev, json={"from_task": "b"})
    assert rerun.status_code == 202 and rerun.json()["tasks"] == ["b", "c"]
    wait_until(lambda: _status(api, dev, run_id) == "succeeded", "the rerun succeeded", 60)
    final = api.call("GET", f"/projects/team/runs/{run_id}", dev).json()["tasks"]
    assert [t["attempts"] for t in final.values()] == [1, 3, 2]
    unknown = api.call("POST", f"/projects/team/runs/{run_id}/rerun", dev, json={"from_task": "x"})
    assert unknown.status_code == 404


def test_stop_reaches_the_engine(api: Api, engine: Any) -> None:
    dev = api.user("dev", project="team")
    _save(api, dev, SLOW)
    run_id = _trigger(api, dev, "slow")
    wait_until(lambda: _status(api, dev, run_id) == "running", "the run started", 30)
    stopped = api.call("POST", f"/projects/team/runs/{run_id}/stop", dev)
    assert stopped.status_code == 202
    assert wait_ended(api.db, [run_id], timeout=30) == {run_id: "stopped"}
    again = api.call("POST", f"/projects/team/runs/{run_id}/stop", dev)
    assert again.status_code == 409


def _status(api: Api, token: str, run_id: str) -> str:
    return str(api.call("GET", f"/projects/team/runs/{run_id}", token).json()["status"])


def test_debug_one_task_runs_it_alone_out_of_the_history(api: Api, engine: Any) -> None:
    dev = api.user("dev", project="team")
    spec = {
        "name": "pair",
        "tasks": [
            {"name": "a", "command": "echo 42 > $CUBE_OUTPUTS/n", "outputs": [{"name": "n"}]},
            {"name": "b", "command": "echo got {{ tasks.a.outputs.n }}", "depends": ["a"]},
        ],
    }
    _save(api, dev, spec)
    full = _trigger(api, dev, "pair")
    assert wait_ended(api.db, [full], timeout=60) == {full: "succeeded"}
    started = api.call("POST", "/projects/team/pipelines/pair/debug", dev, json={"task": "b"})
    assert started.status_code == 201, started.text
    debug_id = started.json()["run_id"]
    assert wait_ended(api.db, [debug_id], timeout=60) == {debug_id: "succeeded"}
    tasks = api.call("GET", f"/projects/team/runs/{debug_id}", dev).json()["tasks"]
    assert (tasks["a"]["status"], tasks["a"]["attempts"]) == ("succeeded", 0)  # taken, not run
    assert tasks["b"]["attempts"] == 1
    log = api.call("GET", f"/projects/team/runs/{debug_id}/tasks/b/logs", dev)
    assert "got 42" in log.text
    history = api.call("GET", "/projects/team/runs?pipeline=pair", dev).json()["items"]
    assert [r["id"] for r in history] == [full]
    debugs = api.call("GET", "/projects/team/runs?trigger=debug", dev).json()["items"]
    assert [r["id"] for r in debugs] == [debug_id]
    missing = api.call("POST", "/projects/team/pipelines/pair/debug", dev, json={"task": "zz"})
    assert missing.status_code in (404, 422) and "zz" in missing.json()["error"]["message"]
