"""`cube logs` through the real CLI: tail, grep, since, masking and following, on runs made by
the real engine and logs extended by the test where a large or timed log is needed."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from pathlib import Path

from cubestudio.logs import append_index
from tests.conftest import CUBE, Cube
from tests.integration.helpers import pipeline, wait_for

STEPS = "".join(f"echo step {i}{' loss=0.' + str(i) if i % 5 == 0 else ''}; " for i in range(1, 31))


def finished_run(cube: Cube, tmp_path: Path) -> str:
    file = pipeline(
        tmp_path,
        f"name: finished\ntasks:\n  - name: train\n    command: '{STEPS}'\n"
        "  - {name: eval, command: 'echo eval done', depends: [train]}\n",
    )
    return str(cube.json("run", str(file), "--json", expect=0)["run_id"])


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_tail_and_grep(cube_sqlite: Cube, tmp_path: Path) -> None:
    run_id = finished_run(cube_sqlite, tmp_path)
    assert lines(cube_sqlite("logs", run_id, "train", "--tail", "2")) == [
        "step 29",
        "step 30 loss=0.30",
    ]
    assert lines(cube_sqlite("logs", run_id, "train", "--grep", r"loss=0\.[12]")) == [
        "step 10 loss=0.10",
        "step 15 loss=0.15",
        "step 20 loss=0.20",
        "step 25 loss=0.25",
    ]
    assert lines(cube_sqlite("logs", run_id, "--tail", "2", "--grep", "loss|done")) == [
        "train | step 25 loss=0.25",
        "train | step 30 loss=0.30",
        "eval  | eval done",
    ]
    assert lines(cube_sqlite("logs", run_id, "train", "-n", "0")) == []


def test_bad_options_are_one_line_errors(cube_sqlite: Cube, tmp_path: Path) -> None:
    run_id = finished_run(cube_sqlite, tmp_path)
    for args, expected in [
        (["--grep", "loss=("], "error: --grep: 'loss=(' is not a valid regular expression: "),
        (["--since", "ten minutes"], "error: --since: 'ten minutes' is not a duration"),
        (["trian"], "error: run {run} has no task 'trian' (did you mean 'train'?)"),
        (
            ["train", "--attempt", "2"],
            "error: task 'train' has 1 attempt(s); there is no attempt 2",
        ),
    ]:
        result = cube_sqlite("logs", run_id, *args)
        assert result.returncode == 2, args
        assert result.stderr.startswith(expected.format(run=run_id)), result.stderr
        assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_since_with_and_without_a_time_index(cube_sqlite: Cube, tmp_path: Path) -> None:
    run_id = finished_run(cube_sqlite, tmp_path)
    folder = cube_sqlite.attempt_dir(run_id, "train")
    (folder / "log.index").unlink(missing_ok=True)  # as an older run, from before the index
    # Without an index: whole attempts that overlap the window, else nothing.
    assert len(lines(cube_sqlite("logs", run_id, "--since", "1h"))) == 31
    assert lines(cube_sqlite("logs", run_id, "--since", "0s")) == []
    # With an index: the log was 8 bytes ("step 1\ns") 100 s ago and complete 5 s ago, so a
    # 1-minute window starts at the first whole line after byte 8.
    append_index(folder, time.time() - 100, 8)
    append_index(folder, time.time() - 5, (folder / "log").stat().st_size)
    recent = lines(cube_sqlite("logs", run_id, "train", "--since", "1m", "--tail", "100"))
    assert recent[0] == "step 3" and recent[-1] == "step 30 loss=0.30" and len(recent) == 28


def test_secret_env_is_masked_when_shown_and_when_followed(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    file = pipeline(
        tmp_path,
        f"""
name: masked
env:
  TOKEN: {{secret: true, value: s3cr3t-v4lue}}
tasks:
  - name: a
    command: |
      touch {tmp_path}/started; echo token=$TOKEN
      while [ ! -e {tmp_path}/go ]; do sleep 0.05; done; echo again $TOKEN end
