"""No orphans after a crash: a task leaves a background process that ignores SIGTERM; the
engine (`cube run`) is killed with SIGKILL while the task runs, and `cube resume` adopts it.
When the task ends, nothing of its process group may survive, exactly as when the engine
that started it watches it to the end."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cube
from tests.integration.helpers import pipeline, wait_for


def _with(argument: str) -> list[int]:
    """Pids of the live processes running `sleep <argument>`."""
    wanted = f"sleep\0{argument}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes() == wanted:
                found.append(int(entry.name))
        except OSError:  # it ended meanwhile
            continue
    return found


def _survivors(argument: str, timeout: float = 5.0) -> list[int]:
    """What still runs `sleep <argument>` once ``timeout`` has passed (or sooner, if none)."""
    deadline = time.monotonic() + timeout
    while (found := _with(argument)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


@pytest.fixture
def daemon_argument() -> Iterator[str]:
    """A `sleep` argument no other process uses; whatever runs with it is killed at the end."""
    argument = f"3003.{random.randrange(10**6):06d}"
    yield argument
    for pid in _with(argument):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _pipeline(tmp_path: Path, argument: str) -> Path:
    return pipeline(
        tmp_path,
        f"""
name: adopt
tasks:
  - name: a
    command: "(trap '' TERM; sleep {argument}) & echo started; touch {tmp_path}/go; sleep 2"
""",
    )


def test_an_adopted_task_leaves_no_process_of_its_group_behind(
    cube_sqlite: Cube, tmp_path: Path, daemon_argument: str
) -> None:
    engine = cube_sqlite.popen("run", str(_pipeline(tmp_path, daemon_argument)), "--json")
    try:
        wait_for(tmp_path / "go")
    finally:
        os.kill(engine.pid, signal.SIGKILL)
        engine.communicate(timeout=10)
    [daemon] = _with(daemon_argument)  # the background process runs, in the task's group:
    leader = os.getpgid(daemon)  # the task's wrapper, which outlived its engine
    assert Path(f"/proc/{leader}/cmdline").read_bytes().startswith(b"sh\0-c\0")
    run_id = cube_sqlite.json("runs", "--json", expect=0)[0]["run_id"]

    result = cube_sqlite.json("resume", run_id, "--json", expect=0)
    assert result["status"] == "succeeded"
    assert result["tasks"]["a"]["attempts"] == 1  # adopted, not started again
    assert _survivors(daemon_argument) == []


def test_a_task_watched_to_the_end_leaves_no_process_of_its_group_behind(
    cube_sqlite: Cube, tmp_path: Path, daemon_argument: str
) -> None:
    result = cube_sqlite.json("run", str(_pipeline(tmp_path, daemon_argument)), "--json", expect=0)
    assert result["status"] == "succeeded"
    assert _survivors(daemon_argument) == []
