"""Queues over the API (F13): members see their projects' queues, only a platform admin
changes one, bad values are refused naming the field; and a real `cube engine` shares the
pool between two projects' queues by their weights."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tests.api.conftest import Api
from tests.conftest import Cube
from tests.integration.engine_helpers import kill_tasks, wait_ended


def test_queues_are_seen_by_members_and_changed_by_admins_only(api: Api, admin: str) -> None:
    dev = api.user("dev", project="team-a")
    api.user("other", project="team-b")
    listed = api.call("GET", "/queues", dev).json()
    assert [q["name"] for q in listed["queues"]] == ["team-a"]
    assert listed["pool"]["cpu"] > 0 and listed["free"]["cpu"] <= listed["pool"]["cpu"]
    assert api.call("PUT", "/projects/team-a/queue", dev, json={"gpu": 4}).status_code == 403
    bad = api.call("PUT", "/projects/team-a/queue", admin, json={"memory": "lots"})
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["message"].startswith("memory: 'lots' is not"), bad.text
    missing = api.call("PUT", "/projects/nope/queue", admin, json={"gpu": 1})
    assert missing.status_code == 404
    done = api.call("PUT", "/projects/team-a/queue", admin, json={"gpu": 4, "memory": "64Gi"})
    assert done.status_code == 200, done.text
    assert done.json() == {
        "name": "team-a",
        "cpu": None,
        "memory": 64 * 2**30,
        "gpu": 4,
        "weight": 1.0,
    }
    weight = api.call("PUT", "/projects/team-a/queue", admin, json={"weight": 3, "gpu": None})
    assert weight.json()["weight"] == 3.0 and weight.json()["gpu"] is None
    everyone = api.call("GET", "/queues", admin).json()["queues"]
    assert {q["name"] for q in everyone} >= {"default", "team-a", "team-b"}


def _pipeline(name: str, journal: Path, tasks: int) -> dict[str, Any]:
    line = f'echo "$CUBE_PIPELINE_NAME" >> {journal}; sleep 0.4'
    return {
        "name": name,
        "parallelism": tasks,
        "tasks": [
            {"name": f"t{i}", "command": line, "resources": {"cpu": 1}} for i in range(tasks)
        ],
    }


def test_the_engine_shares_the_pool_by_queue_weight(api: Api, admin: str, tmp_path: Path) -> None:
    """Two projects, weights 1 and 3, 20 one-core tasks each on a 4-core pool: while both
    wait, starts go about 1:3."""
    journal = tmp_path / "journal"
    tokens = {p: api.user(f"dev-{p}", project=p) for p in ("light", "heavy")}
    for project, weight in (("light", 1), ("heavy", 3)):
        assert api.call("PUT", f"/projects/{project}/queue", admin, json={"weight": weight})
        spec = _pipeline(project, journal, 20)
        made = api.call(
            "POST", f"/projects/{project}/pipelines", tokens[project], json={"spec": spec}
        )
        assert made.status_code == 201, made.text
    runs = []
    for project in ("light", "heavy"):  # submitted before the engine starts: both wait
        made = api.call(
            "POST", f"/projects/{project}/pipelines/{project}/runs", tokens[project], json={}
        )
        assert made.status_code == 201, made.text
        runs.append(made.json()["run_id"])
    assert api.settings.database_url is not None
    cube = Cube(api.settings.home_dir, api.settings.database_url)
    engine = cube.popen("engine", "--id", "fair-share", env={"CUBE_POOL_CPU": "4"})
    try:
        assert wait_ended(api.db, runs, timeout=120) == dict.fromkeys(runs, "succeeded")
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=30)
        kill_tasks(api.settings.home_dir)
    order = journal.read_text().split()
    assert sorted(order) == ["heavy"] * 20 + ["light"] * 20
    first = order[:20]  # both queues still waited for all of these
    assert 12 <= first.count("heavy") <= 17, order
