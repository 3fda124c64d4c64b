"""Resource monitoring end to end: a task holding 200 MB shows a peak of at least 200 MB in
`cube top --once --json` on every backend, under `cube run` and under `cube engine`; `cube
rightsize` shows the evidence, prints the YAML edit for a pipeline run from a file and saves
a new version for a saved one; CUBE_MONITOR_INTERVAL=0 samples nothing."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.conftest import Cube
from tests.integration.engine_helpers import kill_tasks
from tests.integration.helpers import pipeline

pytestmark = pytest.mark.slow

MB = 2**20
HOG = """
name: mem
tasks:
  - name: hog
    command: python3 -c "import time; b = bytearray(200 * 1024 * 1024); time.sleep(2.5)"
  - name: light
    command: sleep 1.5
"""


def _run(cube: Cube, path: Path, **env: str) -> str:
    result = cube.json("run", str(path), "--json", expect=0, env=env or None)
    return str(result["run_id"])


def _top(cube: Cube, run_id: str) -> dict[str, dict[str, object]]:
    snap = cube.json("top", run_id, "--once", "--json", expect=0)
    assert snap["run_id"] == run_id and snap["status"] == "succeeded"
    return {t["task"]: t for t in snap["tasks"]}


def test_a_task_holding_200_mb_peaks_at_200_mb_or_more(cube: Cube, tmp_path: Path) -> None:
    run_id = _run(cube, pipeline(tmp_path, HOG))
    tasks = _top(cube, run_id)
    hog = tasks["hog"]
    assert hog["peak"]["rss_bytes"] >= 200 * MB  # type: ignore[index]
    assert hog["status"] == "succeeded" and hog["samples"] >= 2  # type: ignore[operator]
    assert tasks["light"]["peak"]["rss_bytes"] < 50 * MB  # type: ignore[index]
    advice = cube.json("rightsize", "mem", "--json", expect=0)
    by_task = {t["task"]: t for t in advice["tasks"]}
    assert [e["run_id"] for e in by_task["hog"]["evidence"]] == [run_id]
    assert by_task["hog"]["suggested"]["memory"] >= 1.4 * 200 * MB
    assert advice["version"] == 0 and "name: hog" in advice["yaml_change"]
    refused = cube("rightsize", "mem", "--apply")
    assert refused.returncode == 1 and "run from a file, not saved" in refused.stderr


def test_rightsize_apply_saves_a_new_version(cube: Cube, tmp_path: Path) -> None:
    path = pipeline(tmp_path, HOG)
    saved = cube.json("pipeline", "save", str(path), "--json", expect=0)
    assert saved["version"] == 1
    _run(cube, path)
    applied = cube.json("rightsize", "mem", "--apply", "--json", expect=0)
    assert applied["applied_version"] == 2 and applied["yaml_change"] is None
    hog = next(t for t in applied["tasks"] if t["task"] == "hog")
    listed = cube.json("pipeline", "list", "--json", expect=0)
    assert [p["version"] for p in listed if p["name"] == "mem"] == [2]
    again = cube.json("rightsize", "mem", "--json", expect=0)  # now it is what is asked
    hog_again = next(t for t in again["tasks"] if t["task"] == "hog")
    assert hog_again["current"] == hog["suggested"] and not hog_again["changed"]


def test_runs_driven_by_the_engine_service_are_sampled(cube_sqlite: Cube, tmp_path: Path) -> None:
    cube = cube_sqlite
    engine = cube.popen("engine", "--id", "monitor-test")
    try:
        run_id = cube.json("submit", str(pipeline(tmp_path, HOG)), "--json", expect=0)["run_id"]
        cube.json("wait", run_id, "--json", expect=0, timeout=60)
        assert _top(cube, run_id)["hog"]["peak"]["rss_bytes"] >= 200 * MB  # type: ignore[index]
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=30)
        kill_tasks(cube.home)


def test_monitoring_off_samples_nothing(cube_sqlite: Cube, tmp_path: Path) -> None:
    run_id = _run(cube_sqlite, pipeline(tmp_path, HOG), CUBE_MONITOR_INTERVAL="0")
    snap = json.loads(cube_sqlite("top", run_id, "--json").stdout)
    assert snap["tasks"] == []
