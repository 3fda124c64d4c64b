"""Reading a log forward in blocks of whole lines, from any byte offset, never the whole file.

A "line" everywhere in this package is its text plus one b"\\n": a CRLF ending becomes LF, a
last line without its newline gets one when the log is finished, and a line longer than
``MAX_LINE`` is shown in pieces so that memory stays bounded whatever the task printed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20  # 1 MiB reads: Python's cost per block vanishes next to the copying
MAX_LINE = 1 << 20  # past this a line (a progress bar without newlines) is cut into pieces

# Where to cut an over-long line at or before a position: the masker moves the cut off a secret.
Cutter = Callable[[bytes, int], int]


def _cut_anywhere(data: bytes, at: int) -> int:
    return at


def normalize(block: bytes) -> bytes:
    """LF endings only: a regex's `$` and the output then behave the same for CRLF logs."""
    # `in` with one byte is a memchr, many times faster than replace's search for two.
    return block.replace(b"\r\n", b"\n") if b"\r" in block else block


class LineReader:
    """One log file read forward from ``start``, following it as it grows.

    ``blocks`` yields runs of complete lines; a line still being written waits in a small
    buffer until its newline arrives, and ``finish`` hands it out once the writer is done.
    """

    def __init__(
        self,
        path: Path,
        start: int = 0,
        *,
        block: int = BLOCK,
        max_line: int = MAX_LINE,
        cut: Cutter = _cut_anywhere,
        lookahead: int = 0,
    ) -> None:
        self.path = path
        self.position = start  # the next byte of the file to read
        self._block = block
        self._max_line = max_line
        self._cut = cut
        self._lookahead = lookahead  # bytes past a cut that ``cut`` needs to see to place it
        self._partial = b""
        self._handle: BinaryIO | None = None

    @property
    def line_end(self) -> int:
        """The byte after the last complete line handed out (an open last line is held
        back): where a reader that stops here resumes without splitting a line."""
        return self.position - len(self._partial)

    def blocks(self, limit: int | None = None) -> Iterator[bytes]:
        """Complete lines from the current position up to byte ``limit`` (or the end)."""
        handle = self._open()
        if handle is None:
            return
        while True:
            size = self._block if limit is None else min(self._block, limit - self.position)
            if size <= 0:
                return
            chunk = handle.read(size)
            if not chunk:
                return
            self.position += len(chunk)
            data = self._partial + chunk
            end = data.rfind(b"\n") + 1
            self._partial = data[end:]
            if end:
                yield normalize(data[:end])
            yield from self._long_line_pieces()

    def finish(self) -> bytes:
        """The last line if it never got its newline; closes the file."""
        rest, self._partial = self._partial, b""
        self.close()
        if not rest:
            return b""
        return normalize(rest).removesuffix(b"\r") + b"\n"

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _long_line_pieces(self) -> Iterator[bytes]:
        while len(self._partial) > self._max_line + self._lookahead:
            at = self._cut(self._partial, self._max_line)
            yield normalize(self._partial[:at]) + b"\n"
            self._partial = self._partial[at:]

    def _open(self) -> BinaryIO | None:
        if self._handle is None:
            try:
                # Unbuffered: each read is one read(2) straight into the bytes we keep, and a
                # read past the end simply returns what the writer has appended since.
                self._handle = open(self.path, "rb", buffering=0)
            except FileNotFoundError:
                return None  # the task has not written anything yet
            self._handle.seek(self.position)
        return self._handle


def line_start_at_or_after(path: Path, offset: int, block: int = BLOCK) -> int:
    """The first line boundary at or after ``offset`` (the end when the last line is open)."""
    if offset <= 0:
        return 0
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0
    try:
        position = offset - 1  # the byte before: a newline there means offset starts a line
        while chunk := os.pread(fd, block, position):
            found = chunk.find(b"\n")
            if found >= 0:
                return position + found + 1
            position += len(chunk)
        return position
    finally:
        os.close(fd)
