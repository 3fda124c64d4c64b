"""Schedules over the API beyond on/off: records, clear, apply (previewed, confirmed above
20 runs) and backfill (previewed, recorded, stepped until its runs ended), as `cube
schedule records|clear|apply` and `cube backfill` do on the local store; other projects
see nothing, viewers change nothing."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cubestudio.schedule.scheduler import Scheduler
from tests.api.conftest import Api
from tests.conftest import Cube

TEAM = "/projects/team/pipelines"


def _daily(name: str, *, start: datetime | None = None, **schedule: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"cron": "0 0 * * *", **schedule}
    if start is not None:
        block["start"] = f"{start:%Y-%m-%d %H:%M:%S}"
    return {"name": name, "schedule": block, "tasks": [{"name": "a", "command": "true"}]}


def _save(api: Api, token: str, spec: dict[str, Any]) -> None:
    response = api.call("POST", TEAM, token, json={"spec": spec})
    assert response.status_code == 201, response.text


def _days_ago(days: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(days=days)).replace(tzinfo=None)


@pytest.fixture
def engine(api: Api) -> Iterator[None]:
    """A real `cube engine` on the API's store and home, to drive the runs."""
    assert api.settings.database_url is not None
    proc = Cube(api.settings.home_dir, api.settings.database_url).popen("engine", "--id", "t")
    yield
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_apply_previews_and_needs_a_confirmation_above_20_runs(api: Api) -> None:
    dev = api.user("dev", project="team")
    spec = _daily("catchup", start=_days_ago(30), catchup=True)
    preview = api.call("POST", f"{TEAM}/catchup/schedule/apply/preview", dev, json={"spec": spec})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["pipeline"], body["created"], body["reset"]) == ("catchup", True, None)
    assert body["runs"] == 31 and "execution_dates" not in body
    assert body["summary"].startswith("this will create 31 runs (") and body["timezone"] == "UTC"
    assert api.call("GET", f"{TEAM}/catchup", dev).status_code == 404  # nothing stored
    _save(api, dev, spec)
    dates = api.call("POST", f"{TEAM}/catchup/schedule/apply/preview", dev, json={"dates": True})
    assert len(dates.json()["execution_dates"]) == 31
    refused = api.call("POST", f"{TEAM}/catchup/schedule/apply", dev, json={})
    assert refused.status_code == 409
    assert "31 runs need a confirmation" in refused.json()["error"]["message"]
    assert api.call("GET", "/projects/team/schedules", dev).json() == []
    applied = api.call("POST", f"{TEAM}/catchup/schedule/apply", dev, json={"confirm": True})
    assert applied.status_code == 200, applied.text
    assert set(applied.json()) == {"pipeline", "created", "start", "next", "reset", "runs"}
    assert (applied.json()["created"], applied.json()["runs"]) == (True, 31)
    listed = api.call("GET", "/projects/team/schedules", dev).json()
    assert [s["pipeline"] for s in listed] == ["catchup"]
    again = api.call("POST", f"{TEAM}/catchup/schedule/apply", dev, json={})
    assert (again.json()["created"], again.json()["runs"]) == (False, 0)  # nothing new


def test_records_and_clear_undo_a_catch_up(api: Api) -> None:
    dev = api.user("dev", project="team")
    _save(api, dev, _daily("catchup", start=_days_ago(30), catchup=True))
    api.call("POST", f"{TEAM}/catchup/schedule/apply", dev, json={"confirm": True})
    Scheduler(api.db, None).tick(datetime.now(UTC))  # 31 records, one run (max_active_runs 1)
    records = api.call("GET", f"{TEAM}/catchup/schedule/records", dev, params={"limit": 100})
    assert records.status_code == 200, records.text
    items = records.json()
    assert len(items) == 31 and items[0]["execution_date"] > items[-1]["execution_date"]
    assert set(items[0]) == {
        "execution_date", "status", "trigger", "run_id", "run_status", "message"
    }  # fmt: skip
    (created,) = [i for i in items if i["status"] == "created"]
    assert created["run_status"] == "pending"
    comed = api.call("GET", f"{TEAM}/catchup/schedule/records?status=comed&limit=2", dev).json()
    assert [i["status"] for i in comed] == ["comed", "comed"]
    bad = api.call("GET", f"{TEAM}/catchup/schedule/records?status=done", dev)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    assert "'done' is not one of comed, created" in bad.json()["error"]["message"]
    cleared = api.call("POST", f"{TEAM}/catchup/schedule/clear", dev)
    assert cleared.status_code == 200, cleared.text
    run_id = created["run_id"]
    assert cleared.json() == {"pipeline": "catchup", "records": 30, "runs": [run_id], "busy": []}
    assert api.call("GET", f"/projects/team/runs/{run_id}", dev).status_code == 404
    assert api.call("GET", f"{TEAM}/catchup/schedule/records", dev).json() == []
    unknown = api.call("POST", f"{TEAM}/nope/schedule/clear", dev)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "no pipeline 'nope' (see `cube schedule list`)"


