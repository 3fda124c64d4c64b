"""Rendering has a time and a memory budget (issue 10, item 5): a template over budget fails
its own task with a clear message while the rest of the run, its timeouts, `cube retry` and
`cube stop` go on."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.conftest import Cube
from tests.integration.helpers import pipeline, wait_for

NESTED_LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
BUDGET = "rendering took longer than 2s (the template budget): simplify the template"


def test_a_template_over_budget_fails_its_task_and_the_run_goes_on(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    file = pipeline(
        tmp_path,
        f"""
name: budget
tasks:
  - {{name: bad, command: "{NESTED_LOOP}"}}
  - {{name: good, command: "sleep 1; echo ok"}}
  - {{name: slow, command: "sleep 30", timeout: 2s}}
""",
    )
    started = time.monotonic()
    result = cube_sqlite.json("run", str(file), "--json", expect=1, timeout=60)
    assert time.monotonic() - started < 30
    assert result["status"] == "failed"
    tasks = {name: task["status"] for name, task in result["tasks"].items()}
    assert tasks == {"bad": "failed", "good": "succeeded", "slow": "failed"}
    run_id = result["run_id"]
    assert cube_sqlite("logs", run_id, "good").stdout == "ok\n"
    bad = cube_sqlite("logs", run_id, "bad").stdout
    assert f"cannot render the task's templates: {BUDGET}" in bad
    assert "timed out after 2s" in cube_sqlite("logs", run_id, "slow").stdout
    # Run again, the template fails the same way, in seconds, never hanging the engine.
    started = time.monotonic()
    again = cube_sqlite.json("retry", run_id, "--json", expect=1, timeout=60)
    assert time.monotonic() - started < 30
    assert again["tasks"]["bad"] == {**again["tasks"]["bad"], "status": "failed", "attempts": 2}
    assert BUDGET in cube_sqlite("logs", run_id, "bad", "--attempt", "2").stdout


def test_stop_works_while_templates_render(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        f"""
name: stoppable
tasks:
  - {{name: long, command: "touch {tmp_path}/go; sleep 30"}}
  - {{name: gate, command: "sleep 0.5"}}
  - {{name: bad1, depends: [gate], retries: 10, command: "{NESTED_LOOP}"}}
  - {{name: bad2, depends: [gate], retries: 10, command: "{NESTED_LOOP}"}}
""",
    )
    env = {"CUBE_RENDER_TIMEOUT": "1"}
    engine = cube_sqlite.popen("run", str(file), "--json", env=env)
    try:
        wait_for(tmp_path / "go")
        time.sleep(1.5)  # gate is done: the engine now renders bad1 and bad2, over and over
        run_id = cube_sqlite.json("runs", "--json")[0]["run_id"]
        started = time.monotonic()
        stopped = cube_sqlite("stop", run_id, timeout=60, env=env)
        assert stopped.returncode == 0, stopped.stderr
        assert time.monotonic() - started < 15, stopped.stderr
        assert f"run {run_id} stopped" in stopped.stderr
        out, _ = engine.communicate(timeout=30)
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.communicate()
    result = json.loads(out)
    assert result["status"] == "stopped"
    assert result["tasks"]["long"]["status"] == "stopped"
    assert result["tasks"]["bad1"]["attempts"] < 11  # the stop cut the retries short
