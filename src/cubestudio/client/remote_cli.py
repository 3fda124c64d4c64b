"""The CLI's commands against a server (`cube --server URL ...`): each takes the server
(``Target``) and the parameters the local command's own definition parsed, and prints what
the local command prints, with the same `--json` objects and exit codes; templates and
schedules have their own modules (remote_templates.py, remote_schedule.py). ``ROUTES``
(remote_routes.py) says which commands have a remote side; the others refuse.

Runs started or restarted here are driven by the server's engine service; this process
follows them (polling the run) to their end, as `cube wait` does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cubestudio.client.api import Client, to_spec
from cubestudio.client.http import ClientError, NotFound, Unauthorized
from cubestudio.client.runs import ENDED, Run, WaitTimeout
from cubestudio.errors import CubeError, NotFoundError, SpecError

if TYPE_CHECKING:
    from cubestudio.cli.failures import FailureReport
    from cubestudio.cli.remote import Target

FOLLOW_POLL = 0.25  # seconds between looks at a run this command follows


@contextmanager
def session(target: Target) -> Iterator[Client]:
    """A client of the target; its refusals in words that say what to do."""
    client = Client(target.url, target.token, project=target.project)
    try:
        yield client
    except Unauthorized as err:
        if target.token is None:
            raise CubeError(
                f"{target.url} needs a token: `cube login {target.url}`, or --token / "
                "CUBE_TOKEN with one from `cube token create`"
            ) from None
        raise CubeError(f"{target.url} refused the token: {err.message}") from None
    except NotFound as err:
        if err.message == f"project {target.project} not found":
            raise CubeError(
                f"{target.url} has no project {target.project} you are a member of: "
                "choose one with --project or CUBE_PROJECT"
            ) from None
        raise
    finally:
        client.close()


def open_run(client: Client, run_id: str) -> Run:
    """The run, or the local CLI's own error for an unknown id."""
    try:
        return client.run(run_id)
    except NotFound as err:
        if not err.message.startswith("run "):
            raise  # the project: session() says which
        raise NotFoundError(f"no run '{run_id}' (see `cube runs` for the run ids)") from None


# -- the commands -------------------------------------------------------------------------


def run(target: Target, file: Any, param: Any = None, json_out: bool = False) -> None:
    from cubestudio.spec.params import parse_assignments

    spec = to_spec(Path(file))
    overrides = parse_assignments(list(param or []))
    with session(target) as client:
        handle = client.submit(spec, overrides)
        follow(handle, json_out=json_out, progress=True)


def submit(target: Target, file: Any, param: Any = None, json_out: bool = False) -> None:
    from cubestudio.cli.output import print_json
    from cubestudio.spec.params import parse_assignments

    spec = to_spec(Path(file))
    overrides = parse_assignments(list(param or []))
    with session(target) as client:
        handle = client.submit(spec, overrides)
    print_json({"run_id": handle.id}) if json_out else typer.echo(handle.id)


def wait(target: Target, run_id: str, json_out: bool = False, timeout: float | None = None) -> None:
    with session(target) as client:
        follow(open_run(client, run_id), json_out=json_out, timeout=timeout)


def show(target: Target, run_id: str, json_out: bool = False) -> None:
    from cubestudio.cli.details import print_outputs, print_run_header
    from cubestudio.cli.failures import print_failure_report
    from cubestudio.cli.output import print_json, print_run_summary, stdout_console

    with session(target) as client:
        handle = open_run(client, run_id)
        details = handle.details(fresh=False)
        if json_out:
            print_json(details)
            return
        report = failure_report(handle, details)
    print_run_header(details)
    print_run_summary(details, details["pipeline"], reasons=report.reasons)
    print_outputs(details)
    print_failure_report(report, stdout_console())


def stop(target: Target, run_id: str, wait: bool = True) -> None:
    from cubestudio.cli.main import wait_stopped

    with session(target) as client:
        handle = open_run(client, run_id)
        if handle.detail["status"] in ENDED or not handle.stop():
            typer.echo(f"run {handle.id} already ended: {handle.status}", err=True)
            return
        typer.echo(f"stop requested for run {handle.id}", err=True)
        if wait:
            wait_stopped(handle.id, lambda: str(handle.status))


def retry(target: Target, run_id: str, json_out: bool = False) -> None:
    with session(target) as client:
        handle = open_run(client, run_id)
        handle.retry()
        follow(handle, json_out=json_out, progress=True)


