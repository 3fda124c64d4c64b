"""Measure the REST API under load: a live `cube server` on SQLite holding 100 pipelines and
10,000 runs, with concurrent clients.

Set-up: a fresh CUBE_HOME; 100 pipelines saved as versions and 10,000 finished runs of them
(3 tasks each, with attempts) written straight into the store (what months of use leave), then
`cube server --no-engine --no-scheduler` (one uvicorn process) and an API token.

Figures, each over --seconds of closed-loop load by --concurrency clients (asyncio + httpx in
this process):
  * baseline: GET /healthz (one `SELECT 1`): what the server and this client manage at all;
  * GET /api/v1/projects/default/runs?limit=50 (the runs list, first page);
  * GET /api/v1/projects/default/runs/{id} (one run with its tasks and attempts, random ids);
  * a mix of 45% list, 45% get and 10% trigger (POST .../pipelines/{name}/runs);
  requests/s, p50 and p99 latency, and the server's own CPU time per request (its
  process's user + system time over the requests served), which gives the requests/s one
  core of the server sustains whatever the client costs. Targets (2 cores, SQLite): reads
  >= 500 requests/s at p99 < 50 ms.
  * the event stream: --sse clients on GET /api/v1/events?project=default; runs are then
    triggered one at a time and, per client, the time from the trigger's response (its commit)
    to the run's first event on the stream: p50 / p99 / max over every client and run. Target:
    100 clients, under 1 s.

The load generator shares the machine's cores with the server: the figures are a floor.
Usage: .venv/bin/python bench/api_load.py [--runs 10000] [--seconds 10] [--concurrency 16]
       .venv/bin/python bench/api_load.py --quick       # 1,000 runs, 3 s per figure, 20 SSE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from cubestudio.settings import Settings
from cubestudio.store import pipelines as pipeline_store
from cubestudio.store import runs as runs_store
from cubestudio.store.db import Database

CUBE = Path(sys.executable).with_name("cube")
PIPELINES = 100
READ_RPS, READ_P99_MS, SSE_TARGET_MS = 500.0, 50.0, 1000.0


def _pipeline(i: int) -> dict[str, Any]:
    return {
        "name": f"bench-{i:03d}",
        "tasks": [
            {"name": "prepare", "command": "true"},
            {"name": "train", "command": "true", "depends": ["prepare"]},
            {"name": "evaluate", "command": "true", "depends": ["train"]},
        ],
    }


def seed(db: Database, runs: int) -> list[str]:
    """100 saved pipelines and `runs` finished runs of them; the run ids."""
    now = datetime.now(UTC)
    ids: list[str] = []
    pipeline_ids = []
    with db.begin() as conn:
        for i in range(PIPELINES):
            spec = _pipeline(i)
            pid, _version = pipeline_store.save_version(
                conn,
                project_id=1,
                name=spec["name"],
                spec_json=json.dumps(spec, sort_keys=True),
                layout_json=None,
                author="bench",
                message=None,
                now=now,
                create=True,
            )
            pipeline_ids.append((pid, spec))
    batch = 1000
    for start in range(0, runs, batch):
        with db.begin() as conn:
            for n in range(start, min(runs, start + batch)):
                pid, spec = pipeline_ids[n % PIPELINES]
                at = now - timedelta(minutes=runs - n)
                run_id = f"{at:%y%m%d-%H%M%S}-{n:06x}"
                ids.append(run_id)
                _insert_run(conn, run_id, pid, spec, at)
    return ids


def _insert_run(conn: Any, run_id: str, pid: int, spec: dict[str, Any], at: datetime) -> None:
    done = at + timedelta(seconds=30)
    snapshot = json.dumps({"pipeline": spec, "templates": {}}, sort_keys=True)
    task_rows, attempt_rows = [], []
    for i, task in enumerate(spec["tasks"]):
        common = {"status": "succeeded", "exit_code": 0, "started_at": at, "finished_at": done}
        task_rows.append(
            {"run_id": run_id, "name": task["name"], "position": i, "attempts": 1,
             "retry_base": 0, "message": None, "outputs": None, **common}
        )  # fmt: skip
        attempt_rows.append({"run_id": run_id, "task_name": task["name"], "number": 1, **common})
    runs_store.insert_run(
        conn,
        run={
            "id": run_id, "pipeline_id": pid, "pipeline_name": spec["name"],
            "status": "succeeded", "trigger": "manual", "execution_date": at, "creator": "bench",
            "runner": "bench", "cluster_name": "local", "spec": snapshot, "params": "{}",
            "created_at": at, "started_at": at, "finished_at": done, "stop_requested": False,
            "project_id": 1, "pipeline_version": 1,
        },
        tasks=task_rows,
    )  # fmt: skip
    from sqlalchemy import insert

    from cubestudio.store.tables import attempts

    conn.execute(insert(attempts), attempt_rows)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(CUBE), "server", "--no-engine", "--no-scheduler", "--port", str(port)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("FAILED: the server did not start:\n" + proc.stderr.read().decode()[-2000:])


def percentile(values: list[float], q: float) -> float:
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, round(q / 100 * len(ranked)) - 1))]


async def closed_loop(
    client: httpx.AsyncClient,
    pick: Callable[[], Awaitable[httpx.Response]],
    seconds: float,
    concurrency: int,
) -> tuple[float, list[float], int]:
    """(requests/s, latencies in ms, errors) of `concurrency` clients each sending its next
    request when the previous one answered."""
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            response = await pick()
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code >= 400:
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - start), latencies, errors


async def sse_latency(base: str, headers: dict[str, str], clients: int, triggers: int) -> Any:
    """Per client and run: ms from the trigger's response to the run's first event."""
    first_seen: list[dict[str, float]] = [{} for _ in range(clients)]
    ready = asyncio.Event()
    connected = 0
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=None, limits=limits) as c:

        async def listen(i: int) -> None:
            nonlocal connected
            async with c.stream("GET", "/api/v1/events", params={"project": "default"}) as resp:
                if resp.status_code != 200:
                    raise SystemExit(f"FAILED: the event stream answered {resp.status_code}")
                connected += 1
                if connected == clients:
                    ready.set()
                async for line in resp.aiter_lines():
                    if line.startswith("data:"):
                        run_id = json.loads(line[5:]).get("run_id")
                        if run_id and run_id not in first_seen[i]:
                            first_seen[i][run_id] = time.perf_counter()

        tasks = [asyncio.create_task(listen(i)) for i in range(clients)]
        await asyncio.wait_for(ready.wait(), 60)
        await asyncio.sleep(0.5)
        committed: dict[str, float] = {}
        for n in range(triggers):
            resp = await c.post(f"/api/v1/projects/default/pipelines/bench-{n:03d}/runs", json={})
            committed[resp.json()["run_id"]] = time.perf_counter()
            await asyncio.sleep(0.3)
        await asyncio.sleep(2.0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    delays = []
    missed = 0
    for seen in first_seen:
        for run_id, at in committed.items():
            if run_id in seen:
                delays.append(max(0.0, seen[run_id] - at) * 1000)
            else:
                missed += 1
    return delays, missed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    args: argparse.Namespace, base: str, token: str, ids: list[str], server_pid: int
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=args.concurrency + 4)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:

        async def health() -> httpx.Response:
            return await client.get("/healthz")

        async def list_runs() -> httpx.Response:
            return await client.get("/api/v1/projects/default/runs", params={"limit": 50})

        async def get_run() -> httpx.Response:
            return await client.get(f"/api/v1/projects/default/runs/{random.choice(ids)}")

        async def trigger() -> httpx.Response:
            name = f"bench-{random.randrange(PIPELINES):03d}"
            return await client.post(f"/api/v1/projects/default/pipelines/{name}/runs", json={})

        async def mix() -> httpx.Response:
            roll = random.random()
            if roll < 0.1:
                return await trigger()
            return await (list_runs() if roll < 0.55 else get_run())

        rows = []
        for label, pick in (
            ("baseline GET /healthz", health),
            ("GET runs list (50 per page)", list_runs),
            ("GET one run (tasks, attempts)", get_run),
            ("mix 45% list / 45% get / 10% trigger", mix),
        ):
            await closed_loop(client, pick, 1.0, args.concurrency)  # warm-up
            cpu0 = cpu_seconds(server_pid)
            rps, lat, errors = await closed_loop(client, pick, args.seconds, args.concurrency)
            cpu_ms = (cpu_seconds(server_pid) - cpu0) / len(lat) * 1000
            rows.append((label, rps, percentile(lat, 50), percentile(lat, 99), errors, cpu_ms))
            print(f"{label}: {rps:.0f} req/s p50 {percentile(lat, 50):.1f} ms "
                  f"p99 {percentile(lat, 99):.1f} ms errors {errors}", flush=True)  # fmt: skip
    delays, missed = await sse_latency(base, headers, args.sse, args.triggers)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n(load average {load} on {os.cpu_count()} CPUs; {len(ids)} runs, "
          f"{PIPELINES} pipelines, {args.concurrency} concurrent clients)")  # fmt: skip
    width = max(len(r[0]) for r in rows) + 2
    print(
        f"{'figure':<{width}} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'server CPU':>11} {'req/s/core':>10}  target"
    )
    for label, rps, p50, p99, errors, cpu_ms in rows:
        target = (
            ""
            if label.startswith("baseline") or label.startswith("mix")
            else (f">= {READ_RPS:g}/s, p99 < {READ_P99_MS:g} ms")
        )
        print(
            f"{label:<{width}} {rps:>8.0f} {p50:>8.1f} {p99:>8.1f} {errors:>7} "
            f"{cpu_ms:>8.2f} ms {1000 / cpu_ms:>10.0f}  {target}"
        )
    if delays:
        print(
            f"event stream, {args.sse} clients x {args.triggers} runs: commit -> event p50 "
            f"{percentile(delays, 50):.0f} ms, p99 {percentile(delays, 99):.0f} ms, max "
            f"{max(delays):.0f} ms, missed {missed} (target < {SSE_TARGET_MS:g} ms)"
        )
    else:
        print(f"event stream: no event reached the {args.sse} clients (missed {missed})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sse", type=int, default=100, help="event stream clients")
    parser.add_argument(
        "--triggers", type=int, default=10, help="runs triggered for the SSE figure"
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.seconds, args.sse, args.triggers = 1000, 3.0, 20, 5
    home = Path(tempfile.mkdtemp(prefix="cube-bench-api-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUBE_")}
    env |= {"CUBE_HOME": str(home), "CUBE_ADMIN_PASSWORD": "bench-password"}
    proc = None
    try:
        settings = Settings(home=home, database_url=None)
        db = Database(settings.resolved_database_url())
        db.ensure_schema()
        t0 = time.perf_counter()
        ids = seed(db, args.runs)
        db.dispose()
        print(
            f"seeded {PIPELINES} pipelines and {len(ids)} runs in {time.perf_counter() - t0:.1f} s"
        )
        port = free_port()
        proc = start_server(env, port)
        made = subprocess.run(
            [str(CUBE), "token", "create", "--name", "bench", "--json"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        token = json.loads(made.stdout)["token"]
        asyncio.run(measure(args, f"http://127.0.0.1:{port}", token, ids, proc.pid))
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
