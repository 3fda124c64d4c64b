"""Identify a process beyond its pid: (pid, start time) defeats pid reuse.

The start time is field 22 of /proc/<pid>/stat, in clock ticks since boot.
"""

from __future__ import annotations

import os


def start_time(pid: int) -> str | None:
    """The process's start time, or None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in () may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def is_alive(pid: int | None, started: str | None) -> bool:
    """True when ``pid`` runs and is the same process that had start time ``started``."""
    return pid is not None and started is not None and start_time(pid) == started


def own_identity() -> tuple[int, str]:
    pid = os.getpid()
    return pid, start_time(pid) or ""