def test_backfill_previews_records_and_steps_until_its_runs_ended(api: Api, engine: None) -> None:
    dev = api.user("dev", project="team")
    spec = _daily("daily", max_active_runs=2)
    start, end = f"{_days_ago(3):%Y-%m-%d}", f"{_days_ago(1):%Y-%m-%d}"
    body = {"spec": spec, "start": start, "end": end, "dates": True}
    preview = api.call("POST", f"{TEAM}/daily/backfill/preview", dev, json=body)
    assert preview.status_code == 200, preview.text
    assert (preview.json()["runs"], len(preview.json()["execution_dates"])) == (3, 3)
    assert api.call("GET", f"{TEAM}/daily", dev).status_code == 404  # nothing stored
    _save(api, dev, spec)
    first = api.call("POST", f"{TEAM}/daily/backfill", dev, json={"start": start, "end": end})
    assert first.status_code == 201, first.text
    state = first.json()
    assert (state["ticks"], state["existing"], state["version"]) == (3, 0, 1)
    assert len(state["launched"]) == 2 and state["records"] is None  # max_active_runs: 2
    where = {"start": state["start"], "end": state["end"]}
    deadline = time.monotonic() + 60
    while not (state["done"] or state["stuck"]):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
        step = api.call("POST", f"{TEAM}/daily/backfill/step", dev, json=where)
        assert step.status_code == 200, step.text
        state = step.json()
    assert state["done"] and state["waiting"] == 0
    assert [(r["status"], r["trigger"], r["run_status"]) for r in state["records"]] == [
        ("created", "backfill", "succeeded")
    ] * 3
    again = api.call("POST", f"{TEAM}/daily/backfill", dev, json={"start": start, "end": end})
    assert (again.json()["ticks"], again.json()["existing"]) == (3, 3)


def test_backfill_refuses_a_bad_range_and_a_flood_without_confirmation(api: Api) -> None:
    dev = api.user("dev", project="team")
    minutely = {**_daily("minutely"), "schedule": {"cron": "* * * * *"}}
    _save(api, dev, minutely)
    day = f"{_days_ago(2):%Y-%m-%d}"
    flood = api.call("POST", f"{TEAM}/minutely/backfill", dev, json={"start": day, "end": day})
    assert flood.status_code == 409
    assert "1440 runs need a confirmation" in flood.json()["error"]["message"]
    records = api.call("GET", f"{TEAM}/minutely/schedule/records", dev).json()
    assert records == []  # nothing was stored
    for start, end, field, message in (
        (day, f"{_days_ago(3):%Y-%m-%d}", "end", "is before start"),
        (day, "2999-01-01", "end", "is in the future"),
        ("yesterday", day, "start", "'yesterday' is not a time"),
    ):
        bad = api.call("POST", f"{TEAM}/minutely/backfill", dev, json={"start": start, "end": end})
        assert bad.status_code == 422, bad.text
        assert bad.json()["error"]["field"] == field
        assert message in bad.json()["error"]["message"]
    unscheduled = {"name": "plain", "tasks": [{"name": "a", "command": "true"}]}
    _save(api, dev, unscheduled)
    none = api.call("POST", f"{TEAM}/plain/backfill", dev, json={"start": day, "end": day})
    assert none.status_code == 422 and none.json()["error"]["field"] == "schedule"
    wrong = api.call(
        "POST", f"{TEAM}/other/backfill/preview", dev,
        json={"spec": minutely, "start": day, "end": day},
    )  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "name"


def test_other_projects_see_nothing_and_viewers_change_nothing(api: Api) -> None:
    dev = api.user("dev", project="team")
    viewer = api.user("vic", project="team", role="viewer")
    eve = api.user("eve", project="other")
    _save(api, dev, _daily("daily", start=_days_ago(2)))
    day = f"{_days_ago(1):%Y-%m-%d}"
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/schedule/records", None),
        ("POST", "/schedule/clear", None),
        ("POST", "/schedule/apply/preview", {}),
        ("POST", "/schedule/apply", {}),
        ("POST", "/backfill/preview", {"start": day, "end": day}),
        ("POST", "/backfill", {"start": day, "end": day}),
        ("POST", "/backfill/step", {"start": day, "end": day}),
    ]
    for method, rest, body in calls:
        outsider = api.call(method, f"{TEAM}/daily{rest}", eve, json=body)
        assert outsider.status_code == 404, (rest, outsider.text)
        own = api.call(method, f"/projects/other/pipelines/daily{rest}", eve, json=body)
        assert own.status_code == 404, (rest, own.text)  # not in eve's project
    for method, rest, body in calls:
        answer = api.call(method, f"{TEAM}/daily{rest}", viewer, json=body)
        reads = rest in ("/schedule/records", "/schedule/apply/preview", "/backfill/preview")
        assert answer.status_code == (200 if reads else 403), (rest, answer.text)
    assert api.call("GET", "/projects/team/schedules", dev).json() == []
    assert api.call("GET", f"{TEAM}/daily/schedule/records", dev).json() == []
