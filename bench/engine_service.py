"""Measure the engine service driving many runs at once: one `cube engine` on SQLite.

RUNS runs of TASKS tasks each (start -> TASKS-2 parallel tasks -> join, every command `true`,
parallelism 2 per run) are submitted at once to one `cube engine` in a fresh CUBE_HOME. The
baseline is `xargs -P2 -n1 true` over the same number of processes (RUNS x TASKS), measured in
the same invocation, so (t_engine - t_xargs) / processes isolates the engine's share, as in
bench/engine_overhead.py. With --repeat R the engine and xargs runs alternate and each time is
the best of R (the peak RSS is the highest seen).

Submitting "at once": `cube submit` is a new Python process per run (about 0.5 s of start-up
each), which is not what is measured here. The script creates every run in ONE transaction
through the library (cubestudio.engine.lifecycle.insert_new_run, what create_run and
`cube submit` use), then wakes the engine the way `cube submit` does (wakeup.poke), so the
engine sees all of them at the same moment.

Figures:
  * per-task overhead: engine wall time (the commit of the submissions to the engine's
    "finished" log line of the last run) minus the xargs time, per process;
  * the engine's own CPU time per task (user + system, /proc/PID/stat, the tasks excluded):
    on a loaded machine it moves much less than wall times do;
  * the engine's peak RSS: VmHWM of the engine process (/proc/PID/status) just before it is
    stopped with SIGTERM (it must then exit 0);
  * submit -> first task started, p50 / p99 over the runs: the time the first task's process
    started (the mtime of the `started` file its wrapper creates as its first act; the
    kernel's file clock is coarse, a few ms) minus the time the submissions committed. The
    store's attempt.started_at is not used: it is the clock of the engine's turn, read
    before the turn's claims and loads, so it says nothing of when the process started.
    Beside it, submit -> claimed: when the engine's "claim" log line for the run arrived,
    which splits the latency into claiming and loading + launching. In a burst the last
    run waits for every launch before its own: the p50 is about half the burst's launches;
  * the same latency for runs submitted one at a time to the engine once the burst is
    over (each after the previous one's first task started): what a user who submits a
    run sees, the wake-up (scope 2 of the engine-service issue) included.

The script exits 0, or 1 if a run does not succeed or the engine does not stop cleanly.
--profile FILE runs the engine under cProfile (written when SIGTERM stops it) and prints the
top of the profile. Usage:
  .venv/bin/python bench/engine_service.py [--runs 200] [--tasks 10] [--repeat 2]
  .venv/bin/python bench/engine_service.py --quick          # a smoke test: 10 runs x 5 tasks
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cubestudio.cli.setup import open_db
from cubestudio.engine.lifecycle import create_run, insert_new_run, summary
from cubestudio.engine.wakeup import poke
from cubestudio.settings import Settings
from cubestudio.spec.loader import load_pipeline

CUBE = Path(sys.executable).with_name("cube")
PARALLELISM = 2
TARGET_PER_TASK_MS = 3.0
TARGET_RSS_MB = 300.0
P50_MS = 100.0  # targets of submit -> first task started
P99_MS = 500.0
START_TIMEOUT_S = 60.0
SINGLE = 30  # runs submitted one at a time after the burst


def write_pipeline(path: Path, tasks: int) -> None:
    """start -> tasks-2 parallel tasks -> join (``start`` alone for 1 task)."""
    lines = ["name: bench-service", f"parallelism: {PARALLELISM}", "tasks:"]
    lines += ["  - name: start", '    command: "true"']
    middle = [f"p{i}" for i in range(max(0, tasks - 2))]
    for name in middle:
        lines += [f"  - name: {name}", '    command: "true"', "    depends: [start]"]
    if tasks >= 2:
        lines += ["  - name: join", '    command: "true"']
        lines.append("    depends: [" + ", ".join(middle or ["start"]) + "]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class EngineLog:
    """The engine's stderr, read on a thread (so its pipe never fills), with the time each
    run's "finished" line arrived."""

    started: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)
    finished: dict[str, tuple[float, str]] = field(default_factory=dict)
    claimed: dict[str, float] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    def wait_finished(self, ids: list[str], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: all(i in self.finished for i in ids), timeout)

    def follow(self, stream: Any) -> None:
        for line in stream:
            received = time.time()
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if not isinstance(record, dict):
                self.other.append(line.rstrip())
                continue
            event = record.get("event")
            if event == "engine_started":
                self.started.set()
            elif event == "finished":
                with self.changed:
                    self.finished[record["run"]] = (received, record.get("status", "?"))
                    self.changed.notify_all()
            elif event == "claim":
                self.claimed[record["run"]] = received
            elif event not in ("released", "engine_stopped"):
                self.other.append(line.rstrip())


