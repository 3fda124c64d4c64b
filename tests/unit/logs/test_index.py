"""The time index: appended by the engine, scanned for `--since` and the merge."""

from __future__ import annotations

from pathlib import Path

from cubestudio.logs import append_index
from cubestudio.logs.index import INDEX_FILE, Mark, has_index, offset_since, read_marks


def test_append_then_read(tmp_path: Path) -> None:
    assert not has_index(tmp_path)
    assert list(read_marks(tmp_path)) == []
    append_index(tmp_path, 100.25, 10)
    append_index(tmp_path, 101.5, 30)
    assert has_index(tmp_path)
    assert list(read_marks(tmp_path)) == [Mark(100.25, 10), Mark(101.5, 30)]


def test_a_torn_last_line_and_a_damaged_line_are_skipped(tmp_path: Path) -> None:
    (tmp_path / INDEX_FILE).write_text("100 10\ngarbage\n101 20\n102 3")
    assert list(read_marks(tmp_path)) == [Mark(100, 10), Mark(101, 20)]


def test_offset_since_is_the_size_at_the_last_mark_before_the_cutoff(tmp_path: Path) -> None:
    for when, size in [(100, 10), (101, 25), (102, 40)]:
        append_index(tmp_path, when, size)
    assert offset_since(tmp_path, 50) == 0  # before the first mark: everything
    assert offset_since(tmp_path, 100) == 0  # at a mark: what it covers may be that new
    assert offset_since(tmp_path, 100.5) == 10
    assert offset_since(tmp_path, 101.9) == 25
    assert offset_since(tmp_path, 500) == 40
