"""Real pipelines, real processes, every backend: retries, parallelism, failures, resume."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cube
from tests.integration.helpers import count, pipeline


def test_retries_are_counted_by_the_task_itself(cube: Cube, tmp_path: Path) -> None:
    counter = tmp_path / "flaky.count"
    file = pipeline(
        tmp_path,
        f"""
name: flaky
tasks:
  - name: flaky
    retries: 3
    command: echo x >> {counter}; [ $(wc -l < {counter}) -ge 3 ]
""",
    )
    result = cube.json("run", str(file), "--json", expect=0)
    assert count(counter) == 3
    assert result["tasks"]["flaky"]["attempts"] == 3
    assert result["tasks"]["flaky"]["exit_code"] == 0


def test_parallelism_is_never_exceeded(cube: Cube, tmp_path: Path) -> None:
    stamps = tmp_path / "stamps"
    tasks = "\n".join(
        f"  - name: t{i}\n    command: echo start $(date +%s.%N) >> {stamps}; sleep 0.3; "
        f"echo end $(date +%s.%N) >> {stamps}"
        for i in range(6)
    )
    file = pipeline(tmp_path, f"name: par\nparallelism: 2\ntasks:\n{tasks}\n")
    cube.json("run", str(file), "--json", expect=0)
    events = sorted(
        (float(t), 1 if kind == "start" else -1)
        for kind, t in (line.split() for line in stamps.read_text().splitlines())
    )
    running = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts on ties
        running += delta
        peak = max(peak, running)
    assert len(events) == 12
    assert peak == 2  # the slots were used, and never more


def test_a_failure_leaves_independent_branches_running(cube: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        """
name: branches
tasks:
  - {name: bad, command: "echo boom >&2; exit 3"}
  - {name: after-bad, command: "true", depends: [bad]}
  - {name: good, command: "sleep 0.2"}
  - {name: after-good, command: "true", depends: [good]}
""",
    )
    result = cube.json("run", str(file), "--json", expect=1)
    tasks = result["tasks"]
    assert result["status"] == "failed"
    assert tasks["bad"]["status"] == "failed" and tasks["bad"]["exit_code"] == 3
    assert tasks["after-bad"]["status"] == "upstream_failed"
    assert tasks["after-bad"]["started_at"] is None
    assert tasks["after-good"]["status"] == "succeeded"
    logs = cube("logs", result["run_id"], "bad")
    assert "boom" in logs.stdout and "exit code 3" in logs.stdout


def test_retry_reruns_failed_tasks_and_keeps_what_succeeded(cube: Cube, tmp_path: Path) -> None:
    flag = tmp_path / "fixed"
    file = pipeline(
        tmp_path,
        f"""
name: resume-me
tasks:
  - name: expensive
    outputs: [model]
    command: echo x >> {tmp_path}/expensive.count; echo m1 > $CUBE_OUTPUTS/model
  - name: fragile
    depends: [expensive]
    command: echo x >> {tmp_path}/fragile.count; test -f {flag}
  - name: report
    depends: [fragile]
    command: echo "{{{{ tasks.expensive.outputs.model }}}}" > {tmp_path}/report.txt
""",
    )
    first = cube.json("run", str(file), "--json", expect=1)
    assert first["tasks"]["report"]["status"] == "upstream_failed"
    flag.touch()
    second = cube.json("retry", first["run_id"], "--json", expect=0)
    assert second["run_id"] == first["run_id"]  # new attempts in the same run
    assert count(tmp_path / "expensive.count") == 1  # never re-run
    assert count(tmp_path / "fragile.count") == 2
    assert second["tasks"]["fragile"]["attempts"] == 2
    assert (tmp_path / "report.txt").read_text() == "m1\n"  # outputs of kept tasks stay valid
    again = cube("retry", first["run_id"])
    assert again.returncode == 2 and "nothing to retry" in again.stderr


def test_rerun_from_a_task_runs_it_and_its_descendants(cube: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        f"""
name: rerun
tasks:
  - {{name: a, command: "echo x >> {tmp_path}/a"}}
  - {{name: b, command: "echo x >> {tmp_path}/b", depends: [a]}}
  - {{name: c, command: "echo x >> {tmp_path}/c", depends: [b]}}
  - {{name: d, command: "echo x >> {tmp_path}/d", depends: [a]}}
""",
    )
    first = cube.json("run", str(file), "--json", expect=0)
    result = cube.json("rerun", first["run_id"], "--from", "b", "--json", expect=0)
    runs = {name: count(tmp_path / name) for name in "abcd"}
    assert runs == {"a": 1, "b": 2, "c": 2, "d": 1}
    assert result["tasks"]["c"]["attempts"] == 2
    typo = cube("rerun", first["run_id"], "--from", "bb")
    assert typo.returncode == 2
    assert "no task 'bb' (did you mean 'b'?)" in typo.stderr