@dataclass
class Result:
    seconds: float
    rss_kib: int
    cpu_s: float  # the engine's own CPU time (user + system) while it drove the runs
    latency_ms: list[float]  # to the process start of each run's first task
    claim_ms: list[float]  # to the engine's "claim" log line of each run
    single_ms: list[float]  # to the first task's start, runs submitted one at a time


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process itself (not its children), from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit(f"FAILED: no VmHWM in /proc/{pid}/status")


def stop_engine(proc: subprocess.Popen[str]) -> int:
    """SIGTERM, as a service manager would; SIGKILL only if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9


def time_engine(path: Path, runs: int, tasks: int, timeout: float, profile: Path | None) -> Result:
    home = Path(tempfile.mkdtemp(prefix="cube-bench-service-"))
    env = {k: v for k, v in os.environ.items() if k != "CUBE_DATABASE_URL"}  # SQLite
    env["CUBE_HOME"] = str(home)
    if profile is None:
        cmd = [str(CUBE), "engine", "--id", "bench"]
    else:
        cmd = [sys.executable, "-m", "cProfile", "-o", str(profile)]
        cmd += ["-m", "cubestudio.cli.main", "engine", "--id", "bench"]
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = EngineLog()
    reader = threading.Thread(target=log.follow, args=(proc.stderr,), daemon=True)
    reader.start()
    try:
        if not log.started.wait(START_TIMEOUT_S):
            raise SystemExit("FAILED: the engine did not start:\n" + "\n".join(log.other[-20:]))
        settings = Settings(home=home, database_url=None)
        db = open_db(settings)
        spec = load_pipeline(path)
        # A warm-up run first: a service that has been up a while has made its lazy imports
        # and its first connections, which the first run would otherwise pay for alone.
        warm_up = create_run(db, spec=spec, params={}, now=datetime.now(UTC))
        poke(settings.home_dir)
        if not log.wait_finished([warm_up], START_TIMEOUT_S):
            raise SystemExit("FAILED: the warm-up run did not end:\n" + "\n".join(log.other[-20:]))
        cpu_before = cpu_seconds(proc.pid)
        now = datetime.now(UTC)
        with db.begin() as conn:  # every run in one transaction: submitted at once
            ids = [insert_new_run(conn, spec=spec, params={}, now=now) for _ in range(runs)]
        committed = time.time()
        poke(settings.home_dir)
        if not log.wait_finished(ids, timeout):
            done = sum(i in log.finished for i in ids)
            raise SystemExit(
                f"FAILED: {done}/{runs} runs finished in {timeout:g} s:\n"
                + "\n".join(log.other[-20:])
            )
        seconds = max(log.finished[i][0] for i in ids) - committed
        cpu_s = cpu_seconds(proc.pid) - cpu_before
        single = one_at_a_time(db, spec, settings, log)
        rss_kib = vm_hwm_kib(proc.pid)
        code = stop_engine(proc)
        reader.join(timeout=10)
        if code != 0:
            raise SystemExit(
                f"FAILED: the engine exited {code} on SIGTERM:\n" + "\n".join(log.other[-20:])
            )
        latency = first_starts(settings, ids, committed)
        claim_ms = [(log.claimed[run_id] - committed) * 1000 for run_id in ids]
        check_runs(db, ids, tasks, log)
        db.engine.dispose()
    finally:
        if proc.poll() is None:
            stop_engine(proc)
        shutil.rmtree(home, ignore_errors=True)
    return Result(seconds, rss_kib, cpu_s, latency, claim_ms, single)


def first_starts(settings: Settings, ids: list[str], committed: float) -> list[float]:
    """Per run: ms from the commit to its first task's process start (the wrapper's first
    act is to create `started`)."""
    out = []
    for run_id in ids:
        started = settings.runs_dir / run_id / "start" / "1" / "started"
        out.append((started.stat().st_mtime_ns / 1e9 - committed) * 1000)
    return out


def one_at_a_time(db: Any, spec: Any, settings: Settings, log: EngineLog) -> list[float]:
    """Submit SINGLE runs one after the other to the idle engine, each once the previous
    one's first task started: submit -> first task started as a user sees it. The runs
    then finish before the engine is stopped."""
    out, ids = [], []
    for _ in range(SINGLE):
        with db.begin() as conn:
            run_id = insert_new_run(conn, spec=spec, params={}, now=datetime.now(UTC))
        committed = time.time()
        poke(settings.home_dir)
        started = settings.runs_dir / run_id / "start" / "1" / "started"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not started.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"FAILED: run {run_id} did not start in {START_TIMEOUT_S:g} s")
            time.sleep(0.001)
        out.append((started.stat().st_mtime_ns / 1e9 - committed) * 1000)
        ids.append(run_id)
    if not log.wait_finished(ids, START_TIMEOUT_S):
        raise SystemExit("FAILED: the runs submitted one at a time did not end")
    return out


def check_runs(db: Any, ids: list[str], tasks: int, log: EngineLog) -> None:
    for run_id in ids:
        result = summary(db, run_id)
        bad = [n for n, t in result["tasks"].items() if t["status"] != "succeeded"]
        if result["status"] != "succeeded" or len(result["tasks"]) != tasks or bad:
            raise SystemExit(
                f"FAILED: run {run_id} {result['status']}, {len(result['tasks'])}/{tasks} "
                f"tasks, not succeeded: {bad}\n" + "\n".join(log.other[-20:])
            )


def time_xargs(count: int) -> float:
    """Time `xargs -P2 -n1 true` over `count` lines fed on stdin."""
    data = "".join(f"{i}\n" for i in range(count)).encode()
    start = time.perf_counter()
    subprocess.run(["xargs", f"-P{PARALLELISM}", "-n1", "true"], input=data, check=True)
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank): p99 of 200 values is the 198th smallest."""
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, round(q / 100 * len(ranked)) - 1))]


