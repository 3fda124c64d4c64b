"""`cube server` as a process: its engine service and scheduler children start with it and
never outlive it, even when it is killed with SIGKILL (no supervisor left to stop them)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

CUBE = str(Path(sys.executable).with_name("cube"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_the_children_of_a_killed_server_stop_with_it(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CUBE_HOME": str(tmp_path), "CUBE_ADMIN_PASSWORD": "a-long-password"}
    for name in ("CUBE_SERVER", "CUBE_DATABASE_URL"):
        env.pop(name, None)
    server = subprocess.Popen(
        [CUBE, "server", "--port", str(port), "--no-alerts"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: list[psutil.Process] = []
    try:

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        _wait(up, 60, "cube server did not answer")
        _wait(
            lambda: len(psutil.Process(server.pid).children()) == 2,
            30,
            "the engine service and the scheduler did not start",
        )
        children = psutil.Process(server.pid).children()
        server.send_signal(signal.SIGKILL)
        server.wait()
        gone, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"still running after the server was killed: {alive}"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for child in children:
            if child.is_running():
                child.kill()
