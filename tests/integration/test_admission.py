"""Admission through the real CLI (F13): tasks with resources wait for the pool and their
queue, get GPU indices through CUDA_VISIBLE_DEVICES, show why they wait, and two `cube run`
processes share one pool through the store (no GPU handed out twice)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import Cube
from tests.integration.helpers import pipeline, wait_for

POOL = {"CUBE_POOL_GPU": "4", "CUBE_POOL_CPU": "8"}


def _task(name: str, gpus: int, journal: Path, hold: float = 1.0) -> str:
    return f"""
  - name: {name}
    resources: {{gpu: {gpus}}}
    command: |
      echo "start $(date +%s.%N) {name} $CUDA_VISIBLE_DEVICES" >> {journal}
      sleep {hold}
      echo "end $(date +%s.%N) {name} $CUDA_VISIBLE_DEVICES" >> {journal}
"""


def _intervals(journal: Path) -> dict[str, tuple[float, float, frozenset[str]]]:
    starts: dict[str, tuple[float, frozenset[str]]] = {}
    out: dict[str, tuple[float, float, frozenset[str]]] = {}
    for line in journal.read_text().splitlines():
        kind, at, name, *devices = line.split()
        gpus = frozenset(devices[0].split(",")) if devices and devices[0] else frozenset()
        if kind == "start":
            starts[name] = (float(at), gpus)
        else:
            out[name] = (starts[name][0], float(at), starts[name][1])
    return out


def _assert_no_gpu_shared(intervals: dict[str, tuple[float, float, frozenset[str]]]) -> None:
    names = sorted(intervals)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (a0, a1, ga), (b0, b1, gb) = intervals[a], intervals[b]
            if a0 < b1 and b0 < a1:  # they ran at the same time
                assert not ga & gb, f"{a} and {b} shared GPU {sorted(ga & gb)}"


def test_gpu_tasks_wait_for_the_pool_and_get_distinct_indices(cube: Cube, tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    text = "name: gpus\ntasks:" + "".join(_task(n, 2, journal) for n in "abc")
    result = cube.json("run", str(pipeline(tmp_path, text)), "--json", env=POOL, expect=0)
    assert result["status"] == "succeeded"
    intervals = _intervals(journal)
    assert sorted(intervals) == ["a", "b", "c"]
    assert all(len(gpus) == 2 for _, _, gpus in intervals.values())
    _assert_no_gpu_shared(intervals)
    # four GPUs, three tasks of two: the third started only after one of the first ended
    (s0, e0, _), (s1, e1, _), (s2, _, _) = sorted(intervals.values())
    assert s2 >= min(e0, e1)


def test_a_waiting_task_says_why_in_show_and_runs_once_its_queue_allows(
    cube: Cube, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"
    assert cube("queue", "set", "default", "--gpu", "2").returncode == 0
    text = "name: big\ntasks:" + _task("big", 4, journal, hold=0.1)
    runner = cube.popen("run", str(pipeline(tmp_path, text)), "--json", env=POOL)
    try:
        reason = _wait_for_reason(cube)
        assert reason.startswith("queued: needs 4 gpu"), reason
        assert "default" in reason and "cube queue set" in reason, reason
        listed_runs = cube.json("runs", "--json", expect=0)
        assert listed_runs[0]["waiting"] == reason  # cube runs says why too
        assert "waiting" in cube("runs").stdout.splitlines()[0]
        assert not journal.exists()
        listed = cube.json("queue", "list", "--json", expect=0, env=POOL)
        assert [q["waiting"] for q in listed["queues"] if q["name"] == "default"] == [1]
        assert cube("queue", "set", "default", "--gpu", "none").returncode == 0
        out, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    assert runner.returncode == 0, err
    assert '"status": "succeeded"' in out
    assert "big" in _intervals(journal)


def _wait_for_reason(cube: Cube) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = cube.json("runs", "--json", expect=0)
        runs = listed["runs"] if isinstance(listed, dict) else listed
        if runs:
            run_id = runs[0]["run_id"] if "run_id" in runs[0] else runs[0]["id"]
            shown = cube.json("show", run_id, "--json", expect=0)
            message = shown["tasks"]["big"]["message"]
            if message:
                return str(message)
        time.sleep(0.2)
    raise AssertionError("the task never said why it waits")


def test_two_cube_run_processes_share_the_pool(cube: Cube, tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    first = pipeline(tmp_path, "name: one\ntasks:" + _task("one", 3, journal, 1.5), "one.yaml")
    second = pipeline(tmp_path, "name: two\ntasks:" + _task("two", 3, journal, 1.5), "two.yaml")
    runners = [cube.popen("run", str(first), "--json", env=POOL)]
    wait_for(journal)
    runners.append(cube.popen("run", str(second), "--json", env=POOL))
    for runner in runners:
        out, err = runner.communicate(timeout=60)
        assert runner.returncode == 0, err
    intervals = _intervals(journal)
    (_, first_end, _), (second_start, _, _) = intervals["one"], intervals["two"]
    assert second_start >= first_end, "three GPUs each of four: the second run waited for the first"
