"""The run view's Resources section: a task that holds about 150 MB for a few seconds shows,
once its run has succeeded, a memory peak of at least 100 MB in its charts."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, shot

PROJECT = "default"
RUN_DEADLINE_S = 90
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
HOLD_MEMORY = 'python3 -c "import time; b=bytearray(150_000_000); time.sleep(4)"'


def bytes_shown(text: str) -> float:
    """The size in a label as the UI writes it (ui/src/run/units.ts): "peak 159 MiB"."""
    match = re.search(r"([\d.]+) (B|KiB|MiB|GiB|TiB)", text)
    assert match, f"no size in {text!r}"
    return float(match.group(1)) * UNITS[match.group(2)]


def run_to_the_end(server: Server, pipeline: str) -> str:
    with server.api() as api:
        response = api.post(f"/projects/{PROJECT}/pipelines/{pipeline}/runs", json={})
        assert response.status_code == 201, response.text
        run_id = str(response.json()["run_id"])
        deadline = time.monotonic() + RUN_DEADLINE_S
        while True:
            status = api.get(f"/projects/{PROJECT}/runs/{run_id}").json()["status"]
            if status in ("succeeded", "failed", "stopped"):
                break
            assert time.monotonic() < deadline, f"run {run_id} still {status}"
            time.sleep(0.5)
    assert status == "succeeded", f"run {run_id} {status}"
    return run_id


def test_a_task_holding_memory_shows_its_peak_in_the_run_view(page: Any, server: Server) -> None:
    name = f"memory-{uuid.uuid4().hex[:6]}"
    spec = {"name": name, "tasks": [{"name": "hold", "command": HOLD_MEMORY}]}
    with server.api() as api:
        response = api.post(f"/projects/{PROJECT}/pipelines", json={"spec": spec})
    assert response.status_code == 201, response.text
    run_id = run_to_the_end(server, name)

    page.goto(f"/runs/{run_id}")
    page.get_by_test_id("run-node-hold").click()
    resources = page.get_by_test_id("resources")
    peak = resources.get_by_test_id("peak-memory")
    expect(peak).to_contain_text("peak")
    assert bytes_shown(peak.inner_text()) >= 100_000_000, peak.inner_text()
    expect(resources.get_by_test_id("chart-cpu")).to_be_visible()
    resources.scroll_into_view_if_needed()
    shot(page, "60-run-resources")
