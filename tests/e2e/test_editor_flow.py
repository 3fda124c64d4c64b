"""The editor's whole story in one browser session (issue 13's proof): build a pipeline of
three templates on the canvas, have a cycle refused, fix an invalid field, save, run and watch
the run go green live, read a task's log and output, debug one task, undo and redo, schedule
it, and find everything again after a reload."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, shot

PIPELINE = "e2e-flow"
DATASET, PYTHON, SHELL = "sklearn-dataset", "python", "shell"
SCRIPT = (
    "import os\n"
    'print("python says hello")\n'
    'open(os.environ["CUBE_OUTPUTS"] + "/greeting", "w").write("hello-e2e")\n'
)
COMMAND = 'echo "shell got {{ tasks.python.outputs.greeting }}"'
RUN_TIMEOUT = 90_000  # ms: three tasks, one importing scikit-learn


def node(tab: Any, task: str) -> Any:
    return tab.get_by_test_id(f"task-node-{task}")


def drop_template(tab: Any, template: str, x: float, y: float) -> None:
    """Drag a palette entry onto the canvas (HTML5 drag and drop), (x, y) in the canvas."""
    canvas = tab.get_by_test_id("editor-canvas")
    tab.get_by_test_id(f"palette-item-{template}").drag_to(canvas, target_position={"x": x, "y": y})
    expect(node(tab, template)).to_be_visible()


def connect(tab: Any, source: str, target: str) -> None:
    """Draw an edge from one task's output handle to another's input handle."""
    start = node(tab, source).locator(".react-flow__handle.source").bounding_box()
    end = node(tab, target).locator(".react-flow__handle.target").bounding_box()
    tab.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    tab.mouse.down()
    tab.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    tab.mouse.up()


def edges(tab: Any) -> Any:
    return tab.locator(".react-flow__edge")


def select(tab: Any, task: str) -> None:
    node(tab, task).locator(".task-node-name").click()
    expect(tab.get_by_test_id("task-name")).to_have_value(task)


def type_code(tab: Any, test_id: str, text: str) -> None:
    """Replace the text of a code editor (CodeMirror) field."""
    content = tab.get_by_test_id(test_id)
    content.click()
    tab.keyboard.press("Control+A")
    tab.keyboard.insert_text(text)


def test_build_run_debug_schedule_and_reload_a_pipeline(page: Any, server: Server) -> None:
    build_the_graph(page)
    fill_the_forms(page)
    run_id = save_and_run(page)
    read_the_run(page, run_id)
    debug_one_task(page)
    undo_and_redo(page)
    schedule_it(page)
    reload_and_find_everything(page)


def build_the_graph(tab: Any) -> None:
    tab.goto("/pipelines/new")
    expect(tab.get_by_test_id("save-badge")).to_have_text("unsaved")
    expect(tab.get_by_text("An empty pipeline")).to_be_visible()
    shot(tab, "10-editor-empty")

    drop_template(tab, DATASET, 140, 90)
    drop_template(tab, PYTHON, 440, 210)
    drop_template(tab, SHELL, 140, 340)
    expect(tab.locator(".react-flow__node-task")).to_have_count(3)
    shot(tab, "11-editor-three-nodes")

    connect(tab, DATASET, PYTHON)
    expect(edges(tab)).to_have_count(1)
    connect(tab, PYTHON, SHELL)
    expect(edges(tab)).to_have_count(2)
    shot(tab, "12-editor-two-edges")

    connect(tab, SHELL, DATASET)  # closes dataset -> python -> shell -> dataset
    expect(tab.get_by_test_id("editor-notice")).to_contain_text("cycle")
    expect(edges(tab)).to_have_count(2)
    shot(tab, "13-editor-cycle-refused")
    tab.get_by_test_id("editor-notice").get_by_role("button", name="Dismiss").click()


def fill_the_forms(tab: Any) -> None:
    select(tab, DATASET)
    samples = tab.get_by_test_id("arg-samples")
    expect(samples).to_have_value("1000")  # the template's default
    samples.fill("lots")
    error = tab.get_by_test_id("side-panel").locator(".cf-error")
    expect(error).to_contain_text("not a number")  # the form's own check, as typed
    expect(error).to_contain_text("'lots' is not an int")  # the server's, a moment later
    expect(samples).to_have_attribute("aria-invalid", "true")
    expect(tab.get_by_test_id(f"task-errors-{DATASET}")).to_be_visible()
    shot(tab, "14-editor-invalid-field")
    samples.fill("200")
    expect(error).to_have_count(0)
    expect(tab.get_by_test_id(f"task-errors-{DATASET}")).to_have_count(0)
    shot(tab, "15-editor-field-fixed")

    select(tab, PYTHON)
    type_code(tab, "arg-script", SCRIPT)
    tab.get_by_role("button", name="Outputs").click()
    tab.get_by_test_id("task-outputs").fill("greeting")
    select(tab, SHELL)
    type_code(tab, "arg-command", COMMAND)
    expect(tab.get_by_test_id("arg-command")).to_have_text(COMMAND)
    for task in (DATASET, PYTHON, SHELL):  # the server finds nothing wrong any more
        expect(tab.get_by_test_id(f"task-errors-{task}")).to_have_count(0)
    shot(tab, "16-editor-forms-filled")


def save_and_run(tab: Any) -> str:
    tab.get_by_role("button", name="Save", exact=True).click()
    dialog = tab.get_by_role("form", name="Save")
    dialog.locator("input[name=pipeline-name]").fill(PIPELINE)
    shot(tab, "17-editor-save-dialog")
    dialog.get_by_role("button", name="Save").click()
    tab.wait_for_url(f"**/pipelines/{PIPELINE}")
    expect(tab.get_by_test_id("save-badge")).to_have_text("saved")
    expect(tab.get_by_test_id("pipeline-name")).to_have_text(PIPELINE)

    tab.evaluate("window.__noReload = true")
    tab.get_by_role("button", name="Run", exact=True).click()
    tab.wait_for_url(re.compile(r".*/runs/[0-9a-f-]+$"))
    run_id = tab.url.rsplit("/", 1)[1]
    shot(tab, "18-run-started")
    for task in (DATASET, PYTHON, SHELL):
        expect(tab.get_by_test_id(f"run-node-{task}")).to_have_attribute(
            "data-status", "succeeded", timeout=RUN_TIMEOUT
        )
    expect(tab.get_by_test_id("run-status")).to_have_text("succeeded")
    assert tab.evaluate("window.__noReload") is True, "the run view reloaded the page"
    shot(tab, "19-run-succeeded")
    return run_id


def read_the_run(tab: Any, run_id: str) -> None:
    tab.get_by_test_id(f"run-node-{PYTHON}").click()
    panel = tab.get_by_test_id("task-panel")
    expect(panel.get_by_role("heading", name=PYTHON)).to_be_visible()
    expect(panel.get_by_test_id("log-lines")).to_contain_text("python says hello")
    expect(panel.get_by_test_id("output-greeting")).to_contain_text("hello-e2e")
    expect(panel.get_by_test_id("attempts")).to_contain_text("succeeded")
    shot(tab, "20-run-task-log-and-output")
    tab.get_by_test_id(f"run-node-{SHELL}").click()
    expect(panel.get_by_test_id("log-lines")).to_contain_text("shell got hello-e2e")
    shot(tab, "21-run-downstream-log")
    assert run_id in tab.url


def debug_one_task(tab: Any) -> None:
    tab.get_by_test_id("run-header").get_by_role("link", name=PIPELINE).click()
    tab.wait_for_url(f"**/pipelines/{PIPELINE}")
    expect(tab.locator(".react-flow__node-task")).to_have_count(3)
    select(tab, SHELL)
    tab.get_by_role("button", name="Debug").click()
    debug = tab.get_by_test_id("debug-panel")
    expect(debug).to_contain_text(f"Debug: {SHELL}")
    # Run alone, the shell task reads the python task's output from the latest run.
    expect(debug.get_by_test_id("log-lines")).to_contain_text("shell got hello-e2e", timeout=30_000)
    shot(tab, "22-editor-debug-log")
    debug.get_by_role("button", name="Close the debug log").click()


def undo_and_redo(tab: Any) -> None:
    select(tab, SHELL)
    node(tab, SHELL).press("Delete")
    expect(node(tab, SHELL)).to_have_count(0)
    expect(edges(tab)).to_have_count(1)
    expect(tab.get_by_test_id("save-badge")).to_have_text("unsaved")
    shot(tab, "23-editor-node-deleted")
    tab.keyboard.press("Control+Z")
    expect(node(tab, SHELL)).to_be_visible()
    expect(edges(tab)).to_have_count(2)
    expect(tab.get_by_test_id("save-badge")).to_have_text("saved")
    tab.keyboard.press("Control+Shift+Z")
    expect(node(tab, SHELL)).to_have_count(0)
    expect(edges(tab)).to_have_count(1)
    tab.keyboard.press("Control+Z")
    expect(node(tab, SHELL)).to_be_visible()
    expect(edges(tab)).to_have_count(2)
    expect(tab.get_by_test_id("save-badge")).to_have_text("saved")
    shot(tab, "24-editor-undo-redo")


def schedule_it(tab: Any) -> None:
    tab.keyboard.press("Escape")  # nothing selected: the pipeline's settings
    settings = tab.get_by_test_id("pipeline-settings")
    expect(settings).to_be_visible()
    settings.get_by_test_id("schedule-enabled").check()
    cron = settings.get_by_test_id("schedule-cron")
    cron.fill("30 2 * * *")
    expect(settings.get_by_test_id("schedule-cron-text")).to_contain_text("02:30")
    expect(tab.get_by_test_id("schedule-preview-note")).to_be_visible()
    tab.get_by_role("button", name="Save", exact=True).click()
    expect(tab.get_by_test_id("save-badge")).to_have_text("saved")
    next_runs = settings.get_by_test_id("schedule-next-runs").locator("li")
    expect(next_runs).to_have_count(5)
    expect(next_runs.first).to_contain_text("02:30:00")
    next_runs.last.scroll_into_view_if_needed()
    shot(tab, "25-editor-schedule-next-runs")


def reload_and_find_everything(tab: Any) -> None:
    # An edit not saved as a version survives the reload as a local draft.
    description = tab.get_by_test_id("pipeline-settings").get_by_label("description")
    description.fill("made in the browser")
    expect(tab.get_by_test_id("save-badge")).to_have_text("unsaved")
    tab.on("dialog", lambda dialog: dialog.accept())  # the leave-with-unsaved-edits warning
    tab.reload()
    expect(tab.get_by_test_id("draft-banner")).to_be_visible()
    expect(tab.locator(".react-flow__node-task")).to_have_count(3)
    expect(edges(tab)).to_have_count(2)
    settings = tab.get_by_test_id("pipeline-settings")
    expect(settings.get_by_label("description")).to_have_value("made in the browser")
    expect(settings.get_by_test_id("schedule-cron")).to_have_value("30 2 * * *")
    expect(settings.get_by_test_id("schedule-next-runs").locator("li")).to_have_count(5)
    shot(tab, "26-editor-after-reload")
    select(tab, DATASET)
    expect(tab.get_by_test_id("arg-samples")).to_have_value("200")
    select(tab, PYTHON)
    expect(tab.get_by_test_id("task-outputs")).to_have_value("greeting")
    expect(tab.get_by_test_id("arg-script")).to_contain_text("python says hello")
