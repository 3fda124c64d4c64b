"""The time index of an attempt's log: ``log.index`` beside ``log``.

Text lines ``"<unix seconds> <bytes>\\n"``, appended by the engine about once a second while
the log grows, each saying "by this time the log was this many bytes long". Both columns only
grow. The last line may be torn by a concurrent append: a line without its newline is ignored.
The index is small (one line a second at most), so it is scanned, not searched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

INDEX_FILE = "log.index"


class Mark(NamedTuple):
    when: float  # unix seconds
    size: int  # the log's length in bytes at that time


def append_index(folder: Path, when: float, size: int) -> None:
    """Record that at ``when`` the attempt's log in ``folder`` was ``size`` bytes long.

    One write(2) of one whole line on an O_APPEND descriptor, so readers never see two
    lines interleaved, only (at worst) the last one still incomplete.
    """
    fd = os.open(folder / INDEX_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{when:.3f} {size}\n".encode())
    finally:
        os.close(fd)


def has_index(folder: Path) -> bool:
    return (folder / INDEX_FILE).is_file()


def read_marks(folder: Path) -> Iterator[Mark]:
    """The index's marks in order, streamed; nothing when there is no index."""
    try:
        handle = open(folder / INDEX_FILE, "rb")
    except FileNotFoundError:
        return
    with handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # torn: the engine is appending it right now
            fields = raw.split()
            try:
                yield Mark(float(fields[0]), int(fields[1]))
            except (ValueError, IndexError):
                continue  # a damaged line costs precision, not the whole index


def offset_since(folder: Path, cutoff: float) -> int:
    """The first byte that may have been written at or after ``cutoff``.

    That is the size at the last mark before the cutoff: what follows it was written after
    that mark, so this errs by at most one index interval towards showing more.
    """
    offset = 0
    for mark in read_marks(folder):
        if mark.when >= cutoff:
            break
        offset = mark.size
    return offset
