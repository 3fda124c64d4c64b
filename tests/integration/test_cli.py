"""The CLI contract and its errors, on SQLite: exit codes, --json shapes, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cubestudio.procinfo import start_time
from tests.conftest import Cube
from tests.integration.helpers import pipeline, wait_for

EXAMPLES = Path(__file__).parents[2] / "examples"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$")


@pytest.mark.parametrize(
    "example", ["hello", "diamond", "retries", "outputs", "template-variables"]
)
def test_every_example_runs(cube_sqlite: Cube, example: str, tmp_path: Path) -> None:
    assert cube_sqlite("validate", str(EXAMPLES / f"{example}.yaml")).stdout == "ok\n"
    result = cube_sqlite.json("run", str(EXAMPLES / f"{example}.yaml"), "--json", expect=0)
    assert result["status"] == "succeeded"


def test_run_json_contract(cube_sqlite: Cube) -> None:
    result = cube_sqlite.json("run", str(EXAMPLES / "diamond.yaml"), "--json", expect=0)
    assert set(result) == {"run_id", "status", "tasks"}
    assert list(result["tasks"]) == ["prepare", "train", "baseline", "report"]
    for task in result["tasks"].values():
        assert set(task) == {"status", "attempts", "exit_code", "started_at", "finished_at"}
        assert ISO.match(task["started_at"]) and ISO.match(task["finished_at"])
    runs = cube_sqlite.json("runs", "--json", expect=0)
    assert runs == [
        {
            "run_id": result["run_id"],
            "pipeline": "diamond",
            "status": "succeeded",
            "trigger": "manual",
            "created_at": runs[0]["created_at"],
        }
    ]
    assert ISO.match(runs[0]["created_at"])


def test_runs_are_listed_newest_first(cube_sqlite: Cube) -> None:
    first = cube_sqlite.json("run", str(EXAMPLES / "hello.yaml"), "--json")["run_id"]
    second = cube_sqlite.json("run", str(EXAMPLES / "hello.yaml"), "--json")["run_id"]
    assert [r["run_id"] for r in cube_sqlite.json("runs", "--json")] == [second, first]


def test_template_variables_of_the_seeds_render(cube_sqlite: Cube) -> None:
    result = cube_sqlite.json("run", str(EXAMPLES / "template-variables.yaml"), "--json")
    log = cube_sqlite("logs", result["run_id"], "show").stdout
    assert re.search(r"short id: +[0-9a-f]{4}\n", log)
    assert re.search(r"timestamp: +\d{8}-\d{6}\.\d{6}\n", log)
    assert re.search(r"execution_date: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n", log)
    assert f"run_id:         {result['run_id']}" in log
    assert "pipeline_name:  template-variables" in log and "cluster_name:   local" in log
    notify = cube_sqlite("logs", result["run_id"], "notify").stdout
    assert notify == f"run {result['run_id']} ended succeeded\n"


def test_param_override_reaches_the_command(cube_sqlite: Cube) -> None:
    run = cube_sqlite.json("run", str(EXAMPLES / "diamond.yaml"), "-p", "lr=0.5", "--json")
    assert "lr=0.5" in cube_sqlite("logs", run["run_id"], "train").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "lr=fast"], "error: params.lr: 'fast' is not a float"),
        (["--param", "lrr=1"], "error: params.lrr: the pipeline has no parameter (did you mean"),
        (["--param", "lr"], "error: --param: 'lr' is not NAME=VALUE"),
    ],
)
def test_bad_params_exit_2_and_store_nothing(
    cube_sqlite: Cube, args: list[str], message: str
) -> None:
    result = cube_sqlite("run", str(EXAMPLES / "diamond.yaml"), *args, "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message)
    assert cube_sqlite.json("runs", "--json") == []


def test_validate_reports_every_problem_with_its_path(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        """
name: bad
tasks:
  - {name: prepare, command: "echo {{ param.lr }}"}
  - {name: train, command: "true", retires: 2}
  - {name: eval, command: "true", depends: [trian], timeout: 10x}
