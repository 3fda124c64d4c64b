"""Distributed tasks and queues in the browser: a pytorch-ddp task's Workers section lists its
gang (master-0 and worker-0, succeeded), the log switches from the whole gang's to one
member's own; the Queues page shows the default project's queue, an admin saves a GPU limit
and sees a bad memory value refused inline."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, Server, shot
from tests.e2e.test_resources import PROJECT, run_to_the_end

MEMBER = ROOT / "tests" / "unit" / "drivers" / "gang_scripts" / "member.py"


def test_a_gangs_workers_and_each_members_log(page: Any, server: Server) -> None:
    name = f"gang-{uuid.uuid4().hex[:6]}"
    args = {"script": str(MEMBER.resolve()), "script_args": ["*=env"], "workers": 2}
    spec = {"name": name, "tasks": [{"name": "train", "template": "pytorch-ddp", "args": args}]}
    with server.api() as api:
        response = api.post(f"/projects/{PROJECT}/pipelines", json={"spec": spec})
    assert response.status_code == 201, response.text
    run_id = run_to_the_end(server, name)

    page.goto(f"/runs/{run_id}")
    page.get_by_test_id("run-node-train").click()
    workers = page.get_by_test_id("workers")
    for member in ("master-0", "worker-0"):
        expect(workers.get_by_test_id(f"worker-{member}")).to_contain_text("succeeded")
    expect(workers.get_by_test_id("workers-policy")).to_contain_text("fail_fast")
    lines = page.get_by_test_id("log-lines")
    expect(lines).to_contain_text("[master-0] ")  # the whole gang's log, prefixed
    shot(page, "70-run-workers")

    page.get_by_test_id("log-worker").select_option("worker-0")
    expect(lines).to_contain_text('"CUBE_WORKER": "worker-0"')
    expect(lines).not_to_contain_text("[master-0] ")
    page.get_by_test_id("log-panel").scroll_into_view_if_needed()
    shot(page, "71-run-worker-log")


@pytest.fixture
def default_queue_restored(server: Server) -> Iterator[None]:
    """The session's server is shared: leave the default queue without limits."""
    yield
    with server.api() as api:
        reset = {"cpu": "none", "memory": "none", "gpu": "none", "weight": 1}
        response = api.put(f"/projects/{PROJECT}/queue", json=reset)
    assert response.status_code == 200, response.text


def test_the_queues_page_and_an_admins_edit(
    page: Any, server: Server, default_queue_restored: None
) -> None:
    page.get_by_role("link", name="Queues").click()
    page.wait_for_url("**/queues")
    expect(page.get_by_test_id("pool")).to_contain_text("free of")
    row = page.get_by_test_id(f"queue-row-{PROJECT}")
    expect(row.get_by_test_id("queue-gpu")).to_contain_text("no limit")
    shot(page, "72-queues")

    row.get_by_role("button", name=f"Edit {PROJECT}").click()
    page.get_by_test_id("queue-input-gpu").fill("4")
    page.get_by_test_id("queue-save").click()
    expect(page.get_by_test_id("queue-saved")).to_contain_text(f"Saved the queue {PROJECT}.")
    expect(row.get_by_test_id("queue-gpu")).to_have_text("0 / 4")
    with server.api() as api:
        saved = api.get("/queues").json()["queues"]
    assert [q["gpu"] for q in saved if q["name"] == PROJECT] == [4]

    row.get_by_role("button", name=f"Edit {PROJECT}").click()
    expect(page.get_by_test_id("queue-input-gpu")).to_have_value("4")
    page.get_by_test_id("queue-input-memory").fill("lots")
    page.get_by_test_id("queue-save").click()
    expect(page.get_by_test_id("queue-error")).to_contain_text(
        "memory: 'lots' is not a valid memory: use e.g. 64Gi"
    )
    shot(page, "73-queue-edit-error")


def test_a_task_waiting_for_its_queue_says_why(
    page: Any, server: Server, default_queue_restored: None
) -> None:
    name = f"big-{uuid.uuid4().hex[:6]}"
    spec = {"name": name, "tasks": [{"name": "big", "command": "true", "resources": {"cpu": 1}}]}
    with server.api() as api:
        limited = api.put(f"/projects/{PROJECT}/queue", json={"cpu": "500m"})
        assert limited.status_code == 200, limited.text
        assert api.post(f"/projects/{PROJECT}/pipelines", json={"spec": spec}).status_code == 201
        made = api.post(f"/projects/{PROJECT}/pipelines/{name}/runs", json={})
        assert made.status_code == 201, made.text
        run_id = str(made.json()["run_id"])
    try:
        page.goto(f"/runs/{run_id}")
        page.get_by_test_id("run-node-big").click()
        reason = page.get_by_test_id("task-waiting")
        expect(reason).to_contain_text("queued: needs 1 cpu, more than queue default's")
        shot(page, "74-run-task-waiting")

        page.goto("/runs")
        waiting = page.get_by_test_id(f"run-row-{run_id}").get_by_test_id("run-waiting")
        expect(waiting).to_contain_text("queued: needs 1 cpu")
        assert "cube queue set default --cpu 1" in (waiting.get_attribute("title") or "")
        shot(page, "75-runs-waiting")
    finally:
        with server.api() as api:
            stopped = api.post(f"/projects/{PROJECT}/runs/{run_id}/stop")
        assert stopped.status_code == 202, stopped.text
