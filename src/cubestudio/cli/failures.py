"""Why a run failed, told to a person: each failed task's reason (the message its last attempt
stored: exit code meaning, missing output, timeout, render error), the last lines of its log,
masked like `cube logs`, and the commands that go further. `cube run` and `cube show` print
it under the run's summary; anything that waits for a run can do the same.

Reading only: the store and the attempts' logs, never a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from cubestudio.engine.states import RunState, TaskState
from cubestudio.logs.view import LogRequest, open_logs
from cubestudio.store import runs as store
from cubestudio.store.db import Database

LOG_LINES = 5  # the log lines shown per failed task
MAX_TASKS = 10  # failed tasks shown in full; the rest are counted
LINE_WIDTH = 300  # characters of a log line shown; `cube logs` has the rest


@dataclass(frozen=True)
class TaskFailure:
    task: str
    reason: str
    log: list[str]  # its last lines, masked


@dataclass
class FailureReport:
    run_id: str
    status: str
    message: str | None  # the run's own reason, shown when no task failed (a run timeout)
    reasons: dict[str, str]  # why each task that did not succeed ended so
    failures: list[TaskFailure] = field(default_factory=list)  # only for a failed run
    more: int = 0  # failed tasks past MAX_TASKS


def failure_report(
    db: Database, runs_dir: Path, run_id: str, *, lines: int = LOG_LINES
) -> FailureReport:
    """The reasons of a run's tasks and, for a failed run, its failed tasks' log tails."""
    with db.begin() as conn:
        run = store.get_run(conn, run_id=run_id)
        rows = store.load_task_runs(conn, run_id=run["id"])
    reasons = {
        row["name"]: row["message"]
        for row in rows
        if row["message"] and row["status"] != TaskState.SUCCEEDED.value
    }
    report = FailureReport(run["id"], run["status"], run["message"], reasons)
    if run["status"] != RunState.FAILED.value:
        return report
    failed = [row for row in rows if row["status"] == TaskState.FAILED.value]
    report.more = max(0, len(failed) - MAX_TASKS)
    for row in failed[:MAX_TASKS]:
        reason = row["message"] or _exit_reason(row["exit_code"])
        log = _log_tail(db, runs_dir, run["id"], row["name"], lines) if row["attempts"] else []
        report.failures.append(TaskFailure(row["name"], reason, _without_note(log, reason, lines)))
    return report


def print_outcome(
    db: Database, runs_dir: Path, result: dict[str, Any], pipeline: str | None
) -> None:
    """A run's summary for people (``result`` is the --json contract's object), with each
    task's reason and, when the run failed, why."""
    from cubestudio.cli.output import print_run_summary, stdout_console

    report = failure_report(db, runs_dir, result["run_id"])
    print_run_summary(result, pipeline, reasons=report.reasons)
    print_failure_report(report, stdout_console())


def print_failure_report(report: FailureReport, console: Console) -> None:
    """The report under a run's summary (nothing unless the run failed); plain text, since
    log lines are not rich markup."""
    if report.status != RunState.FAILED.value:
        return
    console.print()
    if not report.failures:
        console.print(Text(f"why it failed: {report.message or 'no task failed'}"))
    else:
        console.print("why it failed:")
    for failure in report.failures:
        console.print(Text(f"  {failure.task}: {failure.reason}"))
        for line in failure.log:
            console.print(Text(f"    | {line}"))
        if not failure.log:
            console.print(Text("    (its log is empty)"))
    if report.more:
        console.print(Text(f"  and {report.more} more failed task(s)"))
    logs = f"cube logs {report.run_id}"
    if report.failures:
        logs += f" {report.failures[0].task}"
    retry = f"cube retry {report.run_id}"
    width = max(len(logs), len(retry))
    console.print("\nnext:")
    console.print(Text(f"  {logs:<{width}}  # the whole log"))
    console.print(Text(f"  {retry:<{width}}  # run the failed tasks again, keeping what succeeded"))


def _log_tail(db: Database, runs_dir: Path, run_id: str, task: str, count: int) -> list[str]:
    # One line more than shown: the engine's own last note repeats the reason (see below).
    request = LogRequest(run_id=run_id, task=task, tail=count + 1)
    data = b"".join(open_logs(db, runs_dir, request).chunks())
    lines = data.decode("utf-8", errors="replace").splitlines()
    return [line if len(line) <= LINE_WIDTH else line[: LINE_WIDTH - 1] + "…" for line in lines]


def _without_note(log: list[str], reason: str, lines: int) -> list[str]:
    """The last lines, less the engine's closing note `[cube] attempt N failed: REASON`,
    which the report already gives as the reason."""
    if log and log[-1].startswith("[cube] attempt ") and log[-1].endswith(f" failed: {reason}"):
        log = log[:-1]
    return log[-lines:]


def _exit_reason(code: int | None) -> str:
    from cubestudio.engine.controller import describe_exit

    return describe_exit(code)
