"""The CLI's commands against a server (`cube --server URL ...`): each takes the server
(``Target``) and the parameters the local command's own definition parsed, and prints what
the local command prints, with the same `--json` objects and exit codes. ``ROUTES`` says
which commands have a remote side (cli/remote.py points them here); the others refuse.

Runs started or restarted here are driven by the server's engine service; this process
follows them (polling the run) to their end, as `cube wait` does.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cubestudio.client.api import Client, to_spec
from cubestudio.client.http import ClientError, NotFound, Unauthorized
from cubestudio.client.runs import ENDED, Run, WaitTimeout
from cubestudio.errors import CubeError, FieldError, NotFoundError, SpecError
from cubestudio.spec.template import TemplateSpec

if TYPE_CHECKING:
    from cubestudio.cli.failures import FailureReport
    from cubestudio.cli.remote import Target
    from cubestudio.spec.model import PipelineSpec

FOLLOW_POLL = 0.25  # seconds between looks at a run this command follows
BACKFILL_POLL = 0.5  # seconds between two steps of a backfill this command follows


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


def template_list(target: Target, json_out: bool = False) -> None:
    from cubestudio.cli.output import print_json, print_table

    with session(target) as client:
        items = client.templates()
    if json_out:
        print_json(items)
        return
    rows = [[i["name"], str(i["version"]), i["category"], i["description"]] for i in items]
    print_table(["template", "version", "category", "description"], rows)


def template_show(target: Target, ref: str) -> None:
    """As `cube template show REF`: the template (a version of it with name@N) as YAML."""
    from cubestudio.cli.templates import to_yaml

    typer.echo(to_yaml(_template(target, ref)), nl=False)


def template_export(target: Target, ref: str) -> None:
    """As `cube template export REF`: the YAML to register elsewhere (no version number)."""
    from cubestudio.cli.templates import to_yaml

    data = {k: v for k, v in _template(target, ref).items() if k != "version"}
    typer.echo(to_yaml(data), nl=False)


def _template(target: Target, ref: str) -> Any:
    from cubestudio.cli.templates import _parse_ref

    name, version = _parse_ref(ref)
    params: dict[str, Any] = {"project": target.project}
    if version is not None:
        params["version"] = version
    with session(target) as client:
        found = client.http.json("GET", f"/templates/{name}", params=params)
    # The same data as the local command's: the template without its defaults.
    return TemplateSpec.model_validate(found["template"]).to_data()


def template_delete(target: Target, ref: str, json_out: bool = False) -> None:
    """As `cube template delete NAME@VERSION`: refused (409, one line) while a run or a
    schedule uses that version."""
    from cubestudio.cli.output import print_json
    from cubestudio.cli.templates import versioned_ref

    name, version = versioned_ref(ref)
    with session(target) as client:
        params = {"version": version}
        client.http.json("DELETE", f"/templates/{name}", params=params)
    if json_out:
        print_json({"name": name, "version": version, "deleted": True})
    else:
        typer.echo(f"deleted {name}@{version}")


def template_register(target: Target, file: Path) -> None:
    """As `cube template register FILE`, in the project on the server (a platform admin's
    registers platform-wide, as the local one does)."""
    from cubestudio.spec.loader import load_template_text

    if not file.is_file():
        raise SpecError([FieldError("", f"no such template file: {file}")])
    template = load_template_text(file.read_text(encoding="utf-8"), source=str(file))
    with session(target) as client:
        admin = client.http.json("GET", "/auth/me")["is_admin"]
        path = "/templates" if admin else client.path("/templates")
        body = template.model_dump(mode="json", exclude_defaults=True, by_alias=True)
        stored = client.http.json("POST", path, json=body)
    ref = f"{stored['name']}@{stored['version']}"
    if stored.get("created", True):
        typer.echo(f"registered {ref}")
    else:
        typer.echo(f"{ref} unchanged: it has the same content")


def schedule_plan(target: Target, **params: Any) -> None:
    """`cube schedule plan` is pure (no store): the same here as locally."""
    from cubestudio.cli.schedule import plan

    plan(**params)


def schedule_list(target: Target, json_out: bool = False, now: str | None = None) -> None:
    """As `cube schedule list`, of the project's schedules on the server (--now is local)."""
    from cubestudio.cli.output import print_json

    if now is not None:
        raise CubeError("--now is for the local store only: the server lists at its own time")
    with session(target) as client:
        items = client.http.json("GET", client.path("/schedules"))
    from cubestudio.cli.schedule import print_schedules

    print_json(items) if json_out else print_schedules(items)


def schedule_pause(target: Target, pipeline: str, now: str | None = None) -> None:
    _schedule_switch(target, pipeline, "disable", "paused", now)


def schedule_unpause(target: Target, pipeline: str, now: str | None = None) -> None:
    _schedule_switch(target, pipeline, "unpause", "unpaused", now)


def _schedule_switch(target: Target, pipeline: str, action: str, said: str, now: Any) -> None:
    from urllib.parse import quote

    if now is not None:
        raise CubeError("--now is for the local store only: the server acts at its own time")
    with session(target) as client:
        path = client.path(f"/pipelines/{quote(pipeline, safe='')}/schedule/{action}")
        client.http.json("POST", path)
    typer.echo(f"schedule of {pipeline} {said}")


