"""Measure the local engine's per-task overhead: what `cube run` costs beyond the work itself.

Every task runs `true`, so a run's wall time is almost all engine: spec loading, the SQLite
store, scheduling, launching each process through the driver and recording its end. The
baseline is `xargs -P<parallelism> -n1 true` over the same number of processes, measured in
the same invocation of this script: it pays the unavoidable fork/exec cost at the same
concurrency on the same machine under the same load, so (t_cube - t_xargs) / tasks isolates
the engine's share and stays comparable across machines and noisy runs. With --repeat R, each
figure is the best of R, and the cube and xargs runs alternate, so that both meet the same load.

Two shapes are timed:
  * DAG: start -> N parallel tasks -> join -> a chain of 20 tasks (N + 22 tasks);
  * fan-out: start -> F parallel tasks -> join, which also reports the peak RSS of the
    `cube run` process (os.wait4 rusage) and the in-process time to load and validate the
    spec with load_pipeline (imports done beforehand, so import time is excluded).

The script prints figures beside their targets and exits 0; it exits 1 only if a run fails.
Usage: .venv/bin/python bench/engine_overhead.py [--sizes 200,1000] [--fanout 10000] [--repeat 3]
(the issue's figure, N=1000 best of 3: --sizes 1000 --fanout 0 --repeat 3)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cubestudio.spec.loader import load_pipeline

CUBE = Path(sys.executable).with_name("cube")
CHAIN = 20
TARGET_PER_TASK_MS = 3.0
TARGET_RSS_MB = 300.0
TARGET_VALIDATE_S = 1.0


def write_pipeline(path: Path, width: int, chain: int, parallelism: int) -> int:
    """Write start -> `width` parallel tasks -> join -> `chain` tasks; return the task count."""
    lines = [f"name: bench-{width}-{chain}", f"parallelism: {parallelism}", "tasks:"]
    lines += ["  - name: start", '    command: "true"']
    for i in range(width):
        lines += [f"  - name: p{i}", '    command: "true"', "    depends: [start]"]
    lines += ["  - name: join", '    command: "true"']
    lines.append("    depends: [" + ", ".join(f"p{i}" for i in range(width)) + "]")
    previous = "join"
    for i in range(chain):
        lines += [f"  - name: c{i}", '    command: "true"', f"    depends: [{previous}]"]
        previous = f"c{i}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return width + chain + 2


def time_cube(path: Path, expected_tasks: int) -> tuple[float, int]:
    """Run `cube run PATH --json` in a fresh CUBE_HOME; return (seconds, peak RSS in KiB)."""
    home = tempfile.mkdtemp(prefix="cube-bench-")
    try:
        env = {**os.environ, "CUBE_HOME": home}
        cmd = [str(CUBE), "run", str(path), "--json"]
        # Output goes to files, not pipes: Popen.communicate() would reap the child itself,
        # and wait4 must be the one to reap it to get its rusage.
        with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, env=env, stdout=out_f, stderr=err_f)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out_f.seek(0)
            err_f.seek(0)
            out, err = out_f.read(), err_f.read()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    try:
        result = json.loads(out)
    except json.JSONDecodeError:
        result = {}
    tasks = result.get("tasks", {})
    if proc.returncode != 0 or result.get("status") != "succeeded" or len(tasks) != expected_tasks:
        sys.stderr.write(err.decode(errors="replace")[-4000:])
        raise SystemExit(
            f"FAILED: {path.name}: exit {proc.returncode}, status {result.get('status')!r}, "
            f"{len(tasks)}/{expected_tasks} tasks in the JSON report"
        )
    return elapsed, usage.ru_maxrss  # ru_maxrss is KiB on Linux


def time_xargs(count: int, parallelism: int) -> float:
    """Time `xargs -P<parallelism> -n1 true` over `count` lines fed on stdin."""
    data = "".join(f"{i}\n" for i in range(count)).encode()
    start = time.perf_counter()
    subprocess.run(["xargs", f"-P{parallelism}", "-n1", "true"], input=data, check=True)
    return time.perf_counter() - start


def best_of(repeat: int, path: Path, tasks: int, parallelism: int) -> tuple[float, int, float]:
    """(cube seconds, peak RSS in KiB, xargs seconds): the best of ``repeat`` runs each, cube
    and xargs alternating so that a change in the machine's load meets both."""
    t_cube, rss_kib, t_xargs = float("inf"), 0, float("inf")
    for _ in range(repeat):
        seconds, rss = time_cube(path, tasks)
        t_cube, rss_kib = min(t_cube, seconds), max(rss_kib, rss)
        t_xargs = min(t_xargs, time_xargs(tasks, parallelism))
    return t_cube, rss_kib, t_xargs


