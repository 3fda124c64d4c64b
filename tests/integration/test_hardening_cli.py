"""Failures that explain themselves and the CLI's rough edges, through the real `cube`: the
failure report of `cube run` and `cube show`, what `cube show` adds, `cube logs` of a task
that never ran, `cube --version`, shell completion, `make help` and the help texts."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
from importlib.metadata import version
from pathlib import Path

import typer

from cubestudio.cli.main import app
from tests.conftest import CUBE, Cube
from tests.integration.helpers import pipeline, wait_for

ROOT = Path(__file__).parents[2]
CONTRACT_TASK_KEYS = {"status", "attempts", "exit_code", "started_at", "finished_at"}

FAILING = """
name: fails
params: {lr: 0.5, tag: nightly}
env:
  TOKEN: {secret: true, value: hunter2}
tasks:
  - name: crash
    command: "for i in $(seq 1 20); do echo line $i; done; echo token $TOKEN; exit 3"
  - name: after
    depends: [crash]
    command: "true"
  - name: lazy
    command: "echo made nothing"
    outputs: [rows]
  - name: slow
    command: "echo waiting; sleep 30"
    timeout: 1s
  - name: broken
    command: "echo {{ uuid.os }}"
  - name: count
    command: "printf 'n=%s' $TOKEN > $CUBE_OUTPUTS/n"
    outputs: [n]
  - name: quiet
    command: "true"
