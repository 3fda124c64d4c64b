"""Tasks can use files next to their pipeline (issue 10, item 9): {{ pipeline_dir }},
$CUBE_PIPELINE_DIR and `workdir:`, remembered by the run for `cube retry`; and strings inside
list args are rendered (item 6), through the example that shows both."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import CUBE, Cube
from tests.integration.helpers import pipeline

EXAMPLES = Path(__file__).parents[2] / "examples"


def run_in(cube: Cube, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`cube` started from another folder than the pipeline's."""
    return subprocess.run(
        [CUBE, *args], cwd=cwd, env=cube.env, capture_output=True, text=True, timeout=120
    )


def test_the_script_example_runs_from_anywhere(cube_sqlite: Cube, tmp_path: Path) -> None:
    example = EXAMPLES / "train-script.yaml"
    assert cube_sqlite("validate", str(example)).stdout == "ok\n"
    done = run_in(cube_sqlite, tmp_path, "run", str(example), "-p", "lr=0.3", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded"
    train = cube_sqlite("logs", result["run_id"], "train").stdout
    # The list arg ["--lr", "{{ params.lr }}", ...] reached the script rendered.
    assert train.startswith("training with lr=0.3 for 20 epochs\nepoch 1 loss=")
    report = cube_sqlite("logs", result["run_id"], "report").stdout.splitlines()
    assert report[0].startswith("final loss 0.") and "train.py" in report[1:]


def test_tasks_see_the_pipeline_folder(cube_sqlite: Cube, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "data" / "train").mkdir(parents=True)
    (project / "data" / "train" / "rows.txt").write_text("3 rows\n")
    (project / "notes.txt").write_text("next to the pipeline\n")
    file = pipeline(
        project,
        """
name: folders
params: {split: train}
tasks:
  - {name: here, workdir: ., command: "cat notes.txt; pwd"}
  - {name: templated, workdir: "data/{{ params.split | quote }}", command: cat rows.txt}
  - {name: absolute, workdir: "{{ pipeline_dir }}/data", command: ls}
  - name: fresh
    command: |
      cat "$CUBE_PIPELINE_DIR/notes.txt" {{ (pipeline_dir ~ '/notes.txt') | quote }}
      pwd
""",
    )
    done = run_in(cube_sqlite, tmp_path, "run", str(file), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    folder = str(project.resolve())
    assert cube_sqlite("logs", run_id, "here").stdout == f"next to the pipeline\n{folder}\n"
    assert cube_sqlite("logs", run_id, "templated").stdout == "3 rows\n"
    assert cube_sqlite("logs", run_id, "absolute").stdout == "train\n"
    fresh = cube_sqlite("logs", run_id, "fresh").stdout.splitlines()
    assert fresh[:2] == ["next to the pipeline"] * 2
    assert fresh[2].startswith(f"{cube_sqlite.home}/")  # its own fresh folder


def test_retry_uses_the_folder_the_run_began_with(cube_sqlite: Cube, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    file = pipeline(
        project,
        """
name: remembers
tasks:
  - {name: check, workdir: ., command: "pwd; test -f ready"}
""",
    )
    first = run_in(cube_sqlite, tmp_path, "run", str(file), "--json")
    assert first.returncode == 1, first.stdout + first.stderr
    run_id = json.loads(first.stdout)["run_id"]
    (project / "ready").touch()
    again = run_in(cube_sqlite, Path("/"), "retry", run_id, "--json")  # from another folder
    assert again.returncode == 0, again.stdout + again.stderr
    log = cube_sqlite("logs", run_id, "check", "--attempt", "2").stdout
    assert log == f"{project.resolve()}\n"


def test_a_missing_workdir_fails_the_task_saying_so(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = pipeline(tmp_path, "name: gone\ntasks:\n  - {name: a, workdir: nope, command: 'true'}\n")
    result = cube_sqlite.json("run", str(file), "--json", expect=1)
    assert result["tasks"]["a"]["status"] == "failed"
    log = cube_sqlite("logs", result["run_id"], "a").stdout
    assert f"can't cd to {tmp_path.resolve()}/nope" in log


def test_scheduled_runs_keep_the_pipeline_folder(cube_sqlite: Cube, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    file = pipeline(
        project,
        """
name: nightly-here
schedule: {cron: "0 0 * * *", start: "2026-01-01 00:00:00"}
tasks:
  - {name: where, workdir: ., command: pwd}
""",
    )
    done = run_in(
        cube_sqlite,
        Path("/"),
        "backfill",
        str(file),
        "--start",
        "2026-01-01",
        "--end",
        "2026-01-02",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    runs = cube_sqlite.json("runs", "--json")
    assert runs and {r["trigger"] for r in runs} == {"backfill"}
    for run in runs:
        assert cube_sqlite("logs", run["run_id"], "where").stdout == f"{project.resolve()}\n"
