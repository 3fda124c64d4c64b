"""No flood of runs without a word (issue 10, item 10): `cube schedule apply` and
`cube backfill` say how many runs they create, ask above 20 (refuse without a terminal unless
--yes), list them with --dry-run; `cube schedule clear` and `cube runs delete` undo mistakes.
And `cube backfill --end` is inclusive, as documented."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CUBE, Cube
from tests.integration.helpers import pipeline, wait_for

NIGHTLY = Path(__file__).parents[2] / "examples" / "nightly.yaml"
NOW = "2026-11-30T12:00"  # 02:00 in Shanghai has passed: 334 nightly ticks since Jan 1
SUMMARY = "nightly: this will create 334 runs (2026-01-01 02:00 … 2026-11-30 02:00 Asia/Shanghai)"
MINUTELY = """
name: minutely
schedule: {cron: "* * * * *"}
tasks: [{name: a, command: "true"}]
"""
DAILY_AT_2 = """
name: daily
schedule: {cron: "0 2 * * *", max_active_runs: 100}
tasks: [{name: a, command: "true"}]
"""


# -- apply -----------------------------------------------------------------------------------------
def test_apply_says_how_many_runs_and_refuses_a_flood_without_a_terminal(cube: Cube) -> None:
    refused = cube("schedule", "apply", str(NIGHTLY), "--now", NOW)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        SUMMARY,
        "error: nightly: 334 runs need a confirmation and there is no terminal to ask: "
        "pass --yes to create them (--dry-run lists them); nothing was stored",
    ]
    assert cube.json("schedule", "list", "--json") == []
    dry = cube.json("schedule", "apply", str(NIGHTLY), "--now", NOW, "--dry-run", "--json")
    assert (dry["runs"], len(dry["execution_dates"]), dry["created"]) == (334, 334, True)
    assert dry["execution_dates"][0] == "2025-12-31T18:00:00+00:00"
    assert dry["execution_dates"][-1] == "2026-11-29T18:00:00+00:00"
    listed = cube("schedule", "apply", str(NIGHTLY), "--now", NOW, "--dry-run")
    assert listed.stdout.splitlines()[0] == "2025-12-31T18:00:00+00:00  (2026-01-01 02:00 CST)"
    assert len(listed.stdout.splitlines()) == 334
    assert cube.json("schedule", "list", "--json") == []  # a dry run stores nothing
    applied = cube.json("schedule", "apply", str(NIGHTLY), "--now", NOW, "--yes", "--json")
    assert (applied["created"], applied["runs"]) == (True, 334)
    assert [s["pipeline"] for s in cube.json("schedule", "list", "--json")] == ["nightly"]
    again = cube("schedule", "apply", str(NIGHTLY), "--now", NOW)  # nothing new: no question
    assert again.returncode == 0, again.stderr
    assert again.stderr == "nightly: this will create no runs\n"


def test_clear_undoes_a_catch_up_the_scheduler_began(cube: Cube) -> None:
    cube.json("schedule", "apply", str(NIGHTLY), "--now", NOW, "--yes", "--json", expect=0)
    turn = cube("scheduler", "--now", NOW, "--no-launch")  # one turn: 334 records, 1 run
    assert turn.returncode == 0, turn.stderr
    (run,) = cube.json("runs", "--json")
    cleared = cube.json("schedule", "clear", "nightly", "--json", expect=0)
    assert cleared == {"pipeline": "nightly", "records": 333, "runs": [run["run_id"]], "busy": []}
    assert cube.json("runs", "--json") == []
    assert cube.json("schedule", "records", "nightly", "--json") == []
    again = cube("scheduler", "--now", NOW, "--no-launch")  # planned past them: none come back
    assert again.returncode == 0, again.stderr
    assert cube.json("runs", "--json") == []
    text = cube("schedule", "clear", "nightly")
    assert (
        text.stdout
        == "nightly: removed 0 waiting records and 0 pending runs that had not started\n"
    )
    unknown = cube("schedule", "clear", "nope")
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "error: no pipeline 'nope' (see `cube schedule list`)\n",
    )


@pytest.mark.parametrize(("answer", "code"), [("n", 1), ("y", 0)])
def test_on_a_terminal_apply_asks_and_stores_only_on_yes(
    cube_sqlite: Cube, answer: str, code: int
) -> None:
    result = _on_a_terminal(cube_sqlite, answer, "schedule", "apply", str(NIGHTLY), "--now", NOW)
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith(f"{SUMMARY}\ncreate 334 runs? [y/N]:")
    stored = cube_sqlite.json("schedule", "list", "--json")
    assert [s["pipeline"] for s in stored] == ([] if answer == "n" else ["nightly"])
    if answer == "n":
        assert result.stderr.endswith("nothing was stored\n")


def test_a_few_runs_need_no_question(cube_sqlite: Cube, tmp_path: Path) -> None:
    schedule = 'start: "2026-01-01 00:00:00", catchup: false'
    file = pipeline(tmp_path, DAILY_AT_2.replace("max_active_runs: 100", schedule))
    result = cube_sqlite("schedule", "apply", str(file), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "daily: this will create 1 run (2026-11-30 02:00 UTC)\n"


# -- backfill --------------------------------------------------------------------------------------
def test_a_minutely_backfill_of_a_day_asks_first(cube: Cube, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, MINUTELY))
    args = ("backfill", file, "--start", "2026-01-01", "--end", "2026-01-01", "--no-launch")
    refused = cube(*args)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "minutely: this will create 1440 runs (2026-01-01 00:00 … 2026-01-01 23:59 UTC)",
        "error: minutely: 1440 runs need a confirmation and there is no terminal to ask: "
        "pass --yes to create them (--dry-run lists them); nothing was stored",
    ]
    dry = cube.json(*args, "--dry-run", "--json", expect=0)
    assert (dry["pipeline"], dry["runs"], len(dry["execution_dates"])) == ("minutely", 1440, 1440)
    assert cube("schedule", "records", "minutely").returncode == 2  # not even the pipeline
    done = cube(*args, "--yes")
    assert done.returncode == 0, done.stderr
    assert "minutely: 1440 ticks, 0 already had a record" in done.stderr
    assert len(cube.json("schedule", "records", "minutely", "--limit", "2000", "--json")) == 1440


def test_backfill_end_is_inclusive(cube: Cube, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, DAILY_AT_2))
    exact = cube.json(
        "backfill",
        file,
        "--start",
        "2026-01-01",
        "--end",
        "2026-01-02T02:00",
        "--no-launch",
        "--json",
        expect=0,
    )  # a tick exactly on --end
    assert [r["execution_date"] for r in exact["records"]] == [
        "2026-01-01T02:00:00+00:00",
        "2026-01-02T02:00:00+00:00",
    ]
    day = cube.json(
        "backfill",
        file,
        "--start",
        "2026-01-01",
        "--end",
        "2026-01-03",
        "--no-launch",
        "--json",
        expect=0,
    )  # a bare date: the whole of the 3rd, 02:00 included
    assert (day["ticks"], day["existing"]) == (3, 2)
    assert day["records"][-1]["execution_date"] == "2026-01-03T02:00:00+00:00"


def test_backfill_to_today_runs_through_now(cube_sqlite: Cube, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    today = datetime.now(UTC).date().isoformat()
    file = str(pipeline(tmp_path, MINUTELY))
    dry = cube_sqlite.json(
        "backfill", file, "--start", today, "--end", today, "--dry-run", "--json", expect=0
    )
    assert dry["execution_dates"][-1] <= datetime.now(UTC).isoformat()


# -- runs delete -----------------------------------------------------------------------------------
ARTIFACT = """
name: art
tasks:
  - name: t
    outputs: [{name: model, type: file}]
    command: "echo weights > $CUBE_OUTPUTS/model"
