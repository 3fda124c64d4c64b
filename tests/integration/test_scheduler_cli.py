"""The scheduling commands as a user runs them: `cube schedule plan` (pure), bad input,
`cube schedule apply` + `cube scheduler` launching real runs, records, and `cube backfill`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import Cube
from tests.integration.helpers import pipeline

NIGHTLY = """
name: nightly
schedule:
  cron: "30 1 * * *"
  timezone: America/New_York
  start: "2026-10-30 00:00:00"
  catchup: true
tasks:
  - name: a
    command: "true"
"""


def test_plan_prints_the_contract_and_touches_no_store(tmp_path: Path) -> None:
    home = tmp_path / "never-created"
    cube = Cube(home, "postgresql://nobody@127.0.0.1:1/unreachable")
    plan = cube.json(
        "schedule",
        "plan",
        str(pipeline(tmp_path, NIGHTLY)),
        "--now",
        "2026-11-02T12:00",
        "--json",
        expect=0,
    )
    assert plan == {
        "due": [
            "2026-10-30T05:30:00+00:00",
            "2026-10-31T05:30:00+00:00",
            "2026-11-01T06:30:00+00:00",  # 01:30 happened twice: the second time (EST)
            "2026-11-02T06:30:00+00:00",
        ],
        "next": "2026-11-03T06:30:00+00:00",
    }
    assert not home.exists()


def test_a_now_without_offset_is_utc(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, NIGHTLY))
    naive = cube_sqlite.json("schedule", "plan", file, "--now", "2026-11-01T06:30", "--json")
    aware = cube_sqlite.json(
        "schedule", "plan", file, "--now", "2026-11-01T01:30:00-05:00", "--json"
    )
    assert naive == aware
    assert naive["due"][-1] == "2026-11-01T06:30:00+00:00"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ('cron: "61 * * * *"', "error: schedule.cron: '61 * * * *' is not a cron expression"),
        ('cron: "0 0 30 2 *"', "error: schedule.cron: '0 0 30 2 *' never fires"),
        (
            "cron: '@daily'\n  timezone: Mars/Base",
            "error: schedule.timezone: unknown time zone 'Mars/Base'",
        ),
        ("cron: '@daily'\n  start: '10:00:00'", "error: schedule.start: '10:00:00' is not a start"),
        (
            "cron: '@daily'\n  max_active_runs: 0",
            "error: schedule.max_active_runs: input should be greater than or equal to 1",
        ),
    ],
)
def test_bad_schedules_are_one_line_naming_the_field(
    cube_sqlite: Cube, tmp_path: Path, schedule: str, message: str
) -> None:
    file = pipeline(tmp_path, f"name: p\nschedule:\n  {schedule}\ntasks: [{{name: a, command: x}}]")
    for command in (["schedule", "plan", str(file)], ["schedule", "apply", str(file)]):
        result = cube_sqlite(*command)
        assert result.returncode == 2
        assert result.stderr.startswith(message), result.stderr
        assert result.stderr.count("\n") == 1


def test_apply_refuses_a_file_it_cannot_schedule(cube_sqlite: Cube, tmp_path: Path) -> None:
    unscheduled = pipeline(tmp_path, "name: p\ntasks: [{name: a, command: x}]", "a.yaml")
    result = cube_sqlite("schedule", "apply", str(unscheduled))
    assert (result.returncode, result.stderr.split(": ", 2)[1]) == (2, "schedule")
    needs_param = pipeline(
        tmp_path,
        "name: p\nparams: {lr: {type: float}}\nschedule: {cron: '@daily'}\n"
        "tasks: [{name: a, command: x}]",
        "b.yaml",
    )
    result = cube_sqlite("schedule", "apply", str(needs_param))
    assert result.returncode == 2
    assert result.stderr == "error: params.lr: a scheduled run uses the defaults: give it one\n"


@pytest.mark.slow
def test_the_scheduler_launches_runs_that_see_their_execution_date(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    out = tmp_path / "dates.txt"
    file = pipeline(
        tmp_path,
        f"""
name: shanghai
schedule:
  cron: "0 2 * * *"
  timezone: Asia/Shanghai
  start: "2026-01-01 00:00:00"
  catchup: true
  max_active_runs: 2
tasks:
  - name: a
    command: echo "{{{{ execution_date }}}}" >> {out}
