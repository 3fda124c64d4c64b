"""Waiting on real processes in driver tests, with a deadline instead of a fixed sleep."""

from __future__ import annotations

import time
from pathlib import Path

from cubestudio.drivers.local import LocalDriver
from cubestudio.engine.launcher import Outcome
from cubestudio.procinfo import start_time


def wait_for(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.01)


def gone(pid: int, timeout: float = 5) -> bool:
    """Whether the process ``pid`` ends within ``timeout`` (a zombie counts as ended)."""
    deadline = time.monotonic() + timeout
    while start_time(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    return start_time(pid) is None


def outcomes(driver: LocalDriver, timeout: float = 10) -> list[Outcome]:
    """The first non-empty poll() of ``driver``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        driver.wait(0.2)
        if found := driver.poll():
            return found
    raise AssertionError("no attempt ended")
