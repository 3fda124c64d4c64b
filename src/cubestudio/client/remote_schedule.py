"""`cube schedule ...` and `cube backfill` against a server (see remote_cli.py), with the
local commands' output, `--json` objects and exit codes. A remote backfill is stepped from
this process until its runs end; the server's engine service runs them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cubestudio.client.api import Client
from cubestudio.client.remote_cli import local_only_option, session
from cubestudio.errors import CubeError

if TYPE_CHECKING:
    from cubestudio.cli.remote import Target
    from cubestudio.spec.model import PipelineSpec

BACKFILL_POLL = 0.5  # seconds between two steps of a backfill this command follows


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
