"""`--grep`: a block searched at once selects exactly the lines `re.search` would."""

from __future__ import annotations

import re

import pytest

from cubestudio.logs.grep import LineFilter, SearchTooSlow

BLOCK = (
    "epoch 1 loss=0.9\nepoch 1 acc=0.5\n\nepoch 2 loss=0.4\n损失 loss=0.3 完成\ndone\n"
).encode()

PATTERNS = [
    "loss",
    r"loss=0\.[0-4]",
    "^epoch",
    "done$",
    "^$",
    "",
    r"acc=0\.5\s+epoch",  # would run into the next line in the block: must not select
    r"0\.9(?=\n)",  # a lookahead that sees the newline only in the block
    r"(?<=\n)epoch",  # a lookbehind that sees the previous line only in the block
    r"epoch(?!\s2)",  # negative: matched line by line
    r"\Aepoch 2",
    r"\w+ loss",  # \w is Unicode: the Chinese word counts
    "(?i)DONE",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_select_agrees_with_re_search_on_each_line(pattern: str) -> None:
    lines = BLOCK.decode().split("\n")[:-1]
    expected = "".join(line + "\n" for line in lines if re.search(pattern, line)).encode()
    assert LineFilter(pattern).select(BLOCK) == expected


def test_count_and_an_empty_block() -> None:
    assert LineFilter("loss").count(BLOCK) == 3
    assert LineFilter("loss").select(b"") == b""


def test_bytes_that_are_not_utf8_pass_through_unchanged() -> None:
    block = b"bad \xff\xfe byte loss\nok\n"
    assert LineFilter("loss").select(block) == b"bad \xff\xfe byte loss\n"


def test_a_bad_pattern_says_why() -> None:
    with pytest.raises(ValueError, match=r"'x\(' is not a valid regular expression: missing \)"):
        LineFilter("x(")


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_filter_with_a_time_budget_selects_the_same_lines(pattern: str) -> None:
    assert LineFilter(pattern, budget=5).select(BLOCK) == LineFilter(pattern).select(BLOCK)


def test_a_pattern_that_backtracks_without_end_is_stopped_by_the_budget() -> None:
    block = ("a" * 40 + "b\n").encode()
    grep = LineFilter("(a|a)+$", budget=0.2)
    with pytest.raises(SearchTooSlow, match=r"took more than 0.2 s.*literal"):
        grep.select(block)
    # the budget is spent for good, until a follower counts it again for its next block
    with pytest.raises(SearchTooSlow):
        grep.select(b"short\n")
    grep.fresh_budget()
    assert grep.select(b"short\n") == b""
