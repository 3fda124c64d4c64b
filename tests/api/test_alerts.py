"""A run's webhook deliveries through the API: recorded by the engine when the run failed,
shown to the project's members with the receiver's query values hidden, and to nobody else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cubestudio.alerts.sender import AlertSender
from cubestudio.drivers.memory import MemoryDriver
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.spec.loader import load_pipeline_text
from tests.api.conftest import Api

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PIPELINE = """
name: nightly
tasks: [{name: a, command: "false"}]
alerts:
  - {url: "https://127.0.0.1:1/hooks/x?token=s3cret", on: [failure], scope: both}
"""


def failed_run(api: Api) -> str:
    """A run of the `default` project whose task failed, driven by a real controller."""
    spec = load_pipeline_text(PIPELINE)
    run_id = create_run(api.db, spec=spec, params={}, now=T0)
    driver = MemoryDriver()
    controller = load_controller(api.db, driver, run_id, kill_grace=5)
    controller.start(T0)
    driver.finish("a", 1)
    controller.tick(T0 + timedelta(seconds=3))
    assert controller.done
    return run_id


def test_the_deliveries_of_a_run_are_shown_on_it(api: Api, admin: str) -> None:
    run_id = failed_run(api)
    viewer = api.user("vic", project="default", role="viewer")
    answer = api.call("GET", f"/projects/default/runs/{run_id}/alerts", viewer)
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert [(d["event"], d["task"], d["status"], d["tries"]) for d in shown] == [
        ("failure", "a", "pending", 0),
        ("failure", None, "pending", 0),
    ]
    assert {d["url"] for d in shown} == {"https://127.0.0.1:1/hooks/x?token=***"}
    assert "s3cret" not in answer.text
    # A try that failed (nothing listens on port 1) is shown with why and when it is next.
    with AlertSender(api.db, key=b"k", timeout=1) as sender:
        assert sender.tick(T0 + timedelta(seconds=4)) == 2
    first = api.call("GET", f"/projects/default/runs/{run_id}/alerts", viewer).json()[0]
    assert first["tries"] == 1 and first["status"] == "pending"
    assert first["last_error"].startswith("ConnectError")
    assert datetime.fromisoformat(first["next_try_at"]) == T0 + timedelta(seconds=9)
    assert first["delivered_at"] is None


def test_another_projects_member_gets_404(api: Api, admin: str) -> None:
    run_id = failed_run(api)
    outsider = api.user("olga", project="team-b", role="admin")
    elsewhere = api.call("GET", f"/projects/team-b/runs/{run_id}/alerts", outsider)
    not_member = api.call("GET", f"/projects/default/runs/{run_id}/alerts", outsider)
    assert elsewhere.status_code == not_member.status_code == 404
    assert elsewhere.json()["error"]["code"] == "not_found"
    missing = api.call("GET", "/projects/default/runs/no-such-run/alerts", admin)
    assert missing.status_code == 404
    assert api.client.get(f"/api/v1/projects/default/runs/{run_id}/alerts").status_code == 401
