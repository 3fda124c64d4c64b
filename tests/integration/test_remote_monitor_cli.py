"""`cube top RUN` and `cube rightsize PIPELINE` against a server: the samples the server's
engine took and the advice from them, with the local commands' `--json` objects, lines and
exit codes; `--apply` saves the next version on the server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer

from cubestudio.client.api import Client
from cubestudio.client.remote_monitor import _asked, advice_of
from tests.integration import test_remote_cli
from tests.integration.helpers import pipeline
from tests.integration.test_remote_cli import Remote

remote = test_remote_cli.remote  # the fixture: a live server, its engine, and the two CLIs

pytestmark = pytest.mark.slow

MB = 2**20
HOG = """
name: mem
tasks:
  - name: hog
    command: python3 -c "import time; b = bytearray(120 * 1024 * 1024); time.sleep(2)"
  - name: light
    command: sleep 1
"""


def _shape(value: Any) -> Any:
    """The keys and value types of a JSON value (numbers alike: a float may print as 0)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


def _nullable_shape(value: Any) -> Any:
    """_shape, with null and a number the same (a GPU field is null without a GPU)."""
    shape = _shape(value)
    return json.loads(json.dumps(shape).replace('"NoneType"', '"number"'))


def test_top_prints_the_servers_samples_as_the_local_store_does(
    remote: Remote, tmp_path: Path
) -> None:
    file = str(pipeline(tmp_path, HOG))
    run_id = remote.cube.json("run", file, "--json", expect=0)["run_id"]
    local_id = remote.local.json("run", file, "--json", expect=0)["run_id"]
    there = remote.cube.json("top", run_id[:8], "--once", "--json", expect=0)  # a prefix
    here = remote.local.json("top", local_id, "--once", "--json", expect=0)
    assert there["run_id"] == run_id and there["status"] == "succeeded"
    assert _nullable_shape(there) == _nullable_shape(here)
    tasks = {t["task"]: t for t in there["tasks"]}
    assert tasks["hog"]["peak"]["rss_bytes"] >= 100 * MB
    assert tasks["hog"]["samples"] >= 2 and tasks["light"]["peak"]["rss_bytes"] < 50 * MB
    assert there["at"].endswith("+00:00") and tasks["hog"]["sampled_at"].endswith("+00:00")

    table = remote.cube("top", run_id, "--once")
    assert table.returncode == 0, table.stderr
    assert f"run {run_id} (mem) succeeded" in table.stdout and "hog" in table.stdout
    live = remote.cube("top", run_id, "--every", "0.2")  # an ended run: one table, then exit
    assert live.returncode == 0 and "peak rss" in live.stdout
    assert "CUBE_MONITOR_INTERVAL" not in live.stdout  # the server's engine samples

    unknown = remote.cube("top", "nope", "--once")
    local_unknown = remote.local("top", "nope", "--once")
    assert (unknown.returncode, unknown.stderr) == (local_unknown.returncode, local_unknown.stderr)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1


def test_top_refreshes_until_the_run_ends(remote: Remote, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, HOG))
    run_id = remote.cube.json("submit", file, "--json", expect=0)["run_id"]
    live = remote.cube("top", run_id, "--every", "0.2", timeout=60)
    assert live.returncode == 0, live.stderr
    assert f"run {run_id} (mem) succeeded" in live.stdout
    final = remote.cube.json("top", run_id, "--json", expect=0)
    assert final["status"] == "succeeded"