def rerun(target: Target, run_id: str, from_task: str, json_out: bool = False) -> None:
    with session(target) as client:
        handle = open_run(client, run_id)
        handle.rerun(from_task)
        follow(handle, json_out=json_out, progress=True)


def runs(
    target: Target,
    json_out: bool = False,
    limit: int = 50,
    pipeline: str | None = None,
    all_: bool = False,
) -> None:
    """`cube runs` (the group's callback, called without a subcommand only)."""
    from cubestudio.cli.output import print_json, print_runs

    with session(target) as client:
        items = client.runs(pipeline=pipeline, limit=limit, include_debug=all_)
    print_json(items) if json_out else print_runs(items)


def runs_delete(target: Target, run_ids: list[str], json_out: bool = False) -> None:
    """As `cube runs delete RUN...`: every run is looked up and must have ended before any
    is deleted (the local command's all or none, but for a run that starts meanwhile)."""
    from cubestudio.cli.runs import print_deleted
    from cubestudio.engine.deletion import not_ended

    with session(target) as client:
        found: dict[str, Run] = {}
        for given in run_ids:
            handle = open_run(client, given)
            found.setdefault(handle.id, handle)
        for handle in found.values():
            if handle.detail["status"] not in ENDED:
                raise not_ended(handle.id, handle.detail["status"])
        for run_id in found:
            client.delete_run(run_id)
    print_deleted(list(found), json_out=json_out)


def validate(target: Target, file: Any) -> None:
    """`cube validate` with the server's job templates: `ok`, or one line per problem."""
    try:
        spec = to_spec(Path(file))
        with session(target) as client:
            client.validate(spec)
    except SpecError as err:
        for line in err.errors:
            typer.echo(str(line))
        raise typer.Exit(2) from None
    typer.echo("ok")


def logs(
    target: Target,
    run_id: str,
    task: str | None = None,
    follow: bool = False,
    tail: int | None = None,
    grep: str | None = None,
    attempt: int | None = None,
    since: str | None = None,
    worker: str | None = None,
) -> None:
    if since is not None:
        raise local_only_option("logs --since", target)
    if worker is not None and task is None:
        raise typer.BadParameter(
            "give the TASK too: cube logs RUN TASK --worker 1", param_hint="--worker"
        )
    if follow and task is None:
        raise CubeError("`cube logs -f` on a server follows one task: give the task's name")
    _check_pattern(grep)  # a bad one: the local message, before any request
    with session(target) as client:
        handle = open_run(client, run_id)
        if task is None:
            _all_logs(handle, tail=tail, grep=grep, attempt=attempt)
            return
        info = handle.detail["tasks"].get(task)
        if info is not None and info["attempts"] == 0:
            _never_ran(task, info, follow=follow)
        if follow:
            _write(handle.follow_logs(task, attempt, tail, grep, worker), flush=True)
        else:
            _write(iter([handle.logs(task, attempt, tail, grep, worker)]), flush=False)


# -- following a run ----------------------------------------------------------------------


def follow(
    handle: Run, *, json_out: bool, progress: bool = False, timeout: float | None = None
) -> None:
    """Wait for the run's end, print what `cube run` prints for it, exit 0 or 1."""
    from cubestudio.cli.output import print_json
    from cubestudio.cli.progress import Progress

    try:
        with Progress(enabled=None if progress else False) as shown:
            result = handle.wait(timeout=timeout, poll=FOLLOW_POLL, on_change=_updater(shown))
    except WaitTimeout as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(124) from None
    except KeyboardInterrupt:
        typer.echo(f"\nrun {handle.id} goes on on the server: `cube stop {handle.id}`", err=True)
        raise
    if json_out:
        print_json(result)
    else:
        print_outcome(handle, result)
    raise typer.Exit(0 if result["status"] == "succeeded" else 1)


def _updater(progress: Any) -> Callable[[dict[str, Any]], None]:
    def update(detail: dict[str, Any]) -> None:
        progress.update(Snapshot(detail))

    return update


