"""A follower that opened before the engine kept the run's secrets (a scheduled run waiting
for its engine, `cube debug`) masks the attempts that begin afterwards all the same."""

from __future__ import annotations

import json
from pathlib import Path

from cubestudio.drivers.local import attempt_dir
from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.launcher import AttemptKey
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.logs.view import LogRequest, open_logs
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store.db import Database
from tests.unit.logs.conftest import T0

PIPELINE = """
name: late
env: {TOKEN: {secret: true, value: hunter2}}
tasks:
  - {name: a, command: x}
"""


def test_secrets_kept_after_the_follower_opened_are_masked(db: Database, tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    run_id = create_run(db, spec=load_pipeline_text(PIPELINE), params={}, now=T0)
    driver = MemoryDriver()
    ctl = load_controller(db, driver, run_id, kill_grace=5, secrets={"TOKEN": "hunter2"})
    log = attempt_dir(runs_dir, AttemptKey(run_id, "a", 1)) / "log"

    def start() -> None:
        """What the engine does when it starts: keep the secrets, launch the task."""
        (runs_dir / run_id).mkdir(parents=True)
        (runs_dir / run_id / "secrets.json").write_text(json.dumps(driver.secrets[run_id]))
        log.parent.mkdir(parents=True)
        log.write_bytes(b"token=hunter2\n")

    def finish() -> None:
        driver.finish("a")
        ctl.tick(T0)

    steps = iter([lambda: ctl.start(T0), start, finish])
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds
        next(steps, lambda: None)()

    stream = open_logs(
        db,
        runs_dir,
        LogRequest(run_id=run_id, task="a", follow=True),
        sleep=sleep,
        clock=lambda: clock[0],
    )
    assert b"".join(stream.chunks()) == b"token=******\n"
