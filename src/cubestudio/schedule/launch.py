"""Handing a created run to something that drives it to its end.

The scheduler creates a pending run and its record in one transaction, then hands the run id
to a ``RunLauncher``. ``EngineLauncher`` wakes the engine service (`cube engine`), which
claims pending runs; ``ProcessLauncher`` starts a detached ``cube resume RUN_ID`` per run
(kept for a machine without an engine service: `cube scheduler --drive-runs`);
``MemoryLauncher`` only remembers the ids, for tests and benchmarks that drive runs by hand.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class RunLauncher(Protocol):
    def launch(self, run_id: str) -> None:
        """Start driving a pending run; returns at once. May raise OSError."""
        ...

    def reap(self) -> None:
        """Collect what launched processes left behind; called once per scheduler turn."""
        ...


class EngineLauncher:
    """The engine service drives the runs: wake it (it also finds pending runs by itself
    within its poll interval, so a lost wake-up only delays a run)."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake
        self.launched: list[str] = []

    def launch(self, run_id: str) -> None:
        self.launched.append(run_id)
        self.wake()

    def reap(self) -> None:
        self.launched.clear()


class AutoLauncher:
    """Hand runs to the engine service when one is alive; on a machine without one, drive
    each run in a detached `cube resume` as before (a laptop with only `cube scheduler`)."""

    def __init__(
        self, engine_alive: Callable[[], bool], engine: EngineLauncher, fallback: RunLauncher
    ) -> None:
        self.engine_alive = engine_alive
        self.engine = engine
        self.fallback = fallback

    def launch(self, run_id: str) -> None:
        (self.engine if self.engine_alive() else self.fallback).launch(run_id)

    def reap(self) -> None:
        self.engine.reap()
        self.fallback.reap()


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
