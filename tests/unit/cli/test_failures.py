"""The failure report and the summary table's reason column, printed to a string."""

from __future__ import annotations

import io

from rich.console import Console

from cubestudio.cli import output
from cubestudio.cli.failures import FailureReport, TaskFailure, _without_note, print_failure_report


def _printed(report: FailureReport) -> str:
    buffer = io.StringIO()
    print_failure_report(report, Console(file=buffer, width=200, highlight=False))
    return buffer.getvalue()


def test_the_engines_closing_note_is_not_repeated_under_the_reason() -> None:
    log = ["a", "b", "[cube] attempt 2 failed: exit code 1"]
    assert _without_note(log, "exit code 1", 5) == ["a", "b"]
    assert _without_note(log, "exit code 2", 2) == ["b", "[cube] attempt 2 failed: exit code 1"]
    assert _without_note([f"l{i}" for i in range(9)], "x", 5) == ["l4", "l5", "l6", "l7", "l8"]


def test_a_report_lists_failures_their_logs_and_the_next_commands() -> None:
    failures = [TaskFailure("a", "exit code 1", ["[red]not markup[/]"]), TaskFailure("b", "x", [])]
    report = FailureReport("r1", "failed", "failed: a, b", {}, failures, more=3)
    assert _printed(report) == (
        "\nwhy it failed:\n"
        "  a: exit code 1\n"
        "    | [red]not markup[/]\n"
        "  b: x\n"
        "    (its log is empty)\n"
        "  and 3 more failed task(s)\n"
        "\nnext:\n"
        "  cube logs r1 a  # the whole log\n"
        "  cube retry r1   # run the failed tasks again, keeping what succeeded\n"
    )


def test_a_run_that_failed_with_no_failed_task_gives_its_own_reason() -> None:
    report = FailureReport("r1", "failed", "the run timed out after 1s", {})
    assert _printed(report).startswith("\nwhy it failed: the run timed out after 1s\n\nnext:\n")
    assert "  cube logs r1  " in _printed(report)
    assert _printed(FailureReport("r1", "succeeded", None, {})) == ""
    assert _printed(FailureReport("r1", "stopped", "stopped", {})) == ""


def test_the_exit_cell_is_empty_when_the_code_is_not_why_the_task_failed() -> None:
    task = {"status": "failed", "exit_code": 0}
    assert output._exit_cell(task) == ""
    assert output._exit_cell({**task, "status": "succeeded"}) == "0"
    assert output._exit_cell({**task, "exit_code": 3}) == "3"
    assert output._exit_cell({**task, "exit_code": None}) == ""
    assert output._short("x" * 100, 10) == "x" * 9 + "…"
    assert output._short("one\ntwo", 10) == "one…"
    assert output._short("", 10) == ""