"""


def _run_failing(cube: Cube, tmp_path: Path) -> tuple[str, subprocess.CompletedProcess[str]]:
    done = cube("run", str(pipeline(tmp_path, FAILING)))
    assert done.returncode == 1, done.stderr
    run_id = cube.json("runs", "--json")[0]["run_id"]
    return run_id, done


def _check_report(out: str, run_id: str) -> None:
    assert "why it failed:" in out
    assert "  crash: exit code 3\n" in out
    # The last 5 lines of its log, masked; the engine's closing note is the reason above.
    tail = "".join(f"    | line {i}\n" for i in range(17, 21)) + "    | token ******\n"
    assert tail in out
    assert "line 16" not in out and "hunter2" not in out
    assert "  lazy: declared output 'rows' was not written: write it to $CUBE_OUTPUTS/rows\n" in out
    assert "  slow: timed out after 1s\n    | waiting\n" in out
    assert "  broken: cannot render the task's templates: " in out
    assert f"cube logs {run_id} crash" in out
    assert f"cube retry {run_id}" in out
    # The table: the missing output is the reason, not `exit 0`.
    row = next(line for line in out.splitlines() if line.startswith("lazy ")).split()
    assert row[:3] == ["lazy", "failed", "1"] and row[3].endswith("s")  # no exit, a duration
    assert row[4:7] == ["declared", "output", "'rows'"]
    after = next(line for line in out.splitlines() if line.startswith("after "))
    assert "upstream task 'crash' did not succeed" in after


def test_a_failed_run_says_why_in_run_and_show(cube_sqlite: Cube, tmp_path: Path) -> None:
    run_id, done = _run_failing(cube_sqlite, tmp_path)
    _check_report(done.stdout, run_id)
    shown = cube_sqlite("show", run_id)
    assert shown.returncode == 0, shown.stderr
    _check_report(shown.stdout, run_id)


def test_run_json_keeps_its_contract_on_failure(cube_sqlite: Cube, tmp_path: Path) -> None:
    result = cube_sqlite.json("run", str(pipeline(tmp_path, FAILING)), "--json", expect=1)
    assert set(result) == {"run_id", "status", "tasks"}
    assert all(set(task) == CONTRACT_TASK_KEYS for task in result["tasks"].values())


def test_show_lists_params_trigger_date_duration_and_value_outputs(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    run_id, _ = _run_failing(cube_sqlite, tmp_path)
    out = cube_sqlite("show", run_id).stdout
    assert f"run:            {run_id}\n" in out
    assert "pipeline:       fails\n" in out
    assert "trigger:        manual\n" in out
    assert "params:         lr=0.5 tag=nightly\n" in out
    assert "execution date: 20" in out and "duration:       " in out
    assert "value outputs:\n  count.n = n=******\n" in out  # masked like logs

    details = cube_sqlite.json("show", run_id, "--json", expect=0)
    contract = cube_sqlite.json("show", run_id, "--json", expect=0)
    assert set(details) >= {"run_id", "status", "tasks"}
    new = set(details) - {"run_id", "status", "tasks"}
    assert new == {
        "pipeline", "trigger", "execution_date", "params", "created_at", "started_at",
        "finished_at", "duration_s", "message",
    }  # fmt: skip
    assert details["params"] == {"lr": 0.5, "tag": "nightly"}
    assert details["trigger"] == "manual" and details["duration_s"] > 0
    assert details["execution_date"].endswith("+00:00")
    tasks = details["tasks"]
    assert tasks["count"]["outputs"] == {"n": "n=******"}
    assert tasks["lazy"]["message"].startswith("declared output 'rows' was not written")
    assert tasks["lazy"]["exit_code"] == 0  # the contract's keys keep their values
    assert tasks["crash"]["message"] == "exit code 3" and tasks["quiet"]["message"] is None
    for name, task in tasks.items():
        assert set(task) == CONTRACT_TASK_KEYS | {"message", "outputs"}, name
    assert contract == details


def test_a_run_timeout_is_the_reason_when_no_task_failed(cube_sqlite: Cube, tmp_path: Path) -> None:
    flow = pipeline(tmp_path, "name: t\ntimeout: 1s\ntasks:\n  - {name: a, command: sleep 30}\n")
    done = cube_sqlite("run", str(flow))
    assert done.returncode == 1
    assert "\nwhy it failed: the run timed out after 1s\n" in done.stdout
    a = next(line for line in done.stdout.splitlines() if line.startswith("a "))
    assert a.split()[1] == "stopped" and a.endswith("the run timed out")


def test_a_succeeded_run_shows_no_failure_report(cube_sqlite: Cube, tmp_path: Path) -> None:
    flow = pipeline(tmp_path, "name: ok\ntasks:\n  - {name: a, command: 'true'}\n")
    done = cube_sqlite("run", str(flow))
    assert done.returncode == 0
    assert "why it failed" not in done.stdout and "reason" not in done.stdout
    run_id = cube_sqlite.json("runs", "--json")[0]["run_id"]
    shown = cube_sqlite("show", run_id).stdout
    assert "why it failed" not in shown and "value outputs" not in shown
    assert "params:         (none)\n" in shown


def test_logs_of_a_task_that_never_ran(cube_sqlite: Cube, tmp_path: Path) -> None:
    run_id, _ = _run_failing(cube_sqlite, tmp_path)
    never = cube_sqlite("logs", run_id, "after")
    assert (never.returncode, never.stdout) == (1, "")
    assert never.stderr == (
        "task after never ran (it is upstream_failed: upstream task 'crash' did not succeed), "
        "so it has no log\n"
    )
    assert cube_sqlite("logs", run_id, "after", "-f").returncode == 1  # nothing to wait for
    ran = cube_sqlite("logs", run_id, "quiet")  # it ran and wrote nothing
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")


def test_stop_exits_0_after_the_engine_died(cube_sqlite: Cube, tmp_path: Path) -> None:
    flow = pipeline(
        tmp_path, f"name: long\ntasks:\n  - {{name: a, command: 'touch {tmp_path}/go; sleep 30'}}\n"
    )
    engine = cube_sqlite.popen("run", str(flow))
    wait_for(tmp_path / "go")
    os.kill(engine.pid, signal.SIGKILL)
    engine.communicate(timeout=10)
    run_id = cube_sqlite.json("runs", "--json")[0]["run_id"]
    stopped = cube_sqlite("stop", run_id)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stderr.endswith(f"run {run_id} stopped\n")


def test_version() -> None:
    done = subprocess.run([CUBE, "--version"], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, f"cube {version('cube-studio')}\n")


def test_shell_completion(tmp_path: Path) -> None:
    env = {**os.environ, "CUBE_HOME": str(tmp_path / "home")}
    script = subprocess.run(
        [CUBE, "--show-completion", "bash"], capture_output=True, text=True, env=env, timeout=30
    )
    assert script.returncode == 0 and "_CUBE_COMPLETE=complete_bash" in script.stdout
    # What the installed script asks: the words that complete `cube template de`.
    words = {"_CUBE_COMPLETE": "complete_bash", "COMP_WORDS": "cube template de", "COMP_CWORD": "2"}
    done = subprocess.run([CUBE], capture_output=True, text=True, env={**env, **words}, timeout=30)
    assert done.stdout.split() == ["delete"]


def test_make_help_prints_dollar_once() -> None:
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "initialise $CUBE_HOME" in done.stdout and "$$" not in done.stdout


def test_every_help_text_reads_well() -> None:
    """Each command has a one-line summary (the command list shows it; a wrapped one shows
    broken) and every option and argument says what it is."""
    root = typer.main.get_command(app)
    todo = [("cube", root)]
    while todo:
        path, command = todo.pop()
        summary = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert summary and "\n" not in summary, (path, summary)
        for param in command.params:
            if not getattr(param, "hidden", False):  # hidden ones are for tests
                assert getattr(param, "help", None), (path, param.name)
        todo += [(f"{path} {n}", c) for n, c in getattr(command, "commands", {}).items()]


def test_show_and_rerun_help(cube_sqlite: Cube) -> None:
    show = cube_sqlite("show", "--help", env={"COLUMNS": "200"}).stdout
    assert "when the run ends" not in show and "value outputs" in show
    rerun = cube_sqlite("rerun", "--help", env={"COLUMNS": "200"}).stdout
    assert "--from TASK" in rerun and "Run TASK and" not in rerun
