"""Scheduling commands: `cube scheduler`, `cube schedule ...` and `cube backfill`.

`cube schedule plan` is pure: it reads the file and prints, with no store and no CUBE_HOME.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cubestudio.errors import FieldError, SpecError, StateError

if TYPE_CHECKING:
    from cubestudio.cli.setup import LazyCatalog
    from cubestudio.schedule.launch import RunLauncher
    from cubestudio.spec.model import PipelineSpec

FileArg = Annotated[Path, typer.Argument(help="A pipeline file with a `schedule:` block.")]
PipelineArg = Annotated[str, typer.Argument(help="The pipeline's name.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
YesFlag = Annotated[
    bool, typer.Option("--yes", "-y", help="Create the runs without asking (for scripts).")
]
DryRunFlag = Annotated[
    bool, typer.Option("--dry-run", help="List the runs it would create; store nothing.")
]
# Injected time for tests and demos (naive means UTC); hidden from --help.
NowOption = Annotated[str | None, typer.Option("--now", hidden=True)]

schedule_app = typer.Typer(
    no_args_is_help=True, help="Plan, register and inspect cron schedules (see README)."
)


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
    app.command()(scheduler)
    app.command()(backfill)


@schedule_app.command()
def plan(
    file: FileArg,
    now: Annotated[
        str | None, typer.Option(help="Plan as if it were this time (ISO 8601; naive is UTC).")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """What a pipeline seen for the first time at --now would run; nothing is stored.

    Prints the due ticks (oldest first) and the next one."""
    from cubestudio.cli.output import print_json
    from cubestudio.schedule.plan import plan_first_sight

    spec = load_scheduled(file, catalog=None)
    assert spec.schedule is not None
    result = plan_first_sight(spec.schedule, now=_instant("--now", now))
    if json_out:
        print_json(result.to_json())
        return
    zone = spec.schedule.timezone
    typer.echo(f"due: {len(result.due)}")
    for tick in result.due:
        typer.echo(f"  {_both(tick, zone)}")
    typer.echo(f"next: {_both(result.next, zone) if result.next else 'never'}")


@schedule_app.command()
def apply(
    file: FileArg,
    yes: YesFlag = False,
    dry_run: DryRunFlag = False,
    json_out: JsonFlag = False,
    now: NowOption = None,
) -> None:
    """Register or update a pipeline's schedule; `cube scheduler` then runs it.

    Says how many runs that creates (catchup: every tick since start) and asks above 20.
    Changing the cron, time zone or catchup resets start to now (unless start changed too)."""
    from cubestudio.cli.setup import LazyCatalog, open_db
    from cubestudio.engine.lifecycle import current_user
    from cubestudio.schedule import reports
    from cubestudio.schedule.registry import apply_schedule, preview_apply
    from cubestudio.spec.validate import resolve_templates

    catalog = LazyCatalog()
    spec = load_scheduled(file, catalog=catalog)
    assert spec.schedule is not None
    templates = resolve_templates(spec, catalog)
    zone, moment, db = spec.schedule.timezone, _instant("--now", now), open_db()
    preview = preview_apply(db, spec=spec, now=moment)
    summary = preview.runs.summary(zone)
    if dry_run:
        facts = reports.preview_facts(preview)
        print_new_runs(reports.new_runs(spec.name, preview.runs, facts), summary, zone, json_out)
        return
    confirm(spec.name, preview.runs.count, summary, yes=yes)
    result = apply_schedule(db, spec=spec, templates=templates, user=current_user(), now=moment)
    print_applied(reports.applied(result, runs=preview.runs.count), zone, json_out)


def print_applied(answer: dict[str, Any], zone: str, json_out: bool) -> None:
    """What `cube schedule apply` prints once applied (local or on a server)."""
    from cubestudio.cli.output import print_json

    if json_out:
        print_json(answer)
        return
    verb = "registered" if answer["created"] else "updated"
    typer.echo(f"schedule of {answer['pipeline']} {verb}: start {_both(answer['start'], zone)}")
    if answer["reset"]:
        typer.echo(f"start reset to now because {answer['reset']}")
    typer.echo(f"next run: {_both(answer['next'], zone) if answer['next'] else 'never'}")


@schedule_app.command("list")
def list_(json_out: JsonFlag = False, now: NowOption = None) -> None:
    """The registered schedules with their next tick."""
    from cubestudio.cli.output import print_json
    from cubestudio.cli.setup import open_db
    from cubestudio.schedule.registry import list_schedules

    items = list_schedules(open_db(), now=_instant("--now", now))
    print_json(items) if json_out else print_schedules(items)


def print_schedules(items: list[dict[str, object]]) -> None:
    """The `cube schedule list` lines (local or from a server)."""
    from cubestudio.cli.output import stdout_console

    if not items:
        typer.echo("no schedules: `cube schedule apply FILE` registers one", err=True)
    console = stdout_console()
    for item in items:
        state = "paused" if item["paused"] else f"next {item['next']}"
        catchup = "catchup" if item["catchup"] else "no catchup"
        console.print(
            f"{item['pipeline']}  '{item['cron']}' {item['timezone']}, {catchup}, {state}"
        )


@schedule_app.command()
def records(
    pipeline: PipelineArg,
    status: Annotated[
        str | None, typer.Option(help="Only this status: comed, created, expired, skipped.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    json_out: JsonFlag = False,
) -> None:
    """A pipeline's schedule records, newest first: one per execution date."""
    from cubestudio.cli.setup import open_db
    from cubestudio.schedule.records import check_status, pipeline_records

    check_status(status, field="--status")
    items = pipeline_records(open_db(), name=pipeline, status=status, limit=limit)
    print_records(items, pipeline, status, json_out)


