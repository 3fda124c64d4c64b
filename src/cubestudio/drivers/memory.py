"""The in-memory driver: launches nothing. Tests (and dry runs) decide how each attempt ends
with ``finish``; everything else behaves like a real driver to the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cubestudio.engine.launcher import AttemptKey, LaunchRequest, Outcome, Recovery


@dataclass
class MemoryDriver:
    launched: list[LaunchRequest] = field(default_factory=list)
    signals: list[tuple[AttemptKey, int]] = field(default_factory=list)
    notes: list[tuple[AttemptKey, str]] = field(default_factory=list)
    outputs: dict[AttemptKey, dict[str, str]] = field(default_factory=dict)
    # What recover() answers per attempt; NOT_STARTED when not set.
    recoveries: dict[AttemptKey, Recovery] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    forgotten: list[str] = field(default_factory=list)
    failures: dict[AttemptKey, str] = field(default_factory=dict)  # what failure() answers
    root: Path | None = None  # where artifact outputs and inputs live, for tests that use them
    _ended: list[Outcome] = field(default_factory=list)

    def launch(self, request: LaunchRequest) -> None:
        self.launched.append(request)

    def finish(
        self,
        task: str,
        exit_code: int | None = 0,
        outputs: dict[str, str] | None = None,
        run_id: str | None = None,
    ) -> AttemptKey:
        """End the latest launched attempt of ``task`` (of ``run_id``, when given)."""
        key = next(
            r.key
            for r in reversed(self.launched)
            if r.key.task == task and run_id in (None, r.key.run_id)
        )
        if outputs is not None:
            self.outputs[key] = outputs
        self._ended.append(Outcome(key, exit_code))
        return key

    def running(self) -> list[str]:
        ended = {o.key for o in self._ended}
        return [r.key.task for r in self.launched if r.key not in ended]

    def recover(self, key: AttemptKey) -> Recovery:
        return self.recoveries.get(key, Recovery.NOT_STARTED)

    def signal(self, key: AttemptKey, signum: int) -> None:
        self.signals.append((key, signum))

    def poll(self) -> list[Outcome]:
        ended, self._ended = self._ended, []
        return ended

    def wait(self, timeout: float | None) -> None:
        return None

    def add_wakeup_fd(self, fd: int, on_ready: object = None) -> None:
        return None

    def forget(self, run_id: str) -> None:
        """Stop reporting the run's attempts (the engine gave the run up)."""
        self.forgotten.append(run_id)
        self._ended = [o for o in self._ended if o.key.run_id != run_id]

    def read_outputs(self, key: AttemptKey, names: list[str]) -> tuple[dict[str, str], str]:
        values = self.outputs.get(key, {})
        for name in names:
            if name not in values:
                return (
                    {},
                    f"declared output '{name}' was not written: write it to $CUBE_OUTPUTS/{name}",
                )
        return {name: values[name] for name in names}, ""

    def note(self, key: AttemptKey, line: str) -> None:
        self.notes.append((key, line))

    def failure(self, key: AttemptKey) -> str | None:
        return self.failures.get(key)

    def save_secrets(self, run_id: str, values: dict[str, str]) -> None:
        self.secrets[run_id] = dict(values)

    def load_secrets(self, run_id: str) -> dict[str, str]:
        return dict(self.secrets.get(run_id, {}))

    def output_path(self, key: AttemptKey, name: str) -> Path:
        return self._folder(key) / "outputs" / name

    def input_path(self, key: AttemptKey, name: str) -> Path:
        path = self._folder(key) / "inputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _folder(self, key: AttemptKey) -> Path:
        if self.root is None:
            raise RuntimeError("give MemoryDriver a root folder for tasks with artifacts")
        return self.root / key.run_id / key.task / str(key.number)
