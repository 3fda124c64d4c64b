"""Measure what resource monitoring costs: percent of one core per running task.

Two figures:
  * end to end: `cube run` of N parallel tasks that sleep, once with sampling on
    (CUBE_MONITOR_INTERVAL=1) and once off (0), alternating, best of --repeat. Once every task
    runs (and the first samples are past), the `cube run` process's own CPU time (user +
    system, its tasks excluded) is read over a --window of seconds; (on - off) / window / N
    is the sampling's share per running task, store writes included;
  * in process: the sampler and recorder alone (MetricsRecorder with the real TreeSampler and
    a SQLite store, one round a second on an injected clock, a batch every 2 s) over N real
    process trees (sh -> sleep, as the driver's wrapper makes them): CPU time per round / N.

Target: under 1% of a core per running task. Prints the figures and exits 0 (1 if a run
fails). Usage: .venv/bin/python bench/monitoring.py [--tasks 20] [--window 10] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from cubestudio.engine.launcher import AttemptKey
from cubestudio.monitor.recorder import MetricsRecorder
from cubestudio.store.db import Database

CUBE = Path(sys.executable).with_name("cube")
TARGET_PERCENT = 1.0


def _pipeline(folder: Path, tasks: int, seconds: float) -> Path:
    lines = ["name: sleepers", f"parallelism: {tasks}", "tasks:"]
    lines += [f"  - name: t{i}\n    command: sleep {seconds}" for i in range(tasks)]
    path = folder / "sleepers.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _engine_cpu(tasks: int, window: float, monitor: bool) -> float:
    """Cores the `cube run` process used while ``tasks`` tasks slept."""
    folder = Path(tempfile.mkdtemp(prefix="cube-bench-monitor-"))
    try:
        path = _pipeline(folder, tasks, window + 8)
        env = {**os.environ, "CUBE_HOME": str(folder / "home")}
        env["CUBE_MONITOR_INTERVAL"] = "1" if monitor else "0"
        env.pop("CUBE_DATABASE_URL", None)
        proc = subprocess.Popen([CUBE, "run", str(path)], env=env, stdout=subprocess.DEVNULL)
        runs = folder / "home" / "runs"
        deadline = time.monotonic() + 30
        while len(list(runs.glob("*/*/1/started"))) < tasks:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the tasks did not start")
            time.sleep(0.05)
        time.sleep(3.0)  # past the first samples and the first batch
        me = psutil.Process(proc.pid)
        before, start = me.cpu_times(), time.monotonic()
        time.sleep(window)
        after, end = me.cpu_times(), time.monotonic()
        if proc.wait(timeout=window + 60) != 0:
            raise SystemExit(1)
        used = (after.user + after.system) - (before.user + before.system)
        return used / (end - start)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _in_process(tasks: int, rounds: int) -> float:
    """Percent of a core per task of the recorder (sampling + batched writes) at 1 Hz."""
    folder = Path(tempfile.mkdtemp(prefix="cube-bench-monitor-"))
    procs = [
        subprocess.Popen(["sh", "-c", "sleep 600; true"], start_new_session=True)
        for _ in range(tasks)
    ]
    try:
        db = Database(f"sqlite:///{folder / 'cube.db'}")
        db.ensure_schema()
        clock = [time.time()]
        recorder = MetricsRecorder(lambda: db, clock=lambda: clock[0])
        roots = {AttemptKey("bench", f"t{i}", 1): p.pid for i, p in enumerate(procs)}
        recorder.sample(roots)  # the first round opens what later rounds reuse
        start = time.process_time()
        for _ in range(rounds):
            clock[0] += 1.0
            recorder.sample(roots)
        used = time.process_time() - start
        recorder.close()
        return 100.0 * used / rounds / tasks
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=120)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    own = _in_process(args.tasks, args.rounds)
    print(f"in process: sampler + recorder, {args.tasks} trees, {args.rounds} rounds at 1 Hz: "
          f"{own:.3f}% of a core per task (target < {TARGET_PERCENT}%)")  # fmt: skip
    on, off = [], []
    for _ in range(args.repeat):
        on.append(_engine_cpu(args.tasks, args.window, monitor=True))
        off.append(_engine_cpu(args.tasks, args.window, monitor=False))
    best_on, best_off = min(on), min(off)
    per_task = 100.0 * (best_on - best_off) / args.tasks
    print(f"cube run, {args.tasks} sleeping tasks, {args.window:g}s window, best of "
          f"{args.repeat}: engine {100 * best_off:.2f}% of a core with sampling off, "
          f"{100 * best_on:.2f}% on")  # fmt: skip
    print(f"sampling overhead: {per_task:.3f}% of a core per running task "
          f"(target < {TARGET_PERCENT}%)")  # fmt: skip


if __name__ == "__main__":
    main()