""",
    )
    applied = cube_sqlite.json(
        "schedule", "apply", str(file), "--json", "--now", "2026-01-02T12:00"
    )
    assert applied["start"] == "2025-12-31T16:00:00+00:00"
    result = cube_sqlite("scheduler", "--now", "2026-01-02T12:00")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(": launched run ") == 2
    runs = _wait_for_runs(cube_sqlite, "shanghai", count=2)
    assert {r["trigger"] for r in runs} == {"schedule"}
    assert sorted(out.read_text().splitlines()) == ["2026-01-01 02:00:00", "2026-01-02 02:00:00"]
    records = cube_sqlite.json("schedule", "records", "shanghai", "--json")
    assert [(r["execution_date"], r["status"], r["run_status"]) for r in records] == [
        ("2026-01-01T18:00:00+00:00", "created", "succeeded"),
        ("2025-12-31T18:00:00+00:00", "created", "succeeded"),
    ]
    assert cube_sqlite.json("schedule", "records", "shanghai", "--status", "comed", "--json") == []
    logs = list((cube_sqlite.home / "scheduler" / "logs").iterdir())
    assert sorted(p.stem for p in logs) == sorted(r["run_id"] for r in runs)


def test_records_of_an_unknown_pipeline_or_status(cube_sqlite: Cube) -> None:
    result = cube_sqlite("schedule", "records", "nope")
    assert (result.returncode, result.stderr) == (
        2,
        "error: no pipeline 'nope' (see `cube schedule list`)\n",
    )
    result = cube_sqlite("schedule", "records", "nope", "--status", "done")
    assert result.returncode == 2
    assert "--status: 'done' is not one of comed, created, expired, skipped" in result.stderr


DAILY = """
name: daily
schedule:
  cron: "0 0 * * *"
  max_active_runs: 2
  depends_on_past: {depends}
tasks:
  - name: a
    command: {command}
"""


@pytest.mark.slow
def test_backfill_creates_the_runs_of_a_range_once(cube_sqlite: Cube, tmp_path: Path) -> None:
    out = tmp_path / "dates.txt"
    command = f'echo "{{{{ execution_date }}}}" >> {out}'
    file = str(pipeline(tmp_path, DAILY.format(depends="false", command=json.dumps(command))))
    args = ("backfill", file, "--start", "2026-01-01", "--end", "2026-01-03 00:00:00")
    result = cube_sqlite.json(*args, "--json", expect=0)
    assert [
        (r["execution_date"], r["status"], r["trigger"], r["run_status"]) for r in result["records"]
    ] == [
        (f"2026-01-0{day}T00:00:00+00:00", "created", "backfill", "succeeded") for day in (1, 2, 3)
    ]
    assert sorted(out.read_text().splitlines()) == [f"2026-01-0{d} 00:00:00" for d in (1, 2, 3)]
    again = cube_sqlite(*args)
    assert again.returncode == 0, again.stderr
    assert "daily: 3 ticks, 3 already had a record" in again.stderr
    assert len(cube_sqlite.json("runs", "--json")) == 3


@pytest.mark.slow
def test_backfill_stops_when_the_past_it_depends_on_failed(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    file = str(pipeline(tmp_path, DAILY.format(depends="true", command="'exit 3'")))
    result = cube_sqlite("backfill", file, "--start", "2026-01-01", "--end", "2026-01-03")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(
        "error: daily: 2 records still wait: waiting: depends_on_past, and the run for "
        "2026-01-01T00:00:00+00:00 (run "
    )


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-01-03", "2026-01-01", "error: --end: is before --start"),
        ("2026-01-01", "2999-01-01", "error: --end: is in the future"),
        ("yesterday", "2026-01-01", "error: --start: 'yesterday' is not a time"),
    ],
)
def test_backfill_refuses_a_bad_range(
    cube_sqlite: Cube, tmp_path: Path, start: str, end: str, message: str
) -> None:
    file = str(pipeline(tmp_path, DAILY.format(depends="false", command="'true'")))
    result = cube_sqlite("backfill", file, "--start", start, "--end", end)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr


def _wait_for_runs(cube: Cube, name: str, *, count: int) -> list[dict[str, str]]:
    """Until the pipeline has ``count`` runs, all ended (the launched processes exit then)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = cube.json("runs", "--json", "--pipeline", name)
        if len(runs) == count and all(r["status"] == "succeeded" for r in runs):
            return list(runs)
        time.sleep(0.2)
    raise AssertionError(f"runs of {name} did not all succeed: {runs}")


def test_the_example_plans_in_its_time_zone(tmp_path: Path) -> None:
    cube = Cube(tmp_path / "home", "sqlite:////nonexistent/never.db")
    example = Path(__file__).parents[2] / "examples" / "nightly.yaml"
    plan = cube.json("schedule", "plan", str(example), "--now", "2026-01-02T00:00", "--json")
    assert plan == {
        "due": ["2025-12-31T18:00:00+00:00", "2026-01-01T18:00:00+00:00"],
        "next": "2026-01-02T18:00:00+00:00",
    }
