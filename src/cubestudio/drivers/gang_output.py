"""What the gang supervisor writes. Chiefly each member's output: its pipe, read in bytes (a
member may print anything), goes raw to the member's own log and, line by line with the
member's name as prefix, to the supervisor's stdout: the attempt's log (``[worker-1] loss=0.3``),
which a user follows live. Lines are written whole, so members never interleave mid-line."""

from __future__ import annotations

import os

READ_BYTES = 64 * 1024
# A "line" longer than this without a newline is passed on in pieces: a member that prints
# without newlines (a progress bar on \r) must not grow the supervisor's memory.
MAX_LINE_BYTES = 64 * 1024
FILE_MODE = 0o600  # a member's log may hold a secret, as the attempt's log may
STDOUT = 1  # the attempt's log: written unbuffered, as the lines come


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_line(path: str, text: str) -> None:
    """A file of one short line, in one write: a reader sees the whole line or none of it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        write_all(fd, f"{text}\n".encode())
    finally:
        os.close(fd)


def say(text: str) -> None:
    """A line of the supervisor's own in the attempt's log."""
    write_all(STDOUT, f"[cube] {text}\n".encode())


class MemberOutput:
    """A member's pipe (non-blocking) and where its bytes go: ``log_path`` and ``sink_fd``."""

    def __init__(self, name: str, pipe_fd: int, log_path: str, sink_fd: int) -> None:
        self.pipe_fd = pipe_fd
        self.sink_fd = sink_fd
        self.prefix = f"[{name}] ".encode()
        self.log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        self.pending = b""  # the start of a line whose newline has not come yet
        self.closed = False
        os.set_blocking(pipe_fd, False)

    def pump(self, *, until_empty: bool = False) -> bool:
        """Read what the pipe holds: one read (a chatty member must not starve the others),
        or, ``until_empty``, everything there is now (a member that ended left it there).
        True at end of file: the caller then closes."""
        while True:
            try:
                chunk = os.read(self.pipe_fd, READ_BYTES)
            except BlockingIOError:
                return False
            if not chunk:
                return True
            self._take(chunk)
            if not until_empty:
                return False

    def _take(self, chunk: bytes) -> None:
        write_all(self.log_fd, chunk)
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        while len(self.pending) > MAX_LINE_BYTES:
            lines.append(self.pending[:MAX_LINE_BYTES])
            self.pending = self.pending[MAX_LINE_BYTES:]
        if lines:
            write_all(self.sink_fd, b"".join(self.prefix + line + b"\n" for line in lines))

    def close(self) -> None:
        """Pass on a last line that had no newline, and close the pipe and the log."""
        if self.closed:
            return
        self.closed = True
        if self.pending:
            write_all(self.sink_fd, self.prefix + self.pending + b"\n")
            self.pending = b""
        os.close(self.pipe_fd)
        os.close(self.log_fd)
