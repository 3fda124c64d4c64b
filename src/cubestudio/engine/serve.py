"""The engine service's process loop: sleep until an attempt ends, a timer is due, a wake-up
arrives or a signal does, then turn. SIGTERM/SIGINT end it gracefully (leases released, tasks
left running for a peer to adopt); SIGUSR1 is a wake-up."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import Protocol

from cubestudio.engine.service import EngineService


class _Driver(Protocol):
    def wait(self, timeout: float | None) -> None: ...

    def add_wakeup_fd(self, fd: int, on_ready: Callable[[], None] | None = None) -> None: ...


def serve(
    service: EngineService,
    driver: _Driver,
    *,
    clock: Callable[[], datetime],
    wakeups: list[tuple[int, Callable[[], None] | None]],
) -> None:
    """Run until SIGTERM or SIGINT; ``wakeups``: fds that wake the service (with how to
    read each)."""
    stopping: list[int] = []
    read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    driver.add_wakeup_fd(read_fd)
    for fd, reader in wakeups:
        driver.add_wakeup_fd(fd, _waking(service, fd, reader))

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    def _wake(_signum: int, _frame: FrameType | None) -> None:
        service.wake()

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, _stop),
        signal.SIGINT: signal.signal(signal.SIGINT, _stop),
        signal.SIGUSR1: signal.signal(signal.SIGUSR1, _wake),
    }
    old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    try:
        service.register(clock())
        while not stopping:
            service.turn(clock())
            if stopping:
                break
            driver.wait(service.seconds_until_next(clock()))
        service.turn(clock())  # finish what the last wait brought, then let go
        service.shutdown(clock())
    finally:
        signal.set_wakeup_fd(old_wakeup)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_fd)


def _waking(
    service: EngineService, fd: int, reader: Callable[[], None] | None
) -> Callable[[], None]:
    """Read what woke us (``reader``, or drain the fd), then wake the service."""

    def ready() -> None:
        if reader is not None:
            reader()
        else:
            try:
                while os.read(fd, 512):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
        service.wake()

    return ready