def print_records(
    items: list[dict[str, Any]], pipeline: str, status: str | None, json_out: bool
) -> None:
    """The `cube schedule records` lines (local or from a server)."""
    from cubestudio.cli.output import print_json, stdout_console

    if json_out:
        print_json(items)
        return
    if not items:
        typer.echo(
            f"no records for {pipeline}" + (f" with status {status}" if status else ""), err=True
        )
    console = stdout_console()
    for item in items:
        run = f"  run {item['run_id']} {item['run_status']}" if item["run_id"] else ""
        why = f"  {item['message']}" if item["message"] else ""
        console.print(
            f"{item['execution_date']}  {item['status']:<8} {item['trigger']:<8}{run}{why}",
            markup=False,
        )


@schedule_app.command()
def pause(pipeline: PipelineArg, now: NowOption = None) -> None:
    """Stop scheduling a pipeline (records and runs stay)."""
    _set_paused(pipeline, True, now)


@schedule_app.command()
def unpause(pipeline: PipelineArg, now: NowOption = None) -> None:
    """Schedule a paused pipeline again.

    With catchup the paused time is caught up; without, only the latest due tick runs."""
    _set_paused(pipeline, False, now)


def scheduler(
    interval: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds between turns at most (runs finish, files apply)."),
    ] = 10.0,
    now: NowOption = None,
    step: Annotated[float, typer.Option(hidden=True)] = 0.0,
    until: Annotated[str | None, typer.Option(hidden=True)] = None,
    no_launch: Annotated[bool, typer.Option("--no-launch", hidden=True)] = False,
) -> None:
    """Run the cron scheduler until Ctrl-C or SIGTERM.

    Several may run on one PostgreSQL database: they share the schedules and never create a
    record or run twice."""
    from cubestudio.cli.setup import open_db
    from cubestudio.schedule.scheduler import Scheduler
    from cubestudio.schedule.service import SimulatedClock, serve

    db = open_db()
    clock = None
    if now is not None:  # simulated: no sleeping; --step 0 is a single turn
        end = _instant("--until", until) if until else None
        clock = SimulatedClock(_instant("--now", now), timedelta(seconds=step), end)
    engine = Scheduler(db, _launcher(no_launch), log=_log)
    _log(f"scheduler started on {db.display_url}")
    turns = serve(engine, interval=interval, clock=clock, log=_log)
    _log(f"scheduler stopped after {turns} turns")