def per_task_ms(t_cube: float, t_xargs: float, tasks: int) -> float:
    return (t_cube - t_xargs) / tasks * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1000", help="comma-separated DAG widths N")
    parser.add_argument("--fanout", type=int, default=10_000, help="fan-out width (0: skip)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (best kept)")
    parser.add_argument("--parallelism", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows: list[tuple[str, str, str]] = []  # (figure, value, target)

    with tempfile.TemporaryDirectory(prefix="cube-bench-specs-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"dag-{n}.yaml"
            tasks = write_pipeline(path, n, CHAIN, args.parallelism)
            t_cube, _, t_xargs = best_of(args.repeat, path, tasks, args.parallelism)
            ms = per_task_ms(t_cube, t_xargs, tasks)
            print(
                f"dag N={n} ({tasks} tasks): cube {t_cube:.2f} s, xargs {t_xargs:.2f} s, "
                f"overhead {ms:.2f} ms/task",
                flush=True,
            )
            target = f"<= {TARGET_PER_TASK_MS:g} ms" if n == 1000 else ""
            rows += [
                (f"dag N={n}: cube run total", f"{t_cube:.2f} s", ""),
                (f"dag N={n}: xargs baseline", f"{t_xargs:.2f} s", ""),
                (f"dag N={n}: overhead per task", f"{ms:.2f} ms", target),
            ]

        if args.fanout > 0:
            path = Path(tmp) / f"fanout-{args.fanout}.yaml"
            tasks = write_pipeline(path, args.fanout, 0, args.parallelism)
            start = time.perf_counter()
            load_pipeline(path)
            t_validate = time.perf_counter() - start
            t_cube, rss_kib, t_xargs = best_of(args.repeat, path, tasks, args.parallelism)
            ms = per_task_ms(t_cube, t_xargs, tasks)
            print(
                f"fan-out {args.fanout} ({tasks} tasks): cube {t_cube:.2f} s, xargs "
                f"{t_xargs:.2f} s, overhead {ms:.2f} ms/task, peak RSS {rss_kib / 1024:.0f} MB,"
                f" validate {t_validate:.3f} s",
                flush=True,
            )
            rows += [
                (f"fan-out {args.fanout}: cube run total", f"{t_cube:.2f} s", ""),
                (f"fan-out {args.fanout}: xargs baseline", f"{t_xargs:.2f} s", ""),
                (
                    f"fan-out {args.fanout}: overhead per task",
                    f"{ms:.2f} ms",
                    f"<= {TARGET_PER_TASK_MS:g} ms",
                ),
                (
                    f"fan-out {args.fanout}: peak RSS of cube run",
                    f"{rss_kib / 1024:.0f} MB",
                    f"< {TARGET_RSS_MB:g} MB",
                ),
                (
                    f"fan-out {args.fanout}: load_pipeline (no import)",
                    f"{t_validate:.3f} s",
                    f"< {TARGET_VALIDATE_S:g} s",
                ),
            ]

    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure':<{width}}  {'value':>10}  target")
    print("-" * (width + 22))
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>10}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
