"""Finding where the last N lines of a log begin by reading backwards from its end, the way
``tail -n`` does: the cost depends on N and on the lines' length, never on the file's size."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cubestudio.logs.reader import MAX_LINE

TAIL_BLOCK = 64 * 1024  # small reads: `--tail 100` touches one or two of them

# How many lines a run of whole lines contributes: all of them, or those a filter selects.
Counter = Callable[[bytes], int]


def count_all(block: bytes) -> int:
    return block.count(b"\n")


@dataclass(frozen=True, slots=True)
class TailStart:
    """Read forward from ``offset`` (a line start) and drop the first ``skip`` counted lines:
    what remains is exactly the last N."""

    offset: int
    skip: int = 0


def tail_start(
    path: Path,
    lines: int,
    *,
    lower: int = 0,
    count: Counter = count_all,
    block: int = TAIL_BLOCK,
    max_line: int = MAX_LINE,
) -> TailStart:
    """Where the last ``lines`` counted lines of the log at or after byte ``lower`` begin.

    A last line that has no newline yet counts as a line, as it does for ``tail``.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return TailStart(lower)
    try:
        end = os.fstat(fd).st_size
        needed = lines
        while end > lower:
            start, region = _lines_before(fd, lower, end, block, max_line)
            if not region.endswith(b"\n"):
                region += b"\n"  # only the last region can end inside a line
            found = count(region)
            if found >= needed:
                return TailStart(start, found - needed)
            needed -= found
            end = start
        return TailStart(lower)
    finally:
        os.close(fd)


def _lines_before(fd: int, lower: int, end: int, block: int, max_line: int) -> tuple[int, bytes]:
    """The whole lines that end at ``end``: (start, file[start:end]), ``start`` a line start.

    Reads one block back, and more while no line starts inside what was read; a line longer
    than ``max_line`` is cut where the reading stopped, to keep memory bounded.
    """
    start, data = end, b""
    while start > lower:
        step = min(block, start - lower)
        start -= step
        data = os.pread(fd, step, start) + data
        if start == lower:
            break
        # A newline before the last byte means a line starts inside the data.
        newline = data.find(b"\n", 0, len(data) - 1)
        if newline >= 0:
            return start + newline + 1, data[newline + 1 :]
        if len(data) >= max_line:
            break
    return start, data
