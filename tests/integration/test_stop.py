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


CLEANS_UP = """
name: grace
tasks:
  - name: t
    timeout: 1
    command: |
      python3 -c "
      import signal, sys, time
      def bye(*a):
          print('got term', flush=True); time.sleep(0.5); print('cleaned up', flush=True)
          sys.exit(0)
      signal.signal(signal.SIGTERM, bye)
      print('up', flush=True)
      time.sleep(30)
      "
      echo "not reached: the rest of a stopped command does not run"
"""


def test_a_task_that_cleans_up_on_sigterm_gets_its_grace(cube_sqlite: Cube, tmp_path: Path) -> None:
    """The program the command runs gets SIGTERM and the grace to clean up: the wrapper's
    subshell waits for it rather than dying at once (after which the group was SIGKILLed)."""
    result = cube_sqlite.json("run", str(pipeline(tmp_path, CLEANS_UP)), "--json", expect=1)
    log = cube_sqlite("logs", result["run_id"], "t").stdout
    assert "got term\ncleaned up\n" in log, log
    assert "not reached" not in log
    assert result["tasks"]["t"]["exit_code"] == 143
