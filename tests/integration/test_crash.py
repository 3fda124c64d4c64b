"""Crash tests: the engine (`cube run`) is killed with SIGKILL at chosen instants, then
`cube resume` adopts the run. Every task process must start exactly once (counter files), a
task running at the kill must be adopted, and every final status must be right."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.conftest import Cube
from tests.integration.helpers import count, pipeline, wait_for


def _pipeline(tmp_path: Path) -> Path:
    """a (long enough to be caught running) -> b, and an independent c."""
    return pipeline(
        tmp_path,
        f"""
name: crash
tasks:
  - name: a
    command: echo $$ >> {tmp_path}/a.count; touch {tmp_path}/a.started; sleep 1.5
  - name: b
    depends: [a]
    command: echo $$ >> {tmp_path}/b.count
  - name: c
    command: echo $$ >> {tmp_path}/c.count
""",
    )


def _last_run(cube: Cube) -> str:
    runs = cube.json("runs", "--json", expect=0)
    assert len(runs) == 1
    return str(runs[0]["run_id"])


def test_kill_9_while_a_task_runs_then_resume_adopts_it(cube: Cube, tmp_path: Path) -> None:
    engine = cube.popen("run", str(_pipeline(tmp_path)), "--json")
    wait_for(tmp_path / "a.started")
    os.kill(engine.pid, signal.SIGKILL)
    engine.communicate(timeout=10)
    run_id = _last_run(cube)
    task_pid = int((tmp_path / "a.count").read_text().split()[0])
    os.kill(task_pid, 0)  # the task outlived its engine

    result = cube.json("resume", run_id, "--json", expect=0)
    assert result["status"] == "succeeded"
    assert {name: t["status"] for name, t in result["tasks"].items()} == dict.fromkeys(
        "abc", "succeeded"
    )
    assert (count(tmp_path / "a.count"), count(tmp_path / "b.count")) == (1, 1)
    assert count(tmp_path / "c.count") == 1
    assert result["tasks"]["a"]["attempts"] == 1  # adopted, not started again


@pytest.mark.parametrize(
    "point",
    ["before_launch", "after_launch", "before_collect"],
)
def test_kill_at_an_instant_around_a_launch_then_resume(
    cube: Cube, tmp_path: Path, point: str
) -> None:
    crashed = cube("run", str(_pipeline(tmp_path)), "--json", env={"CUBE_FAILPOINT": f"{point}:a"})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    run_id = _last_run(cube)
    result = cube.json("resume", run_id, "--json", expect=0)
    assert result["status"] == "succeeded"
    for task in "abc":
        assert count(tmp_path / f"{task}.count") == 1, task
        assert result["tasks"][task]["attempts"] == 1
        assert result["tasks"][task]["status"] == "succeeded"


def test_kill_while_a_retry_is_pending_then_resume(cube: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        f"""
name: crash-retry
tasks:
  - name: a
    retries: 2
    retry_delay: 1s
    command: echo x >> {tmp_path}/a.count; [ $(wc -l < {tmp_path}/a.count) -ge 2 ]
  - name: b
    depends: [a]
    command: echo x >> {tmp_path}/b.count
""",
    )
    crashed = cube("run", str(file), "--json", env={"CUBE_FAILPOINT": "retry_pending:a"})
    assert crashed.returncode == -signal.SIGKILL
    run_id = _last_run(cube)
    assert cube.json("show", run_id, "--json")["tasks"]["a"]["status"] == "pending"
    result = cube.json("resume", run_id, "--json", expect=0)
    assert count(tmp_path / "a.count") == 2  # the failed try and its one retry
    assert count(tmp_path / "b.count") == 1
    assert result["tasks"]["a"]["attempts"] == 2


def test_kill_while_a_task_finishes_then_resume(cube: Cube, tmp_path: Path) -> None:
    """The task's exit was written while no engine watched: resume collects it."""
    engine = cube.popen("run", str(_pipeline(tmp_path)), "--json")
    wait_for(tmp_path / "a.started")
    os.kill(engine.pid, signal.SIGKILL)
    engine.communicate(timeout=10)
    run_id = _last_run(cube)
    wait_for(cube.attempt_dir(run_id, "a") / "exit")  # a ended with no engine
    result = cube.json("resume", run_id, "--json", expect=0)
    assert result["status"] == "succeeded"
    assert count(tmp_path / "a.count") == 1 and count(tmp_path / "b.count") == 1


def test_resume_refuses_a_run_whose_engine_is_alive(cube: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        f"name: alive\ntasks:\n  - {{name: a, command: 'touch {tmp_path}/go; sleep 30'}}\n",
    )
    engine = cube.popen("run", str(file), "--json")
    try:
        wait_for(tmp_path / "go")
        run_id = _last_run(cube)
        refused = cube("resume", run_id)
        assert refused.returncode == 2
        assert "still driven by process" in refused.stderr
        stopped = cube("stop", run_id)
        assert stopped.returncode == 0, stopped.stderr
    finally:
        engine.communicate(timeout=30)
    assert engine.returncode == 1
    assert cube.json("show", run_id, "--json")["status"] == "stopped"
