"""Handing a created run to something that drives it to its end.

The scheduler creates a pending run and its record in one transaction, then hands the run id
to a ``RunLauncher``. ``ProcessLauncher`` starts a detached ``cube resume RUN_ID`` (the run
outlives the scheduler, and `cube resume` refuses a run another engine already drives);
``MemoryLauncher`` only remembers the ids, for tests and benchmarks that drive runs by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Protocol


class RunLauncher(Protocol):
    def launch(self, run_id: str) -> None:
        """Start driving a pending run; returns at once. May raise OSError."""
        ...

    def reap(self) -> None:
        """Collect what launched processes left behind; called once per scheduler turn."""
        ...


class ProcessLauncher:
    """Each run in its own session (a Ctrl-C or SIGTERM to the scheduler does not reach it),
    with its output in ``<log_dir>/<run_id>.log``."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._children: list[subprocess.Popen[bytes]] = []

    def launch(self, run_id: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{run_id}.log", "ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "cubestudio.cli.main", "resume", run_id],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._children.append(child)

    def reap(self) -> None:
        # A finished child stays a zombie until waited for; poll() waits without blocking.
        self._children = [child for child in self._children if child.poll() is None]


class MemoryLauncher:
    """Remembers the runs it was asked to launch; nothing runs them."""

    def __init__(self) -> None:
        self.launched: list[str] = []

    def launch(self, run_id: str) -> None:
        self.launched.append(run_id)

    def reap(self) -> None:
        return None
