"""A value output that holds a secret is stored masked, and handed downstream masked."""

from __future__ import annotations

import json

from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store import runs as store

from .conftest import Harness

PIPELINE = """
name: s
env: {TOKEN: {secret: true, value: hunter2}}
tasks:
  - {name: a, command: "true", outputs: [tok, plain]}
  - {name: b, command: "echo {{ tasks.a.outputs.tok }}", depends: [a]}
"""


def test_a_secret_in_a_value_output_is_stored_and_passed_on_masked(
    sqlite_harness: Harness,
) -> None:
    h = sqlite_harness
    run_id = create_run(h.db, spec=load_pipeline_text(PIPELINE), params={}, now=h.now)
    driver = MemoryDriver()
    ctl = load_controller(h.db, driver, run_id, kill_grace=5, secrets={"TOKEN": "hunter2"})
    ctl.start(h.now)
    driver.finish("a", outputs={"tok": "key=hunter2;again hunter2", "plain": "42"})
    ctl.tick(h.now)
    assert driver.launched[-1].command == "echo key=******;again ******"
    with h.db.begin() as conn:
        task = next(t for t in store.load_task_runs(conn, run_id=run_id) if t["name"] == "a")
        attempt = store.load_attempts(conn, run_id=run_id, task_name="a")[0]
    expected = {"tok": "key=******;again ******", "plain": "42"}
    assert json.loads(task["outputs"]) == expected
    assert "hunter2" not in json.dumps(dict(attempt), default=str)