def backfill(
    file: FileArg,
    start: Annotated[str, typer.Option(help="First execution date (local to the schedule).")],
    end: Annotated[
        str,
        typer.Option(help="Last execution date, inclusive: a bare date is that whole day."),
    ],
    yes: YesFlag = False,
    dry_run: DryRunFlag = False,
    json_out: JsonFlag = False,
    no_launch: Annotated[bool, typer.Option("--no-launch", hidden=True)] = False,
) -> None:
    """Create the scheduled runs of a past range (trigger `backfill`) and wait for them.

    They respect max_active_runs and depends_on_past. Ticks that have a record keep it.
    Says how many runs it creates and asks above 20 (--yes for scripts)."""
    from cubestudio.cli.output import print_json
    from cubestudio.cli.setup import LazyCatalog, open_db
    from cubestudio.engine.lifecycle import current_user
    from cubestudio.schedule import reports
    from cubestudio.schedule.backfill import Backfill, preview_backfill
    from cubestudio.spec.validate import resolve_templates

    catalog = LazyCatalog()
    spec = load_scheduled(file, catalog=catalog)
    assert spec.schedule is not None
    now = datetime.now(UTC)
    lo, hi = backfill_limits(spec, start, end, now)
    templates = resolve_templates(spec, catalog)
    db = open_db()
    runs = preview_backfill(db, spec=spec, lo=lo, hi=hi)
    zone = spec.schedule.timezone
    if dry_run:
        print_new_runs(reports.new_runs(spec.name, runs, {}), runs.summary(zone), zone, json_out)
        return
    confirm(spec.name, runs.count, runs.summary(zone), yes=yes)
    job = Backfill.of(
        db,
        _launcher(no_launch),
        spec=spec,
        templates=templates,
        runner=current_user(),
        lo=lo,
        hi=hi,
        now=now,
    )
    total, existing = job.record(now)
    backfill_recorded(spec.name, total, existing)
    final = job.drive(
        clock=lambda: datetime.now(UTC),
        on_launch=lambda run_id: backfill_launched(spec.name, run_id),
    )
    if json_out:
        answer = {"pipeline": spec.name, "ticks": total, "existing": existing}
        print_json({**answer, "records": job.records()})
    if final.stuck:
        raise reports.stuck(spec.name, final.waiting, final.reason)


def backfill_limits(
    spec: PipelineSpec, start: str, end: str, now: datetime
) -> tuple[datetime, datetime]:
    """--start and --end of `cube backfill` resolved in the schedule's time zone."""
    from cubestudio.schedule.plan import timetable_of
    from cubestudio.schedule.ranges import backfill_range

    assert spec.schedule is not None
    timetable = timetable_of(spec.schedule)
    return backfill_range(start=start, end=end, timetable=timetable, now=now)


def backfill_recorded(name: str, ticks: int, existing: int) -> None:
    typer.echo(f"{name}: {ticks} ticks, {existing} already had a record", err=True)


def backfill_launched(name: str, run_id: str) -> None:
    typer.echo(f"{name}: launched run {run_id}", err=True)


def _set_paused(pipeline: str, paused: bool, now: str | None) -> None:
    from cubestudio.cli.setup import open_db
    from cubestudio.schedule.registry import set_paused

    set_paused(open_db(), name=pipeline, paused=paused, now=_instant("--now", now))
    typer.echo(f"schedule of {pipeline} {'paused' if paused else 'unpaused'}")


@schedule_app.command()
def clear(pipeline: PipelineArg, json_out: JsonFlag = False) -> None:
    """Undo runs created by mistake: delete a pipeline's waiting records and unstarted runs.

    Only scheduled runs that are pending and never started go; finished ones: `cube runs
    delete`."""
    from cubestudio.cli.runs import remove_run_files
    from cubestudio.cli.setup import open_db
    from cubestudio.schedule import reports
    from cubestudio.schedule.registry import clear_schedule

    cleared = clear_schedule(open_db(), name=pipeline)
    remove_run_files(cleared.runs)
    print_cleared(reports.cleared(cleared), json_out)


