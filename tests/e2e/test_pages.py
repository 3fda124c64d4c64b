"""Each page at 1280x720 with its data and its empty state: pipelines (search), runs (status
filter), a run of an example pipeline, schedules (switch one), templates (details, register
one), secrets (values never shown) and the editor's YAML view round trip."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, shot

PROJECT = "default"
RUN_TIMEOUT = 60_000


def trigger(server: Server, pipeline: str) -> str:
    with server.api() as api:
        response = api.post(f"/projects/{PROJECT}/pipelines/{pipeline}/runs", json={})
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


def save_pipeline(server: Server, spec: dict[str, Any]) -> None:
    with server.api() as api:
        response = api.post(f"/projects/{PROJECT}/pipelines", json={"spec": spec})
    assert response.status_code == 201, response.text


def test_a_new_project_shows_the_empty_states(page: Any, server: Server) -> None:
    name = f"empty-{uuid.uuid4().hex[:6]}"
    with server.api() as api:
        assert api.post("/projects", json={"name": name}).status_code == 201
    page.reload()
    page.get_by_label("Project").select_option(name)
    expect(page.get_by_test_id("pipelines-empty")).to_contain_text("No pipelines yet")
    shot(page, "30-pipelines-empty")
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_test_id("runs-empty")).to_contain_text("No runs yet")
    shot(page, "31-runs-empty")
    page.get_by_role("link", name="Schedules").click()
    expect(page.get_by_text("No schedule yet")).to_be_visible()
    shot(page, "32-schedules-empty")
    page.get_by_role("link", name="Secrets").click()
    expect(page.get_by_test_id("secrets-empty")).to_contain_text("No secrets yet")
    shot(page, "33-secrets-empty")


def test_the_pipelines_list_searches_by_name(page: Any) -> None:
    table = page.get_by_test_id("pipelines-table")
    for example in ("hello", "diamond", "nightly", "outputs"):
        expect(table.get_by_test_id(f"pipeline-row-{example}")).to_be_visible()
    expect(page.get_by_test_id("pipeline-row-nightly")).to_contain_text("02:00")
    shot(page, "34-pipelines")
    search = page.get_by_test_id("pipeline-search")
    search.fill("diam")
    expect(table.get_by_test_id("pipeline-row-diamond")).to_be_visible()
    expect(table.get_by_test_id("pipeline-row-hello")).to_have_count(0)
    shot(page, "35-pipelines-search")
    search.fill("no-such-pipeline")
    expect(page.get_by_test_id("pipelines-no-match")).to_contain_text("no-such-pipeline")
    search.fill("")
    expect(table.get_by_test_id("pipeline-row-hello")).to_be_visible()


def test_the_runs_list_filters_by_status(page: Any, server: Server) -> None:
    failing = f"e2e-fails-{uuid.uuid4().hex[:6]}"
    save_pipeline(server, {"name": failing, "tasks": [{"name": "boom", "command": "exit 3"}]})
    good, bad = trigger(server, "hello"), trigger(server, failing)
    page.get_by_role("link", name="Runs").click()
    runs = page.get_by_test_id("runs")
    expect(runs.get_by_test_id(f"run-row-{good}")).to_contain_text("succeeded", timeout=RUN_TIMEOUT)
    expect(runs.get_by_test_id(f"run-row-{bad}")).to_contain_text("failed", timeout=RUN_TIMEOUT)
    shot(page, "36-runs")
    page.get_by_label("status").select_option("failed")
    expect(runs.get_by_test_id(f"run-row-{bad}")).to_be_visible()
    expect(runs.get_by_test_id(f"run-row-{good}")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"status=failed"))
    shot(page, "37-runs-failed")
    page.get_by_label("status").select_option("succeeded")
    expect(runs.get_by_test_id(f"run-row-{good}")).to_be_visible()
    expect(runs.get_by_test_id(f"run-row-{bad}")).to_have_count(0)
    runs.get_by_role("link", name=good).click()
    page.wait_for_url(f"**/runs/{good}")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")


def test_the_run_view_of_an_example_shows_status_log_and_outputs(page: Any, server: Server) -> None:
    run_id = trigger(server, "outputs")
    page.goto(f"/runs/{run_id}")
    for task in ("count", "report"):
        expect(page.get_by_test_id(f"run-node-{task}")).to_have_attribute(
            "data-status", "succeeded", timeout=RUN_TIMEOUT
        )
    expect(page.get_by_test_id("run-header")).to_contain_text("outputs")
    shot(page, "38-run-view")
    page.get_by_test_id("run-node-count").click()
    panel = page.get_by_test_id("task-panel")
    expect(panel.get_by_test_id("output-rows")).to_contain_text("5")
    page.get_by_test_id("run-node-report").click()
    expect(panel.get_by_test_id("log-lines")).to_contain_text("count saw 5 rows (env ROWS=5)")
    panel.get_by_label("search the log").fill("ROWS")
    panel.get_by_role("button", name="Search").click()
    expect(panel.get_by_test_id("log-lines")).to_contain_text("ROWS=5")
    shot(page, "39-run-view-task")


def test_the_nightly_schedule_is_switched_on_and_off(page: Any, server: Server) -> None:
    # Without catchup: switched on, the example would start a run for every day since its
    # start (2026-01-01) on this shared server. Everything else is the example's schedule.
    with server.api() as api:
        current = api.get(f"/projects/{PROJECT}/pipelines/nightly").json()
        spec = current["spec"]
        spec["schedule"]["catchup"] = False
        saved = api.put(f"/projects/{PROJECT}/pipelines/nightly", json={"spec": spec})
        assert saved.status_code == 200, saved.text
    page.reload()
    switch = page.get_by_test_id("schedule-switch-nightly")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    shot(page, "40-pipelines-schedule-on")
    page.get_by_role("link", name="Schedules").click()
    row = page.get_by_test_id("schedule-nightly")
    expect(row).to_contain_text("0 2 * * *")
    expect(row).to_contain_text("Asia/Shanghai")
    on = row.get_by_label("schedule of nightly on")
    expect(on).to_be_checked()
    row.get_by_role("button", name="Records").click()
    shot(page, "41-schedules")
    on.uncheck()
    expect(on).not_to_be_checked()
    expect(row).to_contain_text("paused")
    shot(page, "42-schedules-paused")
    page.reload()
    after = page.get_by_test_id("schedule-nightly").get_by_label("schedule of nightly on")
    expect(after).not_to_be_checked()


def test_templates_show_their_parameters_and_one_is_registered(page: Any) -> None:
    page.get_by_role("link", name="Templates").click()
    table = page.get_by_test_id("templates-table")
    for name in ("python", "shell", "sklearn-train", "sklearn-dataset"):
        expect(table.get_by_test_id(f"template-row-{name}")).to_be_visible()
    shot(page, "43-templates")
    table.get_by_test_id("template-row-sklearn-dataset").click()
    details = page.get_by_role("complementary", name="Template sklearn-dataset")
    params = details.get_by_test_id("param-table")
    for param in ("samples", "features", "seed", "test_fraction"):
        expect(params).to_contain_text(param)
    expect(params).to_contain_text("1000")
    shot(page, "44-template-details")

    name = f"e2e-tpl-{uuid.uuid4().hex[:6]}"
    page.get_by_test_id("register-template").click()
    page.get_by_test_id("template-name").fill(name)
    page.get_by_test_id("template-command").fill("echo {{ args.greeting }}")
    page.get_by_test_id("add-parameter").click()
    page.get_by_test_id("param-name-0").fill("greeting")
    expect(page.get_by_test_id("builder-yaml")).to_contain_text("greeting")
    shot(page, "45-template-register")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_role("status")).to_contain_text(f"Registered {name} v1")
    expect(table.get_by_test_id(f"template-row-{name}")).to_be_visible()
    table.get_by_test_id(f"template-row-{name}").click()
    new = page.get_by_role("complementary", name=f"Template {name}")
    expect(new.get_by_test_id("param-table")).to_contain_text("greeting")
    shot(page, "46-template-registered")


def test_a_secret_is_set_and_its_value_never_shown(page: Any) -> None:
    page.get_by_role("link", name="Secrets").click()
    name, value = "E2E_TOKEN", f"hunter2-{uuid.uuid4().hex}"
    page.get_by_test_id("secret-name").fill(name)
    page.get_by_test_id("secret-value").fill(value)
    page.get_by_test_id("secret-save").click()
    expect(page.get_by_test_id(f"secret-row-{name}")).to_be_visible()
    expect(page.get_by_test_id("secret-value")).to_have_value("")
    shot(page, "47-secrets")
    assert value not in page.content()
    page.reload()
    expect(page.get_by_test_id(f"secret-row-{name}")).to_be_visible()
    assert value not in page.content()


YAML = """name: hello
description: Say hello from a task.
tasks:
  - name: hello
    command: echo "hello from {{ pipeline_name }}, run {{ run_id }}"
  - name: goodbye
    depends: [hello]
    command: echo bye
