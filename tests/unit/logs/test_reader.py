"""Reading forward in blocks: whole lines only, whatever the block size and line length."""

from __future__ import annotations

from pathlib import Path

from cubestudio.logs.reader import LineReader, line_start_at_or_after


def read_all(reader: LineReader, limit: int | None = None) -> bytes:
    return b"".join(reader.blocks(limit))


def test_missing_and_empty_files_give_nothing(tmp_path: Path) -> None:
    assert read_all(LineReader(tmp_path / "log")) == b""
    (tmp_path / "log").write_bytes(b"")
    reader = LineReader(tmp_path / "log")
    assert read_all(reader) == b""
    assert reader.finish() == b""


def test_a_last_line_without_newline_waits_for_finish(tmp_path: Path) -> None:
    (tmp_path / "log").write_bytes(b"one\ntwo")
    reader = LineReader(tmp_path / "log", block=2)
    assert read_all(reader) == b"one\n"
    assert reader.finish() == b"two\n"


def test_lines_longer_than_the_block_come_whole(tmp_path: Path) -> None:
    text = b"short\n" + b"x" * 100 + b"\nend\n"
    (tmp_path / "log").write_bytes(text)
    blocks = list(LineReader(tmp_path / "log", block=7).blocks())
    assert b"".join(blocks) == text
    assert all(block.endswith(b"\n") for block in blocks)


def test_a_line_longer_than_max_line_is_shown_in_pieces(tmp_path: Path) -> None:
    (tmp_path / "log").write_bytes(b"y" * 25 + b"\n")
    reader = LineReader(tmp_path / "log", block=4, max_line=10)
    pieces = read_all(reader).splitlines()
    assert b"".join(pieces) == b"y" * 25
    assert max(len(piece) for piece in pieces) <= 10


def test_crlf_endings_become_lf_even_across_blocks(tmp_path: Path) -> None:
    (tmp_path / "log").write_bytes(b"a\r\nbb\r\ncc\r")
    reader = LineReader(tmp_path / "log", block=3)
    assert read_all(reader) == b"a\nbb\n"
    assert reader.finish() == b"cc\n"


def test_reading_goes_on_as_the_file_grows_and_stops_at_a_limit(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"1\n2")
    reader = LineReader(log, start=2)
    assert read_all(reader) == b""  # "2" has no newline yet
    with log.open("ab") as handle:
        handle.write(b"\n3\n4\n")
    assert read_all(reader, limit=6) == b"2\n3\n"
    assert read_all(reader) == b"4\n"
    reader.close()


def test_line_start_at_or_after(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"ab\ncd\nef")
    starts = [line_start_at_or_after(log, offset, block=2) for offset in range(9)]
    assert starts == [0, 3, 3, 3, 6, 6, 6, 8, 8]
    assert line_start_at_or_after(tmp_path / "missing", 5) == 0
