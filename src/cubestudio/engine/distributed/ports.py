"""Where a plan's ports come from: one small interface, a local source of free ports, and a
deterministic source for tests (and for drivers whose members each have their own address,
where fixed ports do)."""

from __future__ import annotations

import random
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Protocol


class PortSource(Protocol):
    def take(self, count: int) -> list[int]:
        """``count`` distinct TCP ports, free to listen on when the members start."""
        ...


# Ports below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by default) and
# above Ray's worker ports (10002-19999): a port bind(0) hands out is in the ephemeral range,
# which every program that binds port 0 draws from (Ray's raylets and agents, gRPC servers,
# every outgoing connection), so another member could take it before its own member binds
# it. Below that range only someone who asks for that very port gets it.
FIRST_PORT = 20000


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports free on ``host`` now, picked at random between FIRST_PORT and
    the ephemeral range, each checked by binding it (all held until every one is known). A
    port may still be taken before the member starts: a member that cannot bind fails like
    any other (the failure policy acts, and a restart plans fresh ports)."""
    low, high = FIRST_PORT, _ephemeral_start() - 1
    if high - low < count * 4:  # a machine whose ephemeral range starts low
        return _kernel_ports(count, host)
    rng = random.SystemRandom()
    with ExitStack() as stack:
        ports: list[int] = []
        for port in rng.sample(range(low, high + 1), min(high - low + 1, count * 50)):
            if len(ports) == count:
                break
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind((host, port))
            except OSError:
                continue
            ports.append(port)
    return ports if len(ports) == count else _kernel_ports(count, host)


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as file:
            return int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _kernel_ports(count: int, host: str) -> list[int]:
    """Ports the kernel hands out for bind(port 0), all held until every one is known."""
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
