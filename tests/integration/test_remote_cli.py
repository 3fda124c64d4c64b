"""The CLI against a server (`cube --server URL --token T ...`, CUBE_SERVER/CUBE_TOKEN, `cube
login`): the contract tests of the local CLI (test_cli.py), passed the same way, with the
server's `cube engine` driving the runs. The remote side's own store is never touched: its
database file is never created."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cubestudio.api.app import create_app
from cubestudio.auth import users as auth
from cubestudio.settings import Settings
from cubestudio.store.db import Database
from tests.api.live import FAST, serve
from tests.conftest import CUBE, Cube
from tests.integration.engine_helpers import replicas_for
from tests.integration.helpers import pipeline

EXAMPLES = Path(__file__).parents[2] / "examples"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")
ADMIN_PASSWORD = "admin-password-for-remote-tests"
TASK_KEYS = {"status", "attempts", "exit_code", "started_at", "finished_at"}
FLAKY = """
name: flaky
tasks:
  - {name: a, command: "echo a-ran"}
  - {name: b, command: "test -e FLAG", depends: [a]}
  - {name: c, command: "true", depends: [b]}
"""


@dataclass
class Remote:
    url: str
    token: str
    cube: Cube  # `cube` with CUBE_SERVER and CUBE_TOKEN set, and a local store of its own
    local: Cube  # `cube` on a local store, for the same commands run locally
    local_db: Path  # the remote side's own database: must never be created

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    """A live server on SQLite with a `cube engine` on its store, and the two CLIs."""
    home = tmp_path / "server"
    url = f"sqlite:///{tmp_path / 'server.db'}"
    settings = Settings(home=home, database_url=url)
    db = Database(url)
    db.ensure_schema()
    auth.ensure_admin(db, home=settings.home_dir, password=ADMIN_PASSWORD, now=datetime.now(UTC))
    app = create_app(settings, db)
    app.state.stream_config = FAST
    try:
        with serve(app) as live:
            login = {"username": "admin", "password": ADMIN_PASSWORD}
            token = httpx.post(f"{live.url}/api/v1/auth/login", json=login).json()
            for engines in replicas_for(Cube(home, url), tmp_path):
                engines.start("remote-test")
                local_db = tmp_path / "client.db"
                cube = Cube(tmp_path / "client", f"sqlite:///{local_db}")
                cube.env.update(CUBE_SERVER=live.url, CUBE_TOKEN=token["access_token"])
                local = Cube(tmp_path / "local", f"sqlite:///{tmp_path / 'local.db'}")
                yield Remote(live.url, token["access_token"], cube, local, local_db)
                assert not local_db.exists(), "a remote command used the local store"
    finally:
        db.dispose()


def flaky(tmp_path: Path) -> Path:
    return pipeline(tmp_path, FLAKY.replace("FLAG", str(tmp_path / "ok.flag")), "flaky.yaml")


@pytest.mark.parametrize("example", ["hello", "diamond", "retries", "outputs"])
def test_every_example_runs_as_it_does_locally(remote: Remote, example: str) -> None:
    file = str(EXAMPLES / f"{example}.yaml")
    assert remote.cube("validate", file).stdout == "ok\n"
    result = remote.cube.json("run", file, "--json", expect=0)
    local = remote.local.json("run", file, "--json", expect=0)
    assert set(result) == set(local) == {"run_id", "status", "tasks"}
    assert result["status"] == local["status"] == "succeeded"
    assert list(result["tasks"]) == list(local["tasks"])
    for name, task in result["tasks"].items():
        assert set(task) == TASK_KEYS
        assert (task["status"], task["attempts"], task["exit_code"]) == (
            local["tasks"][name]["status"],
            local["tasks"][name]["attempts"],
            local["tasks"][name]["exit_code"],
        )
        assert ISO.match(task["started_at"]) and ISO.match(task["finished_at"])


def test_run_json_contract_and_the_history(remote: Remote) -> None:
    diamond = str(EXAMPLES / "diamond.yaml")
    result = remote.cube.json("run", diamond, "--json", expect=0)
    assert list(result["tasks"]) == ["prepare", "train", "baseline", "report"]
    second = remote.cube.json("run", str(EXAMPLES / "hello.yaml"), "--json", expect=0)
    runs = remote.cube.json("runs", "--json", expect=0)
    assert runs == [
        {
            "run_id": run["run_id"],
            "pipeline": name,
            "status": "succeeded",
            "trigger": "manual",
            "created_at": row["created_at"],
        }
        for run, name, row in zip([second, result], ["hello", "diamond"], runs, strict=True)
    ]
    assert all(ISO.match(row["created_at"]) for row in runs)
    assert remote.cube.json("runs", "--json", "--pipeline", "hello") == runs[:1]
    human = remote.cube("runs")
    assert human.returncode == 0 and second["run_id"] in human.stdout


def test_the_options_choose_the_server_as_the_environment_does(remote: Remote) -> None:
    cube = Cube(remote.cube.home, remote.cube.env["CUBE_DATABASE_URL"])  # no CUBE_SERVER
    server = ["--server", remote.url, "--token", remote.token]
    result = cube.json(*server, "run", str(EXAMPLES / "diamond.yaml"), "--json", expect=0)
    assert set(result) == {"run_id", "status", "tasks"} and result["status"] == "succeeded"
    assert cube.json(*server, "runs", "--json")[0]["run_id"] == result["run_id"]
    refused = cube(*server, "engine", "status")
    assert refused.returncode == 2
    assert refused.stderr.endswith("works only on the local store: leave out --server to use it\n")


def test_show_prints_the_local_objects(remote: Remote) -> None:
    file = str(EXAMPLES / "outputs.yaml")
    run_id = remote.cube.json("run", file, "--json", expect=0)["run_id"]
    local_id = remote.local.json("run", file, "--json", expect=0)["run_id"]
    shown = remote.cube.json("show", run_id, "--json", expect=0)
    local = remote.local.json("show", local_id, "--json", expect=0)
    assert set(shown) == set(local) and shown["pipeline"] == "outputs"
    assert {name: set(t) for name, t in shown["tasks"].items()} == {
        name: set(t) for name, t in local["tasks"].items()
    }
    assert shown["tasks"]["count"]["outputs"] == local["tasks"]["count"]["outputs"] == {"rows": "5"}
    human = remote.cube("show", run_id[:8])
    assert human.returncode == 0
    assert "count.rows = 5" in human.stdout and f"run {run_id} succeeded" in human.stdout


def test_param_override_reaches_the_command_and_logs_are_shown(remote: Remote) -> None:
    run = remote.cube.json("run", str(EXAMPLES / "diamond.yaml"), "-p", "lr=0.5", "--json")
    assert "lr=0.5" in remote.cube("logs", run["run_id"], "train").stdout
    assert remote.cube("logs", run["run_id"], "train", "--tail", "1").stdout.count("\n") == 1
    assert (
        remote.cube("logs", run["run_id"], "train", "--grep", "epoch 2").stdout.count("epoch") == 1
    )
    every = remote.cube("logs", run["run_id"]).stdout
    assert "prepare  | prepared 1000 rows\n" in every and "report   | report for run" in every


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "lr=fast"], "error: params.lr: 'fast' is not a float"),
        (["--param", "lrr=1"], "error: params.lrr: the pipeline has no parameter (did you mean"),
        (["--param", "lr"], "error: --param: 'lr' is not NAME=VALUE"),
    ],
)
def test_bad_params_exit_2_and_store_nothing(remote: Remote, args: list[str], message: str) -> None:
    result = remote.cube("run", str(EXAMPLES / "diamond.yaml"), *args, "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message)
    assert remote.cube.json("runs", "--json") == []
    assert remote.api("GET", "/projects/default/pipelines").json() == []


def test_an_invalid_file_gives_the_local_lines(remote: Remote, tmp_path: Path) -> None:
    bad = pipeline(
        tmp_path,
        'name: bad\ntasks:\n  - {name: train, command: "true", retires: 2}\n'
        '  - {name: eval, command: "true", depends: [trian], timeout: 10x}\n',
    )
    here, there = remote.local("run", str(bad), "--json"), remote.cube("run", str(bad), "--json")
    assert there.returncode == here.returncode == 2 and there.stdout == ""
    assert there.stderr == here.stderr and "retires" in there.stderr
    assert remote.cube("validate", str(bad)).stdout == remote.local("validate", str(bad)).stdout
    malformed = pipeline(
        tmp_path, "name: x\ntasks:\n  - name: a\n    command: [unclosed\n", "m.yaml"
    )
    result = remote.cube("run", str(malformed))
    assert result.returncode == 2
    assert re.match(rf"error: {re.escape(str(malformed))}:\d+:\d+: invalid YAML: ", result.stderr)
    templated = pipeline(tmp_path, "name: t\ntasks:\n  - {name: a, template: nope}\n", "t.yaml")
    result = remote.cube("run", str(templated), "--json")  # the server's registry says so
    assert result.returncode == 2 and result.stderr.startswith("error: tasks[0].template: ")
    assert len(result.stderr.splitlines()) == 1


def test_unknown_run_id(remote: Remote) -> None:
    for command in (["logs", "nope"], ["retry", "nope"], ["show", "nope"], ["wait", "nope"]):
        result = remote.cube(*command)
        assert result.returncode == 2, command
        assert result.stderr == "error: no run 'nope' (see `cube runs` for the run ids)\n"


def test_a_failed_run_exits_1_and_says_why(remote: Remote, tmp_path: Path) -> None:
    file = flaky(tmp_path)
    result = remote.cube.json("run", str(file), "--json", expect=1)
    assert result["status"] == "failed"
    assert [t["status"] for t in result["tasks"].values()] == [
        "succeeded",
        "failed",
        "upstream_failed",
    ]
    human = remote.cube("show", result["run_id"])
    assert human.returncode == 0
    assert "why it failed:" in human.stdout and "b: exit code 1" in human.stdout
    assert f"cube retry {result['run_id']}" in human.stdout
    human = remote.cube("run", str(file))
    assert human.returncode == 1 and "why it failed:" in human.stdout
    assert re.search(r"b +failed +1 +1 ", human.stdout)
    never = remote.cube("logs", result["run_id"], "c")
    assert never.returncode == 1 and never.stdout == ""
    assert never.stderr.startswith("task c never ran (it is upstream_failed")

    (tmp_path / "ok.flag").touch()
    retried = remote.cube.json("retry", result["run_id"], "--json", expect=0)
    assert [t["attempts"] for t in retried["tasks"].values()] == [1, 2, 1]
    rerun = remote.cube.json("rerun", result["run_id"], "--from", "b", "--json", expect=0)
    assert [t["attempts"] for t in rerun["tasks"].values()] == [1, 3, 2]
    wrong = remote.cube("rerun", result["run_id"], "--from", "zz")
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: ")


def test_submit_wait_and_stop(remote: Remote, tmp_path: Path) -> None:
    slow = pipeline(tmp_path, "name: slow\ntasks:\n  - {name: nap, command: sleep 60}\n")
    run_id = remote.cube.json("submit", str(slow), "--json", expect=0)["run_id"]
    timed_out = remote.cube("wait", run_id, "--timeout", "0.3")
    assert timed_out.returncode == 124 and "is still" in timed_out.stderr
    stopped = remote.cube("stop", run_id)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stderr.endswith(f"run {run_id} stopped\n")
    result = remote.cube.json("wait", run_id, "--json", expect=1)
    assert result["status"] == "stopped" and result["tasks"]["nap"]["status"] == "stopped"
    again = remote.cube("stop", run_id)
    assert again.returncode == 0 and again.stderr == f"run {run_id} already ended: stopped\n"


def test_logs_follow_a_task_until_it_ends(remote: Remote, tmp_path: Path) -> None:
    ticks = pipeline(
        tmp_path,
        "name: ticks\ntasks:\n  - name: tick\n"
        '    command: "for i in 1 2 3; do echo tick $i; sleep 0.3; done"\n',
    )
    run_id = remote.cube.json("submit", str(ticks), "--json", expect=0)["run_id"]
    followed = remote.cube("logs", run_id, "tick", "-f")
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout == "tick 1\ntick 2\ntick 3\n"
    assert remote.cube.json("wait", run_id, "--json", expect=0)["status"] == "succeeded"


def test_token_and_server_errors_are_one_line(remote: Remote) -> None:
    hello = str(EXAMPLES / "hello.yaml")
    bad = remote.cube("run", hello, "--json", env={"CUBE_TOKEN": "not-a-token"})
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == (
        f"error: {remote.url} refused the token: this token is unknown, revoked or expired: "
        "log in again\n"
    )
    missing = remote.cube("runs", env={"CUBE_TOKEN": ""})
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1
    assert f"cube login {remote.url}" in missing.stderr
    away = remote.cube("runs", env={"CUBE_SERVER": "http://127.0.0.1:9"})
    assert away.returncode == 2
    assert away.stderr.startswith("error: cannot reach the server at http://127.0.0.1:9")
    project = remote.cube("runs", "--json", env={"CUBE_PROJECT": "elsewhere"})
    assert project.returncode == 2 and "no project elsewhere" in project.stderr


def test_local_only_commands_refuse(remote: Remote) -> None:
    for command, name in (
        (["engine", "status"], "engine"),
        (["resume", "x"], "resume"),
        (["scheduler"], "scheduler"),
    ):
        result = remote.cube(*command)
        assert result.returncode == 2, command
        assert result.stderr == (
            f"error: `cube {name}` works only on the local store: unset CUBE_SERVER to use it\n"
        )
    help_text = remote.cube("engine", "--help")
    assert help_text.returncode == 0 and "engine" in help_text.stdout
    templates = remote.cube.json("template", "list", "--json", expect=0)
    assert {"shell", "python"} <= {t["name"] for t in templates}
    assert set(templates[0]) == {"name", "version", "category", "description", "created_at"}


def test_login_keeps_the_server_until_logout(remote: Remote, tmp_path: Path) -> None:
    # No CUBE_SERVER nor CUBE_TOKEN: the server comes from `cube login`.
    cube = Cube(remote.cube.home, f"sqlite:///{tmp_path / 'after-logout.db'}")
    logged = subprocess.run(
        [CUBE, "login", remote.url, "--username", "admin", "--password-stdin"],
        input=ADMIN_PASSWORD + "\n",
        env=cube.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert logged.returncode == 0, logged.stderr
    assert logged.stderr == f"logged in to {remote.url} as admin (project default)\n"
    saved = remote.cube.home / "remote.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    session = json.loads(saved.read_text())
    assert session["url"] == remote.url and session["token"]
    run = cube.json("run", str(EXAMPLES / "hello.yaml"), "--json", expect=0)
    assert [r["run_id"] for r in cube.json("runs", "--json")] == [run["run_id"]]
    refused = cube("engine", "status")
    assert refused.returncode == 2 and "run `cube logout` (logged in to" in refused.stderr
    assert cube("logout").returncode == 0 and not saved.exists()
    me = httpx.get(
        f"{remote.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {session['token']}"}
    )
    assert me.status_code == 401  # the session was revoked
    assert cube.json("runs", "--json", expect=0) == []  # the local store again
    assert cube("logout").stderr == "not logged in to any server\n"

    # An API token is kept as it is, and `cube logout` leaves it valid: it is not a session.
    created = remote.api("POST", "/auth/tokens", json={"name": "ci"}).json()
    by_token = cube("--token", created["token"], "--project", "default", "login", remote.url)
    assert by_token.returncode == 0, by_token.stderr
    assert json.loads(saved.read_text())["kind"] == "api-token"
    assert cube.json("runs", "--json", expect=0)[0]["run_id"] == run["run_id"]
    assert cube("logout").returncode == 0
    me = httpx.get(
        f"{remote.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert me.status_code == 200


def test_a_saved_token_goes_only_to_its_own_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cubestudio.cli.remote import Given, find_target, save_login
    from cubestudio.settings import get_settings

    monkeypatch.setenv("CUBE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        assert find_target(Given(None, None, None)) is None
        save_login({"url": "http://a.example:8080", "token": "secret-a", "project": "team"})
        mine = find_target(Given(None, None, None))
        assert mine is not None and (mine.url, mine.token, mine.project) == (
            "http://a.example:8080",
            "secret-a",
            "team",
        )
        same = find_target(Given("http://a.example:8080/api/v1/", None, "other"))
        assert same is not None and (same.token, same.project) == ("secret-a", "other")
        other = find_target(Given("http://b.example:8080", None, None))
        assert other is not None and (other.token, other.project) == (None, "default")
    finally:
        get_settings.cache_clear()


def test_the_live_progress_reads_a_remote_run() -> None:
    from rich.console import Console

    from cubestudio.cli.progress import render
    from cubestudio.client.remote_cli import Snapshot

    task: dict[str, Any] = {"exit_code": None, "started_at": None, "finished_at": None}
    detail = {
        "run_id": "r1",
        "pipeline": "diamond",
        "status": "running",
        "tasks": {
            "prepare": {**task, "status": "succeeded", "attempts": 1},
            "train": {**task, "status": "running", "attempts": 2},
            "report": {**task, "status": "pending", "attempts": 0},
        },
    }
    console = Console(record=True, width=100)
    console.print(render(Snapshot(detail)))  # type: ignore[arg-type]
    text = console.export_text()
    assert "diamond run r1  1/3 done  running" in text
    assert re.search(r"▶ train +running  \(attempt 2\)", text)


def test_templates_register_show_and_export_as_locally(remote: Remote) -> None:
    file = EXAMPLES / "templates" / "sklearn-train.yaml"
    registered = remote.cube("template", "register", str(file))
    assert (registered.returncode, registered.stdout) == (0, "registered sklearn-train@1\n")
    again = remote.cube("template", "register", str(file))
    assert again.stdout == "sklearn-train@1 unchanged: it has the same content\n"
    local = remote.local("template", "register", str(file))
    assert local.stdout == registered.stdout
    for command in (
        ["template", "show", "sklearn-train"],
        ["template", "export", "sklearn-train@1"],
    ):
        shown, here = remote.cube(*command), remote.local(*command)
        assert (shown.returncode, shown.stdout) == (0, here.stdout), command
    missing = remote.cube("template", "show", "nope")
    assert missing.returncode == 2 and missing.stderr.startswith("error: ")
    gone = remote.cube("template", "delete", "sklearn-train@1", "--json")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout) == {"name": "sklearn-train", "version": 1, "deleted": True}
    assert remote.cube("template", "show", "sklearn-train@1").returncode == 2
    no_version = remote.cube("template", "delete", "sklearn-train")
    assert no_version.returncode == 2 and "give the version to delete" in no_version.stderr


def test_schedules_list_pause_unpause_and_a_pure_plan(remote: Remote, tmp_path: Path) -> None:
    nightly = EXAMPLES / "nightly.yaml"
    plan = remote.cube("schedule", "plan", str(nightly), "--now", "2026-01-01 00:00:00")
    local_plan = remote.local("schedule", "plan", str(nightly), "--now", "2026-01-01 00:00:00")
    assert (plan.returncode, plan.stdout) == (0, local_plan.stdout)  # pure: no store, no server
    body = {"yaml": nightly.read_text(encoding="utf-8")}
    assert remote.api("POST", "/projects/default/pipelines", json=body).status_code == 201
    enabled = remote.api("POST", "/projects/default/pipelines/nightly/schedule/enable")
    assert enabled.status_code == 200, enabled.text
    items = remote.cube.json("schedule", "list", "--json", expect=0)
    assert [(i["pipeline"], i["paused"]) for i in items] == [("nightly", False)]
    assert set(items[0]) >= {"cron", "timezone", "catchup", "start", "next"}
    paused = remote.cube("schedule", "pause", "nightly")
    assert (paused.returncode, paused.stdout) == (0, "schedule of nightly paused\n")
    assert remote.cube.json("schedule", "list", "--json", expect=0)[0]["paused"] is True
    assert remote.cube("schedule", "unpause", "nightly").stdout == "schedule of nightly unpaused\n"
    assert remote.cube.json("schedule", "list", "--json", expect=0)[0]["paused"] is False
    unknown = remote.cube("schedule", "pause", "nope")
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: ")