def test_rightsize_advises_and_applies_on_the_server(remote: Remote, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, HOG))
    run_id = remote.cube.json("run", file, "--json", expect=0)["run_id"]  # saved as version 1
    remote.local.json("pipeline", "save", file, "--json", expect=0)
    remote.local.json("run", file, "--json", expect=0)
    there = remote.cube.json("rightsize", "mem", "--json", expect=0)
    here = remote.local.json("rightsize", "mem", "--json", expect=0)
    assert _nullable_shape(there) == _nullable_shape(here)
    assert there["version"] == 1 and there["yaml_change"] is None
    assert there["applied_version"] is None
    hog = next(t for t in there["tasks"] if t["task"] == "hog")
    assert [e["run_id"] for e in hog["evidence"]] == [run_id] and hog["changed"]
    assert hog["suggested"]["memory"] >= 1.4 * 100 * MB
    assert hog["evidence"][0]["created_at"].endswith("+00:00")

    human = remote.cube("rightsize", "mem")
    assert human.returncode == 0, human.stderr
    assert "pipeline mem: each task's last 10 succeeded runs, policy headroom" in human.stdout
    assert f"hog: {run_id[:8]}" in human.stdout
    assert "run again with --apply to save these as a new version" in human.stdout

    applied = remote.cube.json("rightsize", "mem", "--apply", "--json", expect=0)
    assert applied["applied_version"] == 2 and applied["yaml_change"] is None
    saved = remote.api("GET", "/projects/default/pipelines/mem").json()
    assert saved["version"] == 2
    assert saved["spec"]["tasks"][0]["resources"]["memory"] == hog["suggested"]["memory"]
    again = remote.cube.json("rightsize", "mem", "--json", expect=0)
    hog_again = next(t for t in again["tasks"] if t["task"] == "hog")
    assert hog_again["current"] == hog["suggested"] and not hog_again["changed"]
    assert "nothing to change" in remote.cube("rightsize", "mem").stdout


def test_rightsize_refusals_are_one_line(remote: Remote) -> None:
    unknown = remote.cube("rightsize", "nowhere")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr == (
        f"error: pipeline nowhere: no such pipeline in project default on {remote.url} "
        "(a pipeline file gets there with `cube run FILE` or `cube submit FILE`)\n"
    )
    policy = remote.cube("rightsize", "nowhere", "--policy", "lavish")
    local = remote.local("rightsize", "nowhere", "--policy", "lavish")
    assert (policy.returncode, policy.stderr) == (local.returncode, local.stderr)
    assert policy.returncode == 2


ADVICE = {
    "pipeline": "mem",
    "version": 0,
    "runs": 10,
    "policy": "headroom",
    "tasks": [
        {
            "task": "hog",
            "runs": 1,
            "current": {"cpu": None, "memory": None},
            "suggested": {"cpu": 0.1, "memory": 192 * MB},
            "changed": True,
            "evidence": [
                {
                    "run_id": "r1",
                    "created_at": "2026-01-01T00:00:00Z",
                    "attempt": 1,
                    "cpu_max_percent": 3.0,
                    "rss_max_bytes": 130 * MB,
                    "gpu_mem_max_bytes": None,
                }
            ],
        }
    ],
    "applied_version": None,
}


def test_apply_to_a_pipeline_never_saved_on_the_server_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The server knows the pipeline from runs only (version 0): --apply is a 409 there;
    the command shows the preview with the YAML edit and exits 1, as the local one does."""
    from cubestudio.cli.rightsize import show

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/rightsize/apply"):
            error = {"code": "conflict", "message": "pipeline mem is run from a file, not saved"}
            return httpx.Response(409, json={"error": error})
        return httpx.Response(200, json=ADVICE)

    with Client("http://cube.test", "t", transport=httpx.MockTransport(answer)) as client:
        result = _asked(client, "mem", runs=10, policy="headroom", apply=True)
    assert result["version"] == 0
    assert result["tasks"][0]["evidence"][0]["created_at"] == "2026-01-01T00:00:00+00:00"
    with pytest.raises(typer.Exit) as refused:
        show(result, advice_of(result), apply=True, json_out=True)
    assert refused.value.exit_code == 1
    out, err = capsys.readouterr()
    assert "name: hog" in json.loads(out)["yaml_change"]
    assert err.startswith("pipeline mem is run from a file, not saved: make the change")
