"""The Python client against a live server (uvicorn) whose runs a real `cube engine` drives,
on SQLite and PostgreSQL: a run submitted as an SDK pipeline or a file ends with the summary
local `cube run --json` gives for the same pipeline; logs, stop, retry and the errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cubestudio import Pipeline, Task
from cubestudio.client import (
    Client,
    ClientError,
    Invalid,
    NotFound,
    Run,
    Unauthorized,
    WaitTimeout,
)
from cubestudio.errors import SpecError
from tests.api.conftest import PASSWORD, Api
from tests.api.live import LiveServer, serve_api
from tests.conftest import Cube
from tests.integration.engine_helpers import Replicas, replicas_for, wait_until

TASK_KEYS = {"status", "attempts", "exit_code", "started_at", "finished_at"}


@pytest.fixture
def live(api: Api) -> Iterator[LiveServer]:
    with serve_api(api) as server:
        yield server


@pytest.fixture
def engine(api: Api, tmp_path: Path) -> Iterator[Replicas]:
    """A real `cube engine` on the server's store and home."""
    assert api.settings.database_url is not None
    cube = Cube(api.settings.home_dir, api.settings.database_url)
    for group in replicas_for(cube, tmp_path):
        group.start("client-test")
        yield group


@pytest.fixture
def client(api: Api, live: LiveServer, engine: Replicas) -> Iterator[Client]:
    with Client(live.url, api.user("dev", project="default")) as c:
        yield c


def etl(fail: bool = False) -> Pipeline:
    with Pipeline("etl", params={"n": 2}) as p:
        count = Task("count", command="echo {{ params.n }} > $CUBE_OUTPUTS/rows", outputs=["rows"])
        report = Task("report", command="echo rows=" + count.output("rows") + (" && false" * fail))
        count >> report
    return p


def local_run(tmp_path: Path, pipeline: Pipeline, *args: str, expect: int) -> Any:
    """`cube run FILE --json` on a local store of its own, for the same pipeline."""
    file = tmp_path / "local" / f"{pipeline.name}.yaml"
    file.parent.mkdir(exist_ok=True)
    file.write_text(pipeline.to_yaml())
    cube = Cube(tmp_path / "local" / "home", f"sqlite:///{tmp_path / 'local' / 'cube.db'}")
    return cube.json("run", str(file), *args, "--json", expect=expect)


def same_outcome(remote: dict[str, Any], local: dict[str, Any]) -> None:
    """The same keys, task order, statuses, attempts and exit codes (ids and times differ)."""
    assert set(remote) == set(local) == {"run_id", "status", "tasks"}
    assert remote["status"] == local["status"]
    assert list(remote["tasks"]) == list(local["tasks"])
    for name, task in remote["tasks"].items():
        assert set(task) == TASK_KEYS
        mine, theirs = task, local["tasks"][name]
        assert (mine["status"], mine["attempts"], mine["exit_code"]) == (
            theirs["status"],
            theirs["attempts"],
            theirs["exit_code"],
        )
        assert (mine["started_at"] is None) == (theirs["started_at"] is None)
        if mine["finished_at"] is not None:
            assert mine["finished_at"].endswith("+00:00")


def test_an_sdk_pipeline_ends_as_a_local_run_does(client: Client, tmp_path: Path, api: Api) -> None:
    run = client.submit(etl(), params={"n": 5})
    result = run.wait(timeout=60)
    same_outcome(result, local_run(tmp_path, etl(), "-p", "n=5", expect=0))
    assert result["run_id"] == run.id and run.status == "succeeded"
    assert run.logs("count") == "" and run.logs("report") == "rows=5\n"
    details = run.details()
    assert details["params"] == {"n": 5} and details["tasks"]["count"]["outputs"] == {"rows": "5"}
    assert "attempt_list" not in details["tasks"]["count"]

    failed = client.submit(etl(fail=True)).wait(timeout=60)
    same_outcome(failed, local_run(tmp_path, etl(fail=True), expect=1))
    assert failed["tasks"]["report"]["exit_code"] == 1


def test_a_file_is_saved_once_per_content_and_runs_with_its_params(
    client: Client, tmp_path: Path, api: Api, live: LiveServer
) -> None:
    file = tmp_path / "flow.yaml"
    file.write_text(etl().to_yaml())
    first = client.submit(file, params={"n": "7"})
    second = client.submit(str(file))
    assert first.wait(timeout=60)["status"] == second.wait(timeout=60)["status"] == "succeeded"
    assert first.logs("report", tail=1) == "rows=7\n" and second.logs("report") == "rows=2\n"
    admin = api.user("auditor", project="default", role="viewer")
    versions = api.call("GET", "/projects/default/pipelines/etl/versions", admin).json()
    assert [v["version"] for v in versions] == [1]  # the same content: no new version

    data = yaml.safe_load(file.read_text())
    data["tasks"][1]["retries"] = 1
    file.write_text(yaml.safe_dump(data))
    assert client.save(file) == ("etl", 2)
    assert client.save(file) == ("etl", 2)
    runs = client.runs()
    assert [r["run_id"] for r in runs] == [second.id, first.id]
    assert set(runs[0]) == {"run_id", "pipeline", "status", "trigger", "created_at"}
    assert runs[0]["created_at"].endswith("+00:00")


