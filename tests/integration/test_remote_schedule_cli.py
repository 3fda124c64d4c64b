"""`cube schedule apply|records|clear`, `cube backfill` and `cube runs delete` against a
server print what they print on the local store: each command is run both ways and the
`--json` objects, the lines and the exit codes compared (run ids aside)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration import test_remote_cli
from tests.integration.helpers import pipeline
from tests.integration.test_remote_cli import EXAMPLES, Remote

remote = test_remote_cli.remote  # the fixture: a live server, its engine, and the two CLIs

CATCHUP = """
name: catchup
schedule: {{cron: "0 0 * * *", start: "{start}", catchup: true}}
tasks: [{{name: a, command: "true"}}]
"""
DAILY = """
name: daily
schedule: {cron: "0 0 * * *", max_active_runs: 2}
tasks: [{name: a, command: "true"}]
"""
MINUTELY = """
name: minutely
schedule: {cron: "* * * * *"}
tasks: [{name: a, command: "true"}]
"""


def _day(days_ago: int) -> str:
    return f"{datetime.now(UTC).date() - timedelta(days=days_ago)}"


Done = subprocess.CompletedProcess[str]


def _both(remote: Remote, *args: str) -> tuple[Done, Done]:
    """The command run on the server and on the local store."""
    return remote.cube(*args), remote.local(*args)


def _same(remote: Remote, *args: str) -> Done:
    """Run both ways: the same exit code, stdout and stderr; the remote result."""
    there, here = _both(remote, *args)
    assert (there.returncode, there.stdout, there.stderr) == (
        here.returncode,
        here.stdout,
        here.stderr,
    ), args
    return there


def _records(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("execution_date", "status", "trigger", "run_status")
    return [tuple(item[k] for k in keys) for item in items]


def test_apply_previews_confirms_and_applies_as_locally(remote: Remote, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, CATCHUP.format(start=f"{_day(30)} 00:00:00")))
    refused = _same(remote, "schedule", "apply", file)  # 31 runs, and no terminal to ask
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0].startswith("catchup: this will create 31 runs (")
    assert "pass --yes to create them" in refused.stderr
    _same(remote, "schedule", "apply", file, "--dry-run")
    dry = _same(remote, "schedule", "apply", file, "--dry-run", "--json")
    assert dry.returncode == 0 and len(dry.stdout.splitlines()) == 1
    assert remote.api("GET", "/projects/default/pipelines").json() == []  # nothing stored
    applied = _same(remote, "schedule", "apply", file, "--yes", "--json")
    assert applied.returncode == 0
    versions = remote.api("GET", "/projects/default/pipelines/catchup/versions").json()
    assert [v["version"] for v in versions] == [1]  # saved as a version, then applied
    again = _same(remote, "schedule", "apply", file)  # nothing new: no question
    assert again.returncode == 0 and again.stdout.startswith("schedule of catchup updated: ")
    assert len(remote.api("GET", "/projects/default/pipelines/catchup/versions").json()) == 1
    for cube in (remote.cube, remote.local):
        assert [s["pipeline"] for s in cube.json("schedule", "list", "--json")] == ["catchup"]
    now = remote.cube("schedule", "apply", file, "--now", "2026-01-01")
    assert now.returncode == 2 and "--now is for the local store only" in now.stderr


def test_backfill_records_and_clear_as_locally(remote: Remote, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, DAILY))
    args = ("backfill", file, "--start", _day(3), "--end", _day(1))
    _same(remote, *args, "--dry-run", "--json")
    there, here = _both(remote, *args, "--json")
    assert there.returncode == here.returncode == 0, (there.stderr, here.stderr)
    remote_json, local_json = (
        json.loads(r.stdout) for r in (there, here)
    )  # fmt: skip
    assert set(remote_json) == set(local_json) == {"pipeline", "ticks", "existing", "records"}
    assert (remote_json["ticks"], remote_json["existing"]) == (3, 0)
    assert _records(remote_json["records"]) == _records(local_json["records"])
    assert [r["run_status"] for r in remote_json["records"]] == ["succeeded"] * 3
    assert there.stderr.startswith("daily: this will create 3 runs (")
    assert there.stderr.count("daily: launched run ") == 3
    again = _same(remote, *args)  # every tick has its record: nothing to launch
    assert "daily: 3 ticks, 3 already had a record" in again.stderr

    records = _both(remote, "schedule", "records", "daily", "--json")
    assert _records(json.loads(records[0].stdout)) == _records(json.loads(records[1].stdout))
    assert records[0].returncode == records[1].returncode == 0
    _same(remote, "schedule", "records", "daily", "--status", "comed")
    _same(remote, "schedule", "records", "daily", "--status", "done")  # exit 2, the same line
    _same(remote, "schedule", "records", "nope")
    cleared = _same(remote, "schedule", "clear", "daily", "--json")
    assert json.loads(cleared.stdout) == {
        "pipeline": "daily", "records": 0, "runs": [], "busy": []
    }  # fmt: skip
    _same(remote, "schedule", "clear", "daily")
    _same(remote, "schedule", "clear", "nope")


@pytest.mark.parametrize(
    ("start", "end"),
    [("3", "5"), ("5", "2999-01-01"), ("yesterday", "1")],
)
def test_backfill_refuses_as_locally(remote: Remote, tmp_path: Path, start: str, end: str) -> None:
    file = str(pipeline(tmp_path, MINUTELY))
    start = _day(int(start)) if start.isdigit() else start
    end = _day(int(end)) if end.isdigit() else end
    refused = _same(remote, "backfill", file, "--start", start, "--end", end)
    assert refused.returncode == 2 and refused.stderr.startswith("error: --")


def test_a_backfill_flood_needs_yes_as_locally(remote: Remote, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, MINUTELY))
    args = ("backfill", file, "--start", _day(2), "--end", _day(2))
    flood = _same(remote, *args)
    assert flood.returncode == 2
    assert "1440 runs need a confirmation and there is no terminal to ask" in flood.stderr
    dry = _same(remote, *args, "--dry-run", "--json")
    assert len(json.loads(dry.stdout)["execution_dates"]) == 1440
    assert remote.api("GET", "/projects/default/pipelines").json() == []
    hidden = remote.cube(*args, "--no-launch")
    assert hidden.returncode == 2 and "works only on the local store" in hidden.stderr


def test_runs_delete_as_locally(remote: Remote, tmp_path: Path) -> None:
    hello = str(EXAMPLES / "hello.yaml")
    there = remote.cube.json("run", hello, "--json", expect=0)["run_id"]
    here = remote.local.json("run", hello, "--json", expect=0)["run_id"]
    remote_json = remote.cube.json("runs", "delete", there[:-2], "--json", expect=0)
    local_json = remote.local.json("runs", "delete", here[:-2], "--json", expect=0)
    assert (remote_json, local_json) == ({"deleted": [there]}, {"deleted": [here]})
    assert remote.cube.json("runs", "--json") == remote.local.json("runs", "--json") == []
    there = remote.cube.json("run", hello, "--json", expect=0)["run_id"]
    text = remote.cube("runs", "delete", there)
    assert (text.returncode, text.stdout) == (0, f"deleted run {there}\n")
    _same(remote, "runs", "delete", "nope")

    slow = pipeline(tmp_path, "name: slow\ntasks:\n  - {name: nap, command: sleep 60}\n")
    ended = remote.cube.json("run", hello, "--json", expect=0)["run_id"]
    running = remote.cube.json("submit", str(slow), "--json", expect=0)["run_id"]
    refused = remote.cube("runs", "delete", ended, running)
    assert refused.returncode == 2
    status = remote.cube.json("show", running, "--json")["status"]
    assert refused.stderr == (
        f"error: run {running} is {status}: stop it first (`cube stop {running}`), "
        "then delete it; nothing was deleted\n"
    )
    assert len(remote.cube.json("runs", "--json")) == 2  # all or nothing
    assert remote.cube("stop", running).returncode == 0
    deleted = remote.cube.json("runs", "delete", ended, running, "--json", expect=0)
    assert deleted == {"deleted": [ended, running]}
    assert remote.cube.json("runs", "--json") == []
