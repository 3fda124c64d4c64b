"""A run's logs: which attempts, from where, in which order, masked, and following."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cubestudio.errors import NotFoundError
from cubestudio.logs.grep import LineFilter
from tests.unit.logs.conftest import LoggedRun, epoch

MakeRun = Callable[[str], LoggedRun]
PARALLEL = "name: p\ntasks:\n  - {name: a, command: x}\n  - {name: bbb, command: x}\n"


def test_indexed_logs_merge_in_time_order(make_run: MakeRun) -> None:
    run = make_run(PARALLEL)
    run.write("a", b"a at 1\n", at=1)
    run.write("bbb", b"b at 2\n", at=2)
    run.write("a", b"a at 3\n", at=3)
    run.write("bbb", b"b at 4\nb unindexed tail\n", at=4)
    run.write("a", b"a unindexed tail")  # written after the last mark, no newline
    assert run.shown() == [
        "a   | a at 1",
        "bbb | b at 2",
        "a   | a at 3",
        "bbb | b at 4",
        "bbb | b unindexed tail",
        "a   | a unindexed tail",
    ]


def test_logs_without_an_index_come_first_task_by_task(make_run: MakeRun) -> None:
    run = make_run(PARALLEL)
    run.write("bbb", b"b indexed\n", at=1)
    run.write("a", b"a old 1\na old 2\n")
    assert run.shown() == ["a   | a old 1", "a   | a old 2", "bbb | b indexed"]


def test_since_starts_at_the_first_line_written_in_the_window(make_run: MakeRun) -> None:
    run = make_run(PARALLEL)
    run.write("a", b"early 1\nearly 2\nhalf", at=10)
    run.write("a", b"-line\nlate 1\n", at=20)
    run.write("a", b"late 2\n", at=30)
    assert run.shown(task="a", since=epoch(15)) == ["late 1", "late 2"]
    assert run.shown(task="a", since=epoch(25)) == ["late 2"]
    assert run.shown(task="a", since=epoch(5)) == [
        "early 1",
        "early 2",
        "half-line",
        "late 1",
        "late 2",
    ]


def test_since_without_an_index_uses_the_attempt_times(make_run: MakeRun) -> None:
    run = make_run(PARALLEL)
    run.write("a", b"a line\n")
    run.write("bbb", b"b line\n")
    run.tick(60)
    run.finish("a")  # a finished at T0+60; bbb is still running
    assert run.shown(since=epoch(30)) == ["a   | a line", "bbb | b line"]
    assert run.shown(since=epoch(90)) == ["bbb | b line"]


def test_tail_and_grep_apply_to_each_task(make_run: MakeRun) -> None:
    run = make_run(PARALLEL)
    run.write("a", b"".join(b"a step %d loss=%d\n" % (i, i) for i in range(10)))
    run.write("bbb", b"b one\nb two loss=2\nb three\n")
    grep = LineFilter("loss=[2-9]")
    assert run.shown(tail=2, grep=grep) == [
        "a   | a step 8 loss=8",
        "a   | a step 9 loss=9",
        "bbb | b two loss=2",
    ]
    assert run.shown(task="bbb", tail=1) == ["b three"]


def test_secrets_are_masked_in_every_mode(make_run: MakeRun) -> None:
    run = make_run(PARALLEL)
    run.secrets("hunter2")
    run.write("a", b"password=hunter2\nok\n", at=1)
    assert run.shown() == ["a   | password=******", "a   | ok"]
    assert run.shown(grep=LineFilter("hunter")) == []
    assert run.shown(task="a", tail=2, since=epoch(0)) == ["password=******", "ok"]


def test_an_earlier_attempt_on_request(make_run: MakeRun) -> None:
    run = make_run("name: r\ntasks:\n  - {name: a, command: x, retries: 1}\n")
    run.write("a", b"first try\n")
    run.finish("a", code=1)
    run.tick()
    run.write("a", b"second try\n", attempt=2)
    assert run.shown(task="a") == ["second try"]
    assert run.shown(task="a", attempt=1) == ["first try"]
    with pytest.raises(NotFoundError, match="has 2 attempt\\(s\\); there is no attempt 3"):
        run.open(task="a", attempt=3)


def test_an_unknown_task_suggests_a_close_one(make_run: MakeRun) -> None:
    run = make_run(PARALLEL)
    with pytest.raises(NotFoundError, match="has no task 'bb' \\(did you mean 'bbb'\\?\\)"):
        run.open(task="bb")


def test_following_interleaves_lines_as_they_arrive_until_the_tasks_end(
    make_run: MakeRun,
) -> None:
    run = make_run(
        "name: f\ntasks:\n  - {name: a, command: x, retries: 1}\n  - {name: b, command: x}\n"
    )
    run.secrets("tok3n")
    run.write("a", b"a old\n")
    # Each pause of the follower lets the "tasks" do one more thing: no real time passes.
    steps = iter(
        [
            lambda: run.write("b", b"b 1\n"),
            lambda: run.write("a", b"a 1 tok3n\n"),
            lambda: run.finish("a", code=1),  # a fails: its retry is a second attempt
            lambda: run.tick(),
            lambda: run.write("a", b"a retry\n", attempt=2),
            lambda: run.write("b", b"b 2 without newline"),
            lambda: run.finish("a"),
            lambda: run.finish("b"),
        ]
    )
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds
        next(steps, lambda: None)()

    stream = run.open(follow=True, tail=1, sleep=sleep, clock=lambda: clock[0])
    chunks = list(stream.chunks())
    assert b"".join(chunks).decode().splitlines() == [
        "a | a old",
        "b | b 1",
        "a | a 1 ******",
        "a | a retry",
        "b | b 2 without newline",
    ]