def schedule_records(
    target: Target,
    pipeline: str,
    status: str | None = None,
    limit: int = 50,
    json_out: bool = False,
) -> None:
    """As `cube schedule records`, of the pipeline in the project on the server."""
    from cubestudio.cli.schedule import print_records
    from cubestudio.schedule.records import check_status

    check_status(status, field="--status")  # the local message, before any request
    with session(target) as client:
        items = client.schedule_records(pipeline, status=status, limit=limit)
    print_records(items, pipeline, status, json_out)


def schedule_clear(target: Target, pipeline: str, json_out: bool = False) -> None:
    """As `cube schedule clear`: the server deletes the records, runs and their files."""
    from cubestudio.cli.schedule import print_cleared

    with session(target) as client:
        answer = client.clear_schedule(pipeline)
    print_cleared(answer, json_out)


def schedule_apply(
    target: Target,
    file: Path,
    yes: bool = False,
    dry_run: bool = False,
    json_out: bool = False,
    now: str | None = None,
) -> None:
    """As `cube schedule apply FILE`: the file is previewed on the server (nothing stored),
    confirmed as locally, then saved as the pipeline's next version (unless the latest has
    the same content) and that version's schedule applied."""
    from cubestudio.cli.schedule import confirm, print_applied

    if now is not None:
        raise CubeError("--now is for the local store only: the server applies at its own time")
    spec, zone = _scheduled(file)
    with session(target) as client:
        preview = client.preview_apply(spec, dates=dry_run)
        if dry_run:
            _print_preview(preview, zone, json_out)
            return
        confirm(spec.name, preview["runs"], preview["summary"], yes=yes)
        name, version = client.save(spec)
        answer = client.apply_schedule(name, version=version, confirm=True)
    print_applied(answer, zone, json_out)


def backfill(
    target: Target,
    file: Path,
    start: str,
    end: str,
    yes: bool = False,
    dry_run: bool = False,
    json_out: bool = False,
    no_launch: bool = False,
) -> None:
    """As `cube backfill FILE`: previewed and confirmed as locally, the file saved as the
    pipeline's next version (unless unchanged), the range recorded on the server, then
    stepped from here until every run ended (the server's engine service drives them)."""
    from datetime import UTC, datetime

    from cubestudio.cli.schedule import backfill_limits, backfill_recorded, confirm

    if no_launch:
        raise local_only_option("backfill --no-launch", target)
    spec, zone = _scheduled(file)
    backfill_limits(spec, start, end, datetime.now(UTC))  # the local messages for a bad range
    with session(target) as client:
        preview = client.preview_backfill(spec, start=start, end=end, dates=dry_run)
        if dry_run:
            _print_preview(preview, zone, json_out)
            return
        confirm(spec.name, preview["runs"], preview["summary"], yes=yes)
        name, version = client.save(spec)
        first = client.backfill(name, start=start, end=end, version=version, confirm=True)
        backfill_recorded(name, first["ticks"], first["existing"])
        final = _follow_backfill(client, first)
    _backfill_over(first, final, json_out)


def _follow_backfill(client: Client, state: dict[str, Any]) -> dict[str, Any]:
    """Step the backfill until its runs ended or it is stuck; says each run it launched."""
    from cubestudio.cli.schedule import backfill_launched

    name = state["pipeline"]
    where = {"start": state["start"], "end": state["end"], "version": state["version"]}
    while True:
        for run_id in state["launched"]:
            backfill_launched(name, run_id)
        if state["done"] or state["stuck"]:
            return state
        time.sleep(BACKFILL_POLL)
        state = client.backfill_step(name, **where)


def _backfill_over(first: dict[str, Any], final: dict[str, Any], json_out: bool) -> None:
    from cubestudio.cli.output import print_json
    from cubestudio.schedule.reports import stuck

    if json_out:
        keys = ("pipeline", "ticks", "existing")
        print_json({**{k: first[k] for k in keys}, "records": final["records"]})
    if final["stuck"]:
        raise stuck(first["pipeline"], final["waiting"], final["reason"])


def _scheduled(file: Path) -> tuple[PipelineSpec, str]:
    """The file's pipeline, refused as locally when it has no schedule; and its zone."""
    from cubestudio.cli.schedule import load_scheduled

    spec = load_scheduled(Path(file), catalog=None)
    assert spec.schedule is not None
    return spec, spec.schedule.timezone


def _print_preview(preview: dict[str, Any], zone: str, json_out: bool) -> None:
    """--dry-run: the server's preview, printed as the local command prints its own."""
    from cubestudio.cli.schedule import print_new_runs

    answer = {k: v for k, v in preview.items() if k not in ("summary", "timezone")}
    print_new_runs(answer, preview["summary"], zone, json_out)


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
) -> None:
    if since is not None:
        raise local_only_option("logs --since", target)
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
            _write(handle.follow_logs(task, attempt, tail, search=grep), flush=True)
        else:
            _write(iter([handle.logs(task, attempt, tail, search=grep)]), flush=False)


ROUTES: dict[str, Callable[..., None] | dict[str | None, Callable[..., None]]] = {
    "run": run,
    "submit": submit,
    "wait": wait,
    "show": show,
    "stop": stop,
    "retry": retry,
    "rerun": rerun,
    "logs": logs,
    "validate": validate,
    "runs": {None: runs, "delete": runs_delete},
    "schedule": {
        "plan": schedule_plan,
        "list": schedule_list,
        "pause": schedule_pause,
        "unpause": schedule_unpause,
        "apply": schedule_apply,
        "records": schedule_records,
        "clear": schedule_clear,
    },
    "backfill": backfill,
    "template": {
        "list": template_list,
        "show": template_show,
        "export": template_export,
        "register": template_register,
        "delete": template_delete,
    },
}


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
