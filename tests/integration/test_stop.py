"""Stopping runs: Ctrl-C on `cube run`, and `cube stop` on a run whose engine died."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from cubestudio.procinfo import start_time
from tests.conftest import Cube
from tests.integration.helpers import pipeline, wait_for


def _long_pipeline(tmp_path: Path) -> Path:
    return pipeline(
        tmp_path,
        f"""
name: long
tasks:
  - name: a
    command: sleep 30 & echo $! > {tmp_path}/child.pid; touch {tmp_path}/go; wait
  - {{name: b, command: "touch {tmp_path}/b.ran", depends: [a]}}
on_exit:
  name: cleanup
  command: echo {{{{ run_status }}}} > {tmp_path}/exit-status
""",
    )


def _gone(pid: int) -> bool:
    """Gone or a zombie (killed, not yet reaped by whoever inherited it)."""
    return start_time(pid) is None


def test_ctrl_c_stops_the_run_and_kills_its_tasks(cube_sqlite: Cube, tmp_path: Path) -> None:
    engine = cube_sqlite.popen("run", str(_long_pipeline(tmp_path)), "--json")
    wait_for(tmp_path / "go")
    engine.send_signal(signal.SIGINT)
    out, _ = engine.communicate(timeout=30)
    assert engine.returncode == 1
    import json

    result = json.loads(out)
    assert result["status"] == "stopped"
    assert result["tasks"]["a"]["status"] == "stopped"
    assert result["tasks"]["b"]["status"] == "stopped"
    assert result["tasks"]["cleanup"]["status"] == "succeeded"  # the exit handler still ran
    assert (tmp_path / "exit-status").read_text() == "stopped\n"
    assert not (tmp_path / "b.ran").exists()
    assert _gone(int((tmp_path / "child.pid").read_text()))


@pytest.mark.parametrize("backend_cube", ["cube"], indirect=False)
def test_stop_adopts_a_run_whose_engine_died(cube: Cube, tmp_path: Path, backend_cube: str) -> None:
    engine = cube.popen("run", str(_long_pipeline(tmp_path)), "--json")
    wait_for(tmp_path / "go")
    os.kill(engine.pid, signal.SIGKILL)
    engine.communicate(timeout=10)
    run_id = cube.json("runs", "--json")[0]["run_id"]
    stopped = cube("stop", run_id)
    # The same outcome as with a live engine (the run stopped), so the same exit code.
    assert stopped.returncode == 0, stopped.stderr
    result = cube.json("show", run_id, "--json")
    assert result["status"] == "stopped"
    assert result["tasks"]["a"]["status"] == "stopped"
    assert _gone(int((tmp_path / "child.pid").read_text()))
    again = cube("stop", run_id)
    assert again.returncode == 0 and "already ended: stopped" in again.stderr