def print_profile(path: Path) -> None:
    print(f"\nprofile of the engine process ({path}), top 25 by cumulative time:")
    pstats.Stats(str(path), stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    print("top 25 by own time:")
    pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs submitted at once")
    parser.add_argument("--tasks", type=int, default=10, help="tasks per run")
    parser.add_argument("--repeat", type=int, default=1, help="measurements (best kept)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 10 runs x 5 tasks")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for all runs")
    parser.add_argument("--profile", type=Path, help="run the engine under cProfile into FILE")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.tasks, args.repeat = 10, 5, 1
    if args.runs < 1 or args.tasks < 1 or args.repeat < 1:
        parser.error("--runs, --tasks and --repeat must be at least 1")
    processes = args.runs * args.tasks

    best: Result | None = None
    t_xargs, rss_kib, cpu_best = float("inf"), 0, float("inf")
    with tempfile.TemporaryDirectory(prefix="cube-bench-service-spec-") as tmp:
        path = Path(tmp) / "bench-service.yaml"
        write_pipeline(path, args.tasks)
        for _ in range(args.repeat):
            result = time_engine(path, args.runs, args.tasks, args.timeout, args.profile)
            xargs = time_xargs(processes)
            p50, p99 = percentile(result.latency_ms, 50), percentile(result.latency_ms, 99)
            print(
                f"{args.runs} runs x {args.tasks} tasks: engine {result.seconds:.2f} s, xargs "
                f"{xargs:.2f} s, overhead {(result.seconds - xargs) / processes * 1000:.2f} "
                f"ms/task, peak RSS {result.rss_kib / 1024:.0f} MB, first task p50 {p50:.0f} "
                f"ms p99 {p99:.0f} ms",
                flush=True,
            )
            t_xargs, rss_kib = min(t_xargs, xargs), max(rss_kib, result.rss_kib)
            cpu_best = min(cpu_best, result.cpu_s)
            if best is None or result.seconds < best.seconds:
                best = result
    assert best is not None
    ms = (best.seconds - t_xargs) / processes * 1000
    cpu_ms = cpu_best / processes * 1000
    lat = best.latency_ms
    claimed = best.claim_ms
    one = best.single_ms
    label = f"{args.runs} runs x {args.tasks} tasks"
    rows = [
        (f"{label}: engine total", f"{best.seconds:.2f} s", ""),
        (f"{label}: xargs -P{PARALLELISM} baseline", f"{t_xargs:.2f} s", ""),
        ("overhead per task", f"{ms:.2f} ms", f"<= {TARGET_PER_TASK_MS:g} ms"),
        ("engine CPU time per task", f"{cpu_ms:.2f} ms", ""),
        ("peak RSS of cube engine (VmHWM)", f"{rss_kib / 1024:.0f} MB", f"< {TARGET_RSS_MB:g} MB"),
        ("submit -> first task started p50", f"{percentile(lat, 50):.0f} ms", f"{P50_MS:g} ms"),
        ("submit -> first task started p99", f"{percentile(lat, 99):.0f} ms", f"{P99_MS:g} ms"),
        ("submit -> first task started min / max", f"{min(lat):.0f}/{max(lat):.0f} ms", ""),
        ("  of which submit -> claimed p50", f"{percentile(claimed, 50):.0f} ms", ""),
        ("  of which submit -> claimed p99", f"{percentile(claimed, 99):.0f} ms", ""),
        (f"one run at a time ({SINGLE}): first task p50", f"{percentile(one, 50):.0f} ms",
         f"{P50_MS:g} ms"),
        (f"one run at a time ({SINGLE}): first task p99", f"{percentile(one, 99):.0f} ms",
         f"{P99_MS:g} ms"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n(load average {load} on {os.cpu_count()} CPUs: wall times and latencies move with it)"
    )
    print(f"{'figure':<{width}}  {'value':>10}  target")
    print("-" * (width + 22))
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>10}  {target}")
    if args.profile is not None:
        print_profile(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