class Snapshot:
    """A run's detail as the progress display reads a run controller (its name, status,
    and each task's status and attempts)."""

    def __init__(self, detail: dict[str, Any]) -> None:
        from types import SimpleNamespace

        from cubestudio.engine.states import RunState, TaskState

        self.run_id = detail["run_id"]
        self.spec = SimpleNamespace(name=detail["pipeline"])
        self.status = RunState(detail["status"])
        self.done = detail["status"] in ENDED
        self.nodes = [
            SimpleNamespace(name=name, status=TaskState(t["status"]), attempts=t["attempts"])
            for name, t in detail["tasks"].items()
        ]
        self.counts = dict.fromkeys(TaskState, 0)
        for node in self.nodes:
            self.counts[node.status] += 1


def print_outcome(handle: Run, result: dict[str, Any]) -> None:
    """The summary table with each task's reason and, for a failed run, why."""
    from cubestudio.cli.failures import print_failure_report
    from cubestudio.cli.output import print_run_summary, stdout_console

    report = failure_report(handle, handle.detail)
    print_run_summary(result, handle.detail["pipeline"], reasons=report.reasons)
    print_failure_report(report, stdout_console())


def failure_report(handle: Run, detail: dict[str, Any]) -> FailureReport:
    """cli/failures.py's report from the server's run detail and the failed tasks' logs."""
    from cubestudio.cli.failures import LOG_LINES, MAX_TASKS, FailureReport, TaskFailure
    from cubestudio.engine.controller import describe_exit

    tasks = detail["tasks"]
    reasons = {
        name: t["message"]
        for name, t in tasks.items()
        if t["message"] and t["status"] != "succeeded"
    }
    report = FailureReport(detail["run_id"], detail["status"], detail["message"], reasons)
    if detail["status"] != "failed":
        return report
    failed = [name for name, t in tasks.items() if t["status"] == "failed"]
    report.more = max(0, len(failed) - MAX_TASKS)
    for name in failed[:MAX_TASKS]:
        reason = tasks[name]["message"] or describe_exit(tasks[name]["exit_code"])
        log = _log_tail(handle, name, LOG_LINES + 1) if tasks[name]["attempts"] else []
        report.failures.append(TaskFailure(name, reason, _without_note(log, reason, LOG_LINES)))
    return report


def _log_tail(handle: Run, task: str, count: int) -> list[str]:
    from cubestudio.cli.failures import LINE_WIDTH

    try:
        lines = handle.logs(task, tail=count).splitlines()
    except ClientError:
        return []  # the report goes on without the lines
    return [line if len(line) <= LINE_WIDTH else line[: LINE_WIDTH - 1] + "…" for line in lines]


def _without_note(log: list[str], reason: str, lines: int) -> list[str]:
    """Less the engine's closing note, which repeats the reason (as cli/failures.py)."""
    if log and log[-1].startswith("[cube] attempt ") and log[-1].endswith(f" failed: {reason}"):
        log = log[:-1]
    return log[-lines:]


# -- logs -----------------------------------------------------------------------------------


def _all_logs(handle: Run, *, tail: int | None, grep: str | None, attempt: int | None) -> None:
    """Every task's log, task by task in the pipeline's order, each line prefixed."""
    tasks = handle.detail["tasks"]
    shown = [n for n, t in tasks.items() if t["attempts"] >= (attempt or 1)]
    if attempt is not None and not shown:
        raise NotFoundError(f"no task of run {handle.id} has an attempt {attempt}")
    width = max((len(name) for name in tasks), default=0)

    def chunks() -> Iterator[str]:
        for name in shown:
            text = handle.logs(name, attempt, tail, search=grep)
            yield "".join(f"{name:<{width}} | {line}" for line in text.splitlines(keepends=True))

    _write(chunks(), flush=False)


def _check_pattern(grep: str | None) -> None:
    from cubestudio.logs.grep import LineFilter

    if grep is not None:
        try:
            LineFilter(grep)
        except ValueError as err:
            raise CubeError(f"--grep: {err}") from None


def _never_ran(task: str, info: dict[str, Any], *, follow: bool) -> None:
    """As the local `cube logs`: exit 1 for a task without an attempt, saying why; a
    follower of a task yet to start waits for it."""
    from cubestudio.cli.logs import no_log

    no_log(task, info["status"], info.get("message"), follow=follow)


def _write(chunks: Iterator[str], *, flush: bool) -> None:
    out = sys.stdout
    try:
        for chunk in chunks:
            out.write(chunk)
            if flush:
                out.flush()
        out.flush()
    except BrokenPipeError:  # `cube logs ... | head`: as the local command does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def local_only_option(what: str, target: Target) -> CubeError:
    from cubestudio.cli.remote import local_only

    return local_only(what, target)
