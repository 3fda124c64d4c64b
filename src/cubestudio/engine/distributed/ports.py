"""Where a plan's ports come from: one small interface, a local source of free ports, and a
deterministic source for tests (and for drivers whose members each have their own address,
where fixed ports do)."""

from __future__ import annotations

import socket
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Protocol


class PortSource(Protocol):
    def take(self, count: int) -> list[int]:
        """``count`` distinct TCP ports, free to listen on when the members start."""
        ...


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports the kernel hands out for ``bind(port 0)`` on ``host``, all held open until every
    one is known so that they differ. A port may be taken again between this call and the
    member's start: the window is short, and a member that cannot bind fails like any other
    (the failure policy then acts, and a restart plans fresh ports)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
    return ports


@dataclass(frozen=True, slots=True)
class LocalPorts:
    """Free ports on this machine (the local driver's source)."""

    host: str = "127.0.0.1"

    def take(self, count: int) -> list[int]:
        return free_ports(count, self.host)


@dataclass(slots=True)
class SequentialPorts:
    """start, start+1, ... across calls: deterministic plans in tests."""

    start: int = 20000

    def take(self, count: int) -> list[int]:
        ports = list(range(self.start, self.start + count))
        self.start += count
        return ports
