"""The engine loop: sleep until a process ends, a timer is due or a signal arrives, then turn.

SIGINT and SIGTERM stop the run (tasks get SIGTERM, then SIGKILL after the grace period);
SIGUSR1 means `cube stop` recorded a stop request in the store.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Protocol

from cubestudio.engine.controller import RunController
from cubestudio.errors import StateError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Waits(Protocol):
    def wait(self, timeout: float | None) -> None: ...

    def add_wakeup_fd(self, fd: int) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def drive(
    controller: RunController,
    launcher: _Waits,
    *,
    clock: Callable[[], datetime] = utcnow,
    on_turn: Callable[[RunController], None] | None = None,
) -> None:
    """Run ``controller`` to the end of its run."""
    with _signals(launcher) as received:
        controller.start(clock())
        while not controller.done:
            if controller.stuck:
                raise StateError(
                    f"run {controller.run_id} cannot make progress (no task runs, none is "
                    "ready, no timer is set); this is a bug: please report it"
                )
            launcher.wait(controller.seconds_until_timer(clock()))
            now = clock()
            while received:
                signum = received.pop()
                if signum == signal.SIGUSR1:
                    controller.check_stop_request(now)
                else:
                    controller.request_stop(now)
            controller.tick(now)
            if on_turn is not None:
                on_turn(controller)


@contextmanager
def _signals(launcher: _Waits) -> Iterator[list[int]]:
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    launcher.add_wakeup_fd(read_fd)

    def _handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, _handler) for sig in (*STOP_SIGNALS, signal.SIGUSR1)}
    old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    try:
        yield received
    finally:
        signal.set_wakeup_fd(old_wakeup)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_fd)
