"""Live progress on stderr while a run goes on, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from cubestudio.cli.output import STATUS_STYLE
from cubestudio.engine.controller import RunController
from cubestudio.engine.states import TASK_TERMINAL, TaskState

_SYMBOL = {
    "succeeded": "✓",
    "failed": "✗",
    "upstream_failed": "⊘",
    "stopped": "■",
    "skipped": "↷",
    "running": "▶",
    "queued": "…",
    "pending": "·",
}
_MAX_ROWS = 25


class Progress:
    """Redraws at most ten times a second; a no-op when stderr is not a TTY."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._live: Live | None = None
        self._last = 0.0

    def __enter__(self) -> Progress:
        if self.enabled:
            console = Console(stderr=True)
            self._live = Live(Text("starting…"), console=console, transient=True)
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)

    def update(self, controller: RunController) -> None:
        if self._live is None:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and not controller.done:
            return
        self._last = now
        self._live.update(render(controller))


def render(controller: RunController) -> Group:
    total = len(controller.nodes)
    finished = sum(controller.counts[s] for s in TASK_TERMINAL)
    head = Text.assemble(
        (controller.spec.name, "bold"),
        f" run {controller.run_id}  {finished}/{total} done  ",
        (controller.status.value, STATUS_STYLE.get(controller.status.value, "")),
    )
    lines = [head]
    if total <= _MAX_ROWS:
        for node in controller.nodes:
            status = node.status.value
            attempt = f"  (attempt {node.attempts})" if node.attempts > 1 else ""
            lines.append(
                Text.assemble(
                    (f"  {_SYMBOL[status]} ", STATUS_STYLE.get(status, "")),
                    f"{node.name:<24}",
                    (status, STATUS_STYLE.get(status, "")),
                    attempt,
                )
            )
    else:
        parts = [f"{controller.counts[s]} {s.value}" for s in TaskState if controller.counts[s]]
        lines.append(Text("  " + ", ".join(parts)))
    return Group(*lines)