def test_stop_ends_a_sleeping_run(client: Client) -> None:
    with Pipeline("slow") as p:
        Task("nap", command="sleep 60")
    run = client.submit(p)
    wait_until(lambda: run.refresh()["tasks"]["nap"]["status"] == "running", "nap started", 30)
    with pytest.raises(WaitTimeout, match=f"run {run.id} is still running after 0.2s"):
        run.wait(timeout=0.2)
    began = time.monotonic()
    assert run.stop() is True
    result = run.wait(timeout=30)
    assert result["status"] == "stopped" and result["tasks"]["nap"]["status"] == "stopped"
    assert time.monotonic() - began < 20  # the sleep was stopped, not waited for
    assert run.stop() is False  # it had ended


def test_retry_and_rerun_add_attempts_to_the_same_run(client: Client, tmp_path: Path) -> None:
    flag = tmp_path / "ok.flag"
    with Pipeline("flaky") as p:
        b = Task("b", command=f"test -e {flag}", depends=[Task("a", command="echo a")])
        Task("c", command="true", depends=[b])
    run = client.submit(p)
    assert run.wait(timeout=60)["status"] == "failed"
    flag.touch()
    assert run.retry() == ["b", "c"]
    result = run.wait(timeout=60)
    assert result["status"] == "succeeded"
    assert [t["attempts"] for t in result["tasks"].values()] == [1, 2, 1]
    assert run.rerun("c") == ["c"]
    assert run.wait(timeout=60)["tasks"]["c"]["attempts"] == 2
    assert client.run(run.id[:8]).id == run.id  # a prefix finds it


def test_errors_say_what_is_wrong(api: Api, live: LiveServer, client: Client) -> None:
    with pytest.raises(NotFound, match="run nope-nope in project default not found"):
        client.run("nope-nope")
    with Client(live.url, "not-a-token") as stranger, pytest.raises(Unauthorized):
        stranger.runs()
    with Client(live.url) as anonymous, pytest.raises(Unauthorized, match="log in first"):
        anonymous.runs()
    with pytest.raises(SpecError, match="params.n: 'x' is not an int"):
        client.submit(etl(), params={"n": "x"})  # checked before anything is saved
    assert client.runs() == []
    with Pipeline("templated") as p:
        Task("t", template="no-such-template")
    with pytest.raises(Invalid) as err:  # only the server knows its templates
        client.submit(p)
    assert err.value.status == 422 and err.value.errors[0].path == "tasks[0].template"
    viewer = api.user("vic", project="default", role="viewer")
    with Client(live.url, viewer) as watcher, pytest.raises(Exception) as refused:
        watcher.submit(etl())
    assert getattr(refused.value, "status", None) == 403


def test_login_gives_a_working_client(api: Api, live: LiveServer) -> None:
    api.user("ann", project="default")
    with Client.login(live.url + "/api/v1/", "ann", PASSWORD) as ann:
        assert ann.token and ann.runs() == []
    with pytest.raises(Unauthorized, match="wrong user name or password"):
        Client.login(live.url, "ann", "wrong")


# -- without a server: the HTTP layer's answers, through httpx's mock transport -----------


def mock_client(handler: Any) -> Client:
    return Client("http://cube.test:8080", "t", transport=httpx.MockTransport(handler))


def test_an_answer_not_in_the_api_format_is_one_line() -> None:
    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>\n<p>nginx</p>")

    with mock_client(proxy) as c, pytest.raises(ClientError) as err:
        c.runs()
    assert str(err.value) == "the server answered 502 Bad Gateway: <html>bad gateway</html>"
    assert err.value.status == 502


def test_an_invalid_answer_carries_every_problem() -> None:
    details = [
        {"field": "tasks[0].command", "message": "unknown template variable 'x'"},
        {"field": None, "message": "a pipeline holds a mapping"},
    ]

    def refuse(request: httpx.Request) -> httpx.Response:
        error = {"code": "invalid", "message": "m", "field": "tasks[0].command", "details": details}
        return httpx.Response(422, json={"error": error})

    with mock_client(refuse) as c, pytest.raises(Invalid) as err:
        c.validate(etl())
    assert [str(e) for e in err.value.errors] == [
        "tasks[0].command: unknown template variable 'x'",
        "a pipeline holds a mapping",
    ]
    assert isinstance(err.value, SpecError) and err.value.exit_code == 2


def test_wait_rides_out_a_short_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[Any] = [httpx.ConnectError("refused"), httpx.ConnectError("refused")]
    task: dict[str, Any] = {**dict.fromkeys(TASK_KEYS), "attempt_list": []}
    detail = {"run_id": "r1", "status": "succeeded", "pipeline": "p", "tasks": {"a": task}}

    def flaky_server(request: httpx.Request) -> httpx.Response:
        if answers:
            raise answers.pop(0)
        return httpx.Response(200, json=detail)

    monkeypatch.setattr("cubestudio.client.runs.time.sleep", lambda seconds: None)
    with mock_client(flaky_server) as c:
        result = Run(c.http, "default", "r1").wait(timeout=5)
    assert result == {
        "run_id": "r1",
        "status": "succeeded",
        "tasks": {"a": dict.fromkeys(TASK_KEYS)},
    }
    assert answers == []
