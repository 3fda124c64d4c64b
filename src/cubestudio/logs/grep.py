"""Selecting the lines of a log that match a regular expression, a block at a time.

The pattern is a Python ``re`` pattern matched against each line's text (decoded as UTF-8,
undecodable bytes kept as they are), as ``re.search(pattern, line)`` would. To be fast on a
large log it is searched across a whole block of lines at once, so that only the hits cost
Python code. A hit that the block's context may have made possible (one that runs into the
next line, or one of a pattern with lookarounds, which can see past the line's edges) is
checked against its line alone, so no line is ever selected wrongly.

A filter given a ``budget`` (the server's, where the pattern comes from anyone with access)
matches with the ``regex`` module, which can stop a search, and raises SearchTooSlow once
its searches have taken that many seconds in all: a pattern that backtracks without end
(``(a+)+$``) cannot hold a server thread.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import regex

# A negative assertion or \A / \Z can fail in a block where it would succeed on the line
# alone, hiding a matching line: patterns using one are matched line by line instead. (Only
# these, lookarounds and the newline itself let a match depend on other lines: `^` and `$` are
# MULTILINE, and `\b` sees the newline as a non-word character, as it sees a line's edge.)
_LINE_BY_LINE = ("(?!", "(?<!", "\\A", "\\Z", "(?-")


class SearchTooSlow(Exception):
    """The pattern used up the filter's time budget."""


class LineFilter:
    def __init__(self, pattern: str, *, budget: float | None = None) -> None:
        """Raises ValueError with a readable reason when the pattern is not a valid regex."""
        try:
            # MULTILINE: `^` and `$` mean the start and end of each line of the block.
            if budget is None:
                self.regex: Any = re.compile(pattern, re.MULTILINE)
            else:
                self.regex = regex.compile(pattern, regex.MULTILINE | regex.VERSION0)
        except (re.error, regex.error) as err:
            raise ValueError(f"{pattern!r} is not a valid regular expression: {err}") from None
        self.budget = budget
        self._deadline: float | None = None
        self._search: Callable[..., Any] = self.regex.search if budget is None else self._timed
        self.pattern = pattern
        self._line_by_line = any(token in pattern for token in _LINE_BY_LINE)
        self._looks_around = "(?=" in pattern or "(?<" in pattern

    def fresh_budget(self) -> None:
        """Count the budget again from the next search (a follower, per block it reads)."""
        self._deadline = None

    def _timed(self, text: str, pos: int = 0, endpos: int | None = None) -> Any:
        assert self.budget is not None
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self.budget
        left = self._deadline - now
        try:
            if left <= 0:
                raise TimeoutError
            return self.regex.search(text, pos, endpos, timeout=left)
        except TimeoutError:
            raise SearchTooSlow(
                f"the search for {self.pattern!r} took more than {self.budget:g} s: "
                "simplify the pattern, or search for plain text (literal)"
            ) from None

    def select(self, block: bytes) -> bytes:
        """The lines of ``block`` (whole lines, each ending in a newline) that match."""
        text = block.decode("utf-8", "surrogateescape")
        lines = self._each_line(text) if self._line_by_line else self._by_search(text)
        return "".join(lines).encode("utf-8", "surrogateescape")

    def count(self, block: bytes) -> int:
        return self.select(block).count(b"\n")

    def _by_search(self, text: str) -> list[str]:
        search, before, after = self._search, text.rfind, text.index
        found: list[str] = []
        position, size = 0, len(text)
        while position < size and (match := search(text, position)) is not None:
            hit = match.start()
            if hit >= size:
                break  # an empty match after the last line's newline
            start = before("\n", 0, hit) + 1
            end = after("\n", hit) + 1
            line = text[start:end]
            # A match inside its line, found without lookarounds, holds for the line alone;
            # any other is checked against the line by itself.
            if (match.end() < end and not self._looks_around) or search(line, 0, len(line) - 1):
                found.append(line)
            position = end
        return found

    def _each_line(self, text: str) -> list[str]:
        search = self._search
        return [line + "\n" for line in text.split("\n")[:-1] if search(line)]
