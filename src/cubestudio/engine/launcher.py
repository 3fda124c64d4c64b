"""What the engine needs from a driver (where an attempt runs): launch it, learn how it
ended, signal it, and find it again after the engine restarted.

The local driver implements this with processes; the Kubernetes backend will with pods.
``FakeLauncher`` in tests is the in-memory version, driven by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, Protocol


class AttemptKey(NamedTuple):
    run_id: str
    task: str
    number: int


@dataclass(frozen=True, slots=True)
class LaunchRequest:
    key: AttemptKey
    command: str  # rendered shell command
    env: dict[str, str] = field(default_factory=dict)  # pipeline + task env, rendered
    workdir: str | None = None  # absolute folder to run in; None: the attempt's own fresh one
    # A distributed task's gang: {"plan": LaunchPlan.to_data(), "kill_grace": seconds}; the
    # driver starts every member of the plan as one attempt (engine/distributed).
    gang: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt ended. ``exit_code`` None: it vanished without recording one (killed
    with its process group, or lost with the machine)."""

    key: AttemptKey
    exit_code: int | None


class Recovery(StrEnum):
    NOT_STARTED = "not_started"  # never began: launch it (the driver launches exactly once)
    ADOPTED = "adopted"  # still running: the driver watches it and reports its Outcome
    FINISHED = "finished"  # ended while no engine watched: its Outcome comes with poll()
    LOST = "lost"  # began, but neither runs nor left an exit status


class Launcher(Protocol):
    def launch(self, request: LaunchRequest) -> None: ...

    def recover(self, key: AttemptKey) -> Recovery: ...

    def signal(self, key: AttemptKey, signum: int) -> None: ...

    def poll(self) -> list[Outcome]:
        """Outcomes of attempts that ended since the last call; never blocks."""
        ...

    def wait(self, timeout: float | None) -> None:
        """Block until an attempt may have ended, a wakeup fd fired, or ``timeout`` passed."""
        ...

    def read_outputs(self, key: AttemptKey, names: list[str]) -> tuple[dict[str, str], str]:
        """Declared output values, and an error message ('' when all were written)."""
        ...

    def note(self, key: AttemptKey, line: str) -> None:
        """Append a line from the platform to the attempt's log."""
        ...

    def failure(self, key: AttemptKey) -> str | None:
        """Which member of a distributed attempt failed first, as a sentence ("worker-0
        exited with code 3"); None for a single-process attempt."""
        ...

    def save_secrets(self, run_id: str, values: dict[str, str]) -> None:
        """Keep the run's secret env values where only this user can read them: for tasks
        launched after a restart, and for masking logs."""
        ...

    def load_secrets(self, run_id: str) -> dict[str, str]: ...

    def output_path(self, key: AttemptKey, name: str) -> Path:
        """Where the attempt wrote its output ``name`` ($CUBE_OUTPUTS/<name>)."""
        ...

    def input_path(self, key: AttemptKey, name: str) -> Path:
        """Where the attempt will read its input ``name`` ($CUBE_INPUTS/<name>): the parent
        folder exists and the path itself does not."""
        ...
