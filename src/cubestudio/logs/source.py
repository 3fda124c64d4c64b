"""One attempt's log turned into output: read forward, masked, filtered, prefixed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cubestudio.logs.grep import LineFilter
from cubestudio.logs.mask import Masker
from cubestudio.logs.reader import BLOCK, MAX_LINE, LineReader, normalize
from cubestudio.logs.tail import Counter, TailStart, count_all, tail_start


class Source:
    """The shown lines of one log file, from a starting point, as the file grows.

    Every block goes through the same steps whatever the mode: mask, then filter, then drop
    the lines a tail start says to skip, then prefix each line with the task's name.
    """

    def __init__(
        self,
        path: Path,
        *,
        masker: Masker,
        grep: LineFilter | None = None,
        prefix: bytes = b"",
        start: TailStart | None = None,
        block: int = BLOCK,
        max_line: int = MAX_LINE,
    ) -> None:
        self.path = path
        self.masker = masker
        self.grep = grep
        self.prefix = prefix
        start = start or TailStart(0)
        self.skip = start.skip  # counted lines still to drop before showing any
        self.reader = LineReader(
            path,
            start.offset,
            block=block,
            max_line=max_line,
            cut=masker.safe_cut,
            lookahead=masker.reach,
        )

    def read(self, limit: int | None = None) -> Iterator[bytes]:
        """Output for the complete lines up to byte ``limit`` of the file (or its end)."""
        for block in self.reader.blocks(limit):
            if shown := self.render(block):
                yield shown

    def finish(self) -> bytes:
        """Output for a last line left without a newline; the file is closed."""
        rest = self.reader.finish()
        return self.render(rest) if rest else b""

    def render(self, block: bytes) -> bytes:
        block = self.masker.mask(block)
        if self.grep is not None:
            block = self.grep.select(block)
        if self.skip and block:
            block = self._drop_skipped(block)
        return add_prefix(block, self.prefix)

    def _drop_skipped(self, block: bytes) -> bytes:
        at = 0
        while self.skip and at < len(block):
            at = block.index(b"\n", at) + 1
            self.skip -= 1
        return block[at:]


def add_prefix(block: bytes, prefix: bytes) -> bytes:
    """``prefix`` before every line of a block of whole lines, in one pass of C code."""
    if not prefix or not block:
        return block
    return prefix + block[:-1].replace(b"\n", b"\n" + prefix) + b"\n"


def counter(masker: Masker, grep: LineFilter | None) -> Counter:
    """How a tail counts lines: as they will be shown, so masked before they are matched."""
    if grep is None:
        return count_all
    return lambda region: grep.count(masker.mask(normalize(region)))


def open_source(
    path: Path,
    *,
    masker: Masker,
    grep: LineFilter | None = None,
    prefix: bytes = b"",
    lower: int = 0,
    tail: int | None = None,
) -> Source:
    """A source from byte ``lower`` (a line start), or from its last ``tail`` lines after it."""
    start = TailStart(lower)
    if tail is not None:
        start = tail_start(path, tail, lower=lower, count=counter(masker, grep))
    return Source(path, masker=masker, grep=grep, prefix=prefix, start=start)