"""


def test_the_yaml_view_round_trips_with_the_canvas(page: Any) -> None:
    page.goto("/pipelines/hello")
    expect(page.get_by_test_id("task-node-hello")).to_be_visible()
    page.get_by_role("tab", name="YAML").click()
    code = page.get_by_test_id("yaml-view").locator(".cm-content")
    expect(code).to_contain_text("name: hello")
    shot(page, "48-editor-yaml")
    code.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("tasks: [unclosed")
    expect(page.get_by_test_id("yaml-error")).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(YAML)
    expect(page.get_by_test_id("yaml-error")).to_have_count(0)
    expect(page.get_by_test_id("save-badge")).to_have_text("unsaved")
    page.get_by_role("tab", name="Canvas").click()
    expect(page.get_by_test_id("task-node-goodbye")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    shot(page, "49-editor-yaml-to-canvas")
    page.get_by_test_id("task-node-goodbye").locator(".task-node-name").click()
    page.get_by_test_id("task-node-goodbye").press("Delete")
    expect(page.get_by_test_id("task-node-goodbye")).to_have_count(0)
    page.get_by_role("tab", name="YAML").click()
    expect(code).to_contain_text("name: hello")
    expect(code).not_to_contain_text("goodbye")
    expect(page.get_by_test_id("save-badge")).to_have_text("saved")