def print_cleared(answer: dict[str, Any], json_out: bool) -> None:
    """What `cube schedule clear` prints (local or on a server)."""
    from cubestudio.cli.output import print_json

    if json_out:
        print_json(answer)
        return
    pipeline, runs, busy = answer["pipeline"], answer["runs"], answer["busy"]
    typer.echo(
        f"{pipeline}: removed {_plural(answer['records'], 'waiting record')} and "
        f"{_plural(len(runs), 'pending run')} that had not started"
    )
    for run_id in runs:
        typer.echo(f"  deleted run {run_id}")
    if busy:
        typer.echo(
            f"{pipeline}: left {', '.join(busy)}: a process is starting them now "
            "(`cube stop RUN`, then `cube runs delete RUN`)",
            err=True,
        )
    typer.echo(f"`cube schedule pause {pipeline}` keeps new ones from coming", err=True)


def confirm(name: str, count: int, summary: str, *, yes: bool) -> None:
    """Say how many runs are coming; above CONFIRM_ABOVE, ask (y/N) on a terminal, and
    without one refuse unless --yes. Nothing is stored before this returns."""
    from cubestudio.schedule.reports import CONFIRM_ABOVE

    typer.echo(f"{name}: {summary}", err=True)
    if count <= CONFIRM_ABOVE or yes:
        return
    if not sys.stdin.isatty():
        raise StateError(
            f"{name}: {count} runs need a confirmation and there is no terminal to ask: "
            "pass --yes to create them (--dry-run lists them); nothing was stored"
        )
    if not typer.confirm(f"create {count} runs?", default=False, err=True):
        typer.echo("nothing was stored", err=True)
        raise typer.Exit(1)


def print_new_runs(answer: dict[str, Any], summary: str, zone: str, json_out: bool) -> None:
    """--dry-run: the execution dates of the runs it would create, oldest first."""
    from cubestudio.cli.output import print_json

    if json_out:
        print_json(answer)
        return
    typer.echo(f"{answer['pipeline']}: {summary} (dry run: nothing was stored)", err=True)
    for tick in answer["execution_dates"]:
        typer.echo(_both(tick, zone))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def load_scheduled(file: Path, *, catalog: LazyCatalog | None) -> PipelineSpec:
    """The file's pipeline; with a catalog its job templates are checked (that opens the
    store), without one nothing but the file is read."""
    from cubestudio.spec.loader import load_pipeline

    spec = load_pipeline(file, catalog)
    if spec.schedule is None:
        raise SpecError(
            [FieldError("schedule", f"{file} has no schedule: add one with at least a cron")]
        )
    return spec


def _instant(option: str, text: str | None) -> datetime:
    """An instant option (naive is UTC); none: now."""
    from cubestudio.schedule.ranges import instant

    return datetime.now(UTC) if text is None else instant(option, text)


def _both(moment: datetime | str, zone: str) -> str:
    """UTC first (what scripts compare), then the wall clock of the schedule."""
    from zoneinfo import ZoneInfo

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(ZoneInfo(zone))
    return f"{moment.astimezone(UTC).isoformat()}  ({local:%Y-%m-%d %H:%M %Z})"


def _launcher(no_launch: bool) -> RunLauncher | None:
    from cubestudio.cli.engine import engine_report, wake_engines
    from cubestudio.cli.setup import open_db
    from cubestudio.schedule.launch import AutoLauncher, EngineLauncher, ProcessLauncher
    from cubestudio.settings import get_settings

    if no_launch:  # tests: runs are created and left pending
        return None
    settings = get_settings()
    db = open_db(settings)

    def engine_alive() -> bool:
        report = engine_report(db, now=datetime.now(UTC), lease=settings.engine_lease)
        return any(e["alive"] for e in report["engines"])

    return AutoLauncher(
        engine_alive,
        EngineLauncher(lambda: wake_engines(db)),
        ProcessLauncher(settings.home_dir / "scheduler" / "logs"),
    )


def _log(line: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sys.stderr.write(f"{stamp} {line}\n")
    sys.stderr.flush()