"""


def test_runs_delete_removes_rows_folders_and_artifacts(cube: Cube, tmp_path: Path) -> None:
    file = str(pipeline(tmp_path, ARTIFACT))
    first = cube.json("run", file, "--json", expect=0)["run_id"]
    second = cube.json("run", file, "--json", expect=0)["run_id"]
    for run_id in (first, second):
        assert (cube.home / "runs" / run_id).is_dir()
        assert (cube.home / "artifacts" / run_id).is_dir()
    deleted = cube.json("runs", "delete", first[:-2], "--json", expect=0)  # a unique prefix
    assert deleted == {"deleted": [first]}
    assert [r["run_id"] for r in cube.json("runs", "--json")] == [second]
    assert not (cube.home / "runs" / first).exists()
    assert not (cube.home / "artifacts" / first).exists()
    assert cube("show", first).returncode == 2
    got = tmp_path / "model"
    assert cube("artifacts", "get", second, "t", "model", "-o", str(got)).returncode == 0
    assert got.read_text() == "weights\n"  # the other run is whole
    text = cube("runs", "delete", second)
    assert (text.returncode, text.stdout) == (0, f"deleted run {second}\n")
    unknown = cube("runs", "delete", "nope")
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "error: no run 'nope' (see `cube runs` for the run ids)\n",
    )


@pytest.mark.slow
def test_runs_delete_refuses_a_running_run_until_it_is_stopped(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    ended = cube_sqlite.json("run", str(pipeline(tmp_path, ARTIFACT, "a.yaml")), "--json")
    started = tmp_path / "started"
    slow = pipeline(
        tmp_path,
        f"name: slow\ntasks: [{{name: s, command: 'touch {started}; sleep 60'}}]",
        "s.yaml",
    )
    engine = cube_sqlite.popen("run", str(slow), "--json")
    try:
        wait_for(started)
        running = cube_sqlite.json("runs", "--json", "--pipeline", "slow")[0]["run_id"]
        refused = cube_sqlite("runs", "delete", ended["run_id"], running)
        assert refused.returncode == 2
        assert refused.stderr == (
            f"error: run {running} is running: stop it first (`cube stop {running}`), "
            "then delete it; nothing was deleted\n"
        )
        assert len(cube_sqlite.json("runs", "--json")) == 2  # all or nothing
        assert cube_sqlite("stop", running).returncode == 0
        engine.communicate(timeout=30)
        deleted = cube_sqlite.json("runs", "delete", ended["run_id"], running, "--json", expect=0)
        assert deleted == {"deleted": [ended["run_id"], running]}
        assert cube_sqlite.json("runs", "--json") == []
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.communicate()


def _on_a_terminal(cube: Cube, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run cube with a pseudo-terminal as stdin and type ``answer`` at its question."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [CUBE, *args],
        env=cube.env,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    try:
        os.write(leader, f"{answer}\n".encode())  # the terminal keeps it until it is read
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(leader)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
