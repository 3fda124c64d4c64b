"""Browser tests: a real `cube server` (engine service and scheduler as its children) on a
fresh $CUBE_HOME with the example templates and pipelines, driven by Playwright in Debian's
Chromium (never a downloaded browser).

They need the built UI (`make ui`) and /usr/bin/chromium (`make browser`); without them they
skip, except under `make test` (CUBE_REQUIRE_UI=1), where that is a failure. With
CUBE_SCREENSHOTS=DIR (`make screenshots`) every ``shot()`` writes a PNG there."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CUBE = str(Path(sys.executable).with_name("cube"))
CHROMIUM = "/usr/bin/chromium"
DIST = ROOT / "src" / "cubestudio" / "web" / "dist"
PASSWORD = "e2e-admin-pass"
VIEWPORT = {"width": 1280, "height": 720}


def _require(condition: bool, missing: str) -> None:
    """Skip without the tool (a Python-only install), fail under `make test` (CI has it)."""
    if condition:
        return
    if os.environ.get("CUBE_REQUIRE_UI") != "1":
        pytest.skip(missing)
    pytest.fail(f"{missing}, and CUBE_REQUIRE_UI=1 needs it")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]

    def cube(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CUBE, *args], env=self.env, capture_output=True, text=True, timeout=120, check=True
        )

    def api(self) -> httpx.Client:
        token = httpx.post(
            f"{self.url}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
        ).json()["access_token"]
        return httpx.Client(
            base_url=f"{self.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require((DIST / "index.html").is_file(), "the web UI is not built (make ui)")
    home = tmp_path_factory.mktemp("cube-home")
    port = _free_port()
    env = {
        **os.environ,
        "CUBE_HOME": str(home),
        "CUBE_ADMIN_PASSWORD": PASSWORD,
        "CUBE_DATABASE_URL": "",
    }
    env.pop("CUBE_SERVER", None)
    run = Server(f"http://127.0.0.1:{port}", home, env)
    run.cube("init")
    for template in sorted((ROOT / "examples" / "templates").glob("*.yaml")):
        run.cube("template", "register", str(template))
    for pipeline in sorted((ROOT / "examples").glob("*.yaml")):
        run.cube("pipeline", "save", str(pipeline))
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [CUBE, "server", "--host", "127.0.0.1", "--port", str(port), "--no-alerts"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (home / "server.log").read_text()
            try:
                if httpx.get(f"{run.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "cube server did not answer /healthz in 60 s"
            time.sleep(0.2)
        yield run
    finally:
        process.send_signal(signal.SIGTERM)  # the server stops its engine and scheduler
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require(
        Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
        "Debian's chromium is not installed (make browser)",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=["--no-sandbox"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context at 1280x720, logged in as admin, on the pipelines page."""
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    login(tab)
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"the page raised: {errors}"


def login(tab: Any, user: str = "admin", password: str = PASSWORD) -> None:
    tab.goto("/login")
    tab.fill("input[name=username]", user)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/pipelines")


def shot(tab: Any, name: str) -> None:
    """A PNG of the page as it is, under $CUBE_SCREENSHOTS (make screenshots)."""
    folder = os.environ.get("CUBE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(folder) / f"{name}.png"))