""",
    )
    result = cube_sqlite("validate", str(file))
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert "tasks[1]: unknown field 'retires' (did you mean 'retries'?)" in lines
    assert any(line.startswith("tasks[2].timeout: '10x' is not a duration") for line in lines)
    fixed = file.read_text().replace("retires", "retries").replace("10x", "10m")
    file.write_text(fixed)
    lines = cube_sqlite("validate", str(file)).stdout.splitlines()
    assert "tasks[2].depends[0]: unknown task 'trian' (did you mean 'train'?)" in lines
    assert "tasks[0].command: unknown template variable 'param' (did you mean 'params'?)" in lines


def test_malformed_yaml_names_line_and_column(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = pipeline(tmp_path, "name: x\ntasks:\n  - name: a\n    command: [unclosed\n")
    result = cube_sqlite("run", str(file))
    assert result.returncode == 2
    assert re.match(rf"error: {re.escape(str(file))}:\d+:\d+: invalid YAML: ", result.stderr)
    assert "Traceback" not in result.stderr


def test_unknown_run_id(cube_sqlite: Cube) -> None:
    for command in (["logs", "nope"], ["retry", "nope"], ["resume", "nope"], ["show", "nope"]):
        result = cube_sqlite(*command)
        assert result.returncode == 2, command
        assert result.stderr == "error: no run 'nope' (see `cube runs` for the run ids)\n"


def test_unreachable_database_names_url_without_password(tmp_path: Path) -> None:
    cube = Cube(tmp_path / "home", "postgresql://alice:s3cret@127.0.0.1:1/cube")
    result = cube("runs")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: cannot reach the database at postgresql+psycopg://alice:***@127.0.0.1:1/cube"
    )
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_command_not_found_records_127(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = pipeline(tmp_path, "name: nf\ntasks:\n  - {name: a, command: no-such-command-xyz}\n")
    result = cube_sqlite.json("run", str(file), "--json", expect=1)
    assert result["tasks"]["a"]["exit_code"] == 127
    log = cube_sqlite("logs", result["run_id"], "a").stdout
    assert "no-such-command-xyz: not found" in log
    assert "[cube] attempt 1 failed: exit code 127: command not found" in log


def test_template_escape_fails_the_task_before_anything_runs(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    file = pipeline(
        tmp_path,
        f'name: esc\ntasks:\n  - {{name: a, command: "touch {marker}; '
        "echo {{ uuid.os.system('id') }}\"}\n",
    )
    assert cube_sqlite("validate", str(file)).returncode == 0  # valid names; refused at render
    result = cube_sqlite.json("run", str(file), "--json", expect=1)
    assert result["tasks"]["a"]["status"] == "failed" and result["tasks"]["a"]["exit_code"] is None
    assert not marker.exists()
    log = cube_sqlite("logs", result["run_id"], "a").stdout
    assert "cannot render the task's templates" in log


def test_timeout_kills_the_task_and_its_children(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        f"""
name: slow
tasks:
  - name: a
    timeout: 1s
    command: (trap '' TERM; sleep 60) & echo $! > {tmp_path}/child.pid; trap '' TERM; sleep 60
""",
    )
    result = cube_sqlite.json("run", str(file), "--json", expect=1)
    assert result["tasks"]["a"]["status"] == "failed"
    child = int((tmp_path / "child.pid").read_text())
    assert start_time(child) is None  # gone, or a zombie nobody reaped yet
    log = cube_sqlite("logs", result["run_id"], "a").stdout
    assert "sending SIGTERM to the task (timeout)" in log
    assert "attempt 1 failed: timed out after 1s" in log


def test_logs_follow_streams_until_the_task_ends(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        f"""
name: follow
tasks:
  - name: a
    command: touch {tmp_path}/go; for i in 1 2 3; do echo line $i; sleep 0.3; done
  - {{name: b, command: "echo from b", depends: [a]}}
""",
    )
    engine = cube_sqlite.popen("run", str(file), "--json")
    wait_for(tmp_path / "go")
    run_id = cube_sqlite.json("runs", "--json")[0]["run_id"]
    followed = cube_sqlite("logs", run_id[:10], "a", "-f", timeout=30)
    assert followed.stdout == "line 1\nline 2\nline 3\n"
    engine.communicate(timeout=30)
    everything = cube_sqlite("logs", run_id).stdout.splitlines()
    assert everything == ["a | line 1", "a | line 2", "a | line 3", "b | from b"]
    missing = cube_sqlite("logs", run_id, "c")
    assert missing.returncode == 2 and "has no task 'c'" in missing.stderr


def test_python_sdk_file_runs(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = tmp_path / "flow.py"
    file.write_text(
        "from cubestudio import Pipeline, Task\n"
        "with Pipeline('sdk-flow', params={'n': 2}) as p:\n"
        "    a = Task('a', command='echo {{ params.n }} > $CUBE_OUTPUTS/n', outputs=['n'])\n"
        "    a >> Task('b', command='test ' + a.output('n') + ' = 2')\n"
    )
    result = cube_sqlite.json("run", str(file), "--json", expect=0)
    assert result["tasks"]["b"]["status"] == "succeeded"
