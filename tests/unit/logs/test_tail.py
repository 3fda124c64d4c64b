"""`--tail`: reading backwards gives the same lines as taking the end of the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cubestudio.logs.grep import LineFilter
from cubestudio.logs.mask import Masker
from cubestudio.logs.source import Source, counter, open_source
from cubestudio.logs.tail import TailStart, tail_start

TEXTS = [
    b"",
    b"\n",
    b"one",
    b"one\n",
    b"one\ntwo\nthree\n",
    b"one\ntwo\nthree",
    b"a\n\n\nb\n\n",
    b"short\n" + b"L" * 50 + b"\nafter\n" + b"M" * 40,
    b"crlf 1\r\ncrlf 2\r\ncrlf 3\r\n",
]


def shown(source: Source) -> bytes:
    return b"".join(source.read()) + source.finish()


def expected_tail(text: bytes, n: int, keep: LineFilter | None = None) -> bytes:
    lines = [line + b"\n" for line in text.replace(b"\r\n", b"\n").splitlines()]
    if keep is not None:
        lines = [line for line in lines if keep.select(line)]
    return b"".join(lines[-n:] if n else [])


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("block", [1, 3, 8, 1024])
def test_tail_matches_the_end_of_the_file(tmp_path: Path, text: bytes, block: int) -> None:
    log = tmp_path / "log"
    log.write_bytes(text)
    for n in range(6):
        start = tail_start(log, n, block=block)
        got = shown(Source(log, masker=Masker([]), start=start))
        assert got == expected_tail(text, n), (n, start)


@pytest.mark.parametrize("block", [2, 5, 64])
def test_tail_of_matching_lines(tmp_path: Path, block: int) -> None:
    log = tmp_path / "log"
    text = b"".join(
        b"step %d loss=%d\n" % (i, i) if i % 3 == 0 else b"step %d\n" % i for i in range(40)
    )
    log.write_bytes(text)
    keep = LineFilter("loss")
    for n in (0, 1, 4, 13, 14, 50):
        start = tail_start(log, n, block=block, count=counter(Masker([]), keep))
        got = shown(Source(log, masker=Masker([]), grep=keep, start=start))
        assert got == expected_tail(text, n, keep), n


def test_tail_stops_at_a_lower_bound(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"old 1\nold 2\nnew 1\nnew 2\n")
    assert tail_start(log, 10, lower=12) == TailStart(12, 0)
    source = open_source(log, masker=Masker([]), lower=12, tail=1)
    assert shown(source) == b"new 2\n"


def test_tail_counts_lines_as_they_are_shown_masked(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"token=hunter2\nplain\n")
    masker = Masker(["hunter2"])
    source = open_source(log, masker=masker, grep=LineFilter("hunter"), tail=5)
    assert shown(source) == b""  # the secret is not there to be matched


def test_a_missing_log_has_an_empty_tail(tmp_path: Path) -> None:
    assert tail_start(tmp_path / "log", 5) == TailStart(0, 0)


def test_a_line_longer_than_max_line_bounds_the_backward_read(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"first\n" + b"z" * 100 + b"\n")
    start = tail_start(log, 2, block=8, max_line=32)
    assert 6 < start.offset < 107  # the giant line was cut, not read whole