""",
    )
    engine = cube_sqlite.popen("run", str(file), "--json")
    wait_for(tmp_path / "started")
    run_id = cube_sqlite.json("runs", "--json")[0]["run_id"]
    follower = cube_sqlite.popen("logs", run_id, "a", "-f")
    (tmp_path / "go").touch()
    followed, _ = follower.communicate(timeout=30)
    engine.communicate(timeout=30)
    assert followed == "token=******\nagain ****** end\n"
    assert lines(cube_sqlite("logs", run_id, "a", "--grep", "s3cr3t")) == []
    assert lines(cube_sqlite("logs", run_id, "--tail", "5")) == [
        "a | token=******",
        "a | again ****** end",
    ]


def test_following_every_task_interleaves_lines_as_they_arrive(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    wait = "while [ ! -e {0} ]; do sleep 0.05; done"
    file = pipeline(
        tmp_path,
        f"""
name: stern
tasks:
  - name: a
    command: touch {tmp_path}/started; echo a1; {wait.format(tmp_path / "go-a")}; echo a2
  - name: b
    command: {wait.format(tmp_path / "go-b")}; echo b1
""",
    )
    engine = cube_sqlite.popen("run", str(file), "--json")
    wait_for(tmp_path / "started")
    run_id = cube_sqlite.json("runs", "--json")[0]["run_id"]
    follower = cube_sqlite.popen("logs", run_id, "-f")
    received = _line_queue(follower)
    # Each line is released only once the follower has shown the one before it.
    assert received.get(timeout=20) == "a | a1\n"
    (tmp_path / "go-b").touch()
    assert received.get(timeout=20) == "b | b1\n"
    (tmp_path / "go-a").touch()
    assert received.get(timeout=20) == "a | a2\n"
    assert follower.wait(timeout=30) == 0
    engine.communicate(timeout=30)


def test_an_earlier_attempt_shown_and_followed(cube_sqlite: Cube, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    file = pipeline(
        tmp_path,
        f"""
name: flaky
tasks:
  - name: a
    retries: 1
    command: |
      echo try >> {counter}; n=$(wc -l < {counter}); echo attempt $n; [ $n -ge 2 ]
""",
    )
    run_id = cube_sqlite.json("run", str(file), "--json", expect=0)["run_id"]
    first = lines(cube_sqlite("logs", run_id, "a", "--attempt", "1"))
    assert first[0] == "attempt 1" and "[cube] attempt 1 failed" in first[1]
    assert lines(cube_sqlite("logs", run_id, "a", "--attempt", "1", "-f")) == first
    assert lines(cube_sqlite("logs", run_id, "a")) == ["attempt 2"]


def test_a_reader_that_stops_early_is_no_error(cube_sqlite: Cube, tmp_path: Path) -> None:
    run_id = finished_run(cube_sqlite, tmp_path)
    with open(cube_sqlite.attempt_dir(run_id, "train") / "log", "ab") as log:
        log.write(b"filler line to outgrow the pipe buffer\n" * 50_000)
    result = subprocess.run(
        f"'{CUBE}' logs {run_id} | head -n 1",
        shell=True,
        env=cube_sqlite.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == "train | step 1\n" and result.stderr == ""


def _line_queue(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stdout lines as they come, so a test can wait for one with a timeout."""
    received: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            received.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return received


def test_secret_env_values_are_masked_in_every_log_line(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = tmp_path / "secret.yaml"
    file.write_text(
        """
name: secret
env:
  TOKEN: {secret: true, from_env: MY_TOKEN}
  PASSWORD: {secret: true, value: hunter2}
tasks:
  - name: leak
    command: echo "token=$TOKEN password=$PASSWORD"; echo "$TOKEN" >&2
"""
    )
    missing = cube_sqlite("run", str(file))
    assert missing.returncode == 2
    assert "env.TOKEN: secret from_env MY_TOKEN is not set in this environment" in missing.stderr
    result = cube_sqlite.json("run", str(file), "--json", env={"MY_TOKEN": "tok-123"}, expect=0)
    shown = cube_sqlite("logs", result["run_id"], "leak").stdout
    assert shown == "token=****** password=******\n******\n"
    assert "tok-123" not in cube_sqlite("logs", result["run_id"], "--grep", "tok").stdout
    kept = cube_sqlite.home / "runs" / result["run_id"] / "secrets.json"
    assert kept.stat().st_mode & 0o777 == 0o600
