"""The controller records a webhook delivery for each matching alert, in the transaction of
the turn that made the move: the right event per outcome and scope, the task filter, nothing
for what no alert asks for, nothing from a turn whose lease was lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from cubestudio.engine.lease import LeaseLost
from cubestudio.store import alerts as alert_store
from cubestudio.store.db import Database
from cubestudio.store.tables import runs
from tests.unit.engine.conftest import T0, Harness

HOOK = "https://hooks.example/cube?token=abc"


@pytest.fixture
def harness(sqlite_url: str) -> Iterator[Harness]:
    db = Database(sqlite_url)
    db.ensure_schema()
    yield Harness(db)
    db.dispose()


def deliveries(h: Harness) -> list[dict[str, Any]]:
    with h.db.begin() as conn:
        rows = alert_store.of_run(conn, run_id=h.ctl.run_id)
    return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]


def events(h: Harness) -> list[tuple[str | None, str]]:
    return [(d["task_name"], d["event"]) for d in deliveries(h)]


def test_a_failed_run_records_its_alert_in_the_failing_turn(db: Database) -> None:
    h = Harness(db)
    h.start(
        f"""
name: nightly
tasks:
  - {{name: a, command: "false"}}
alerts:
  - {{url: "{HOOK}", on: [failure]}}
"""
    )
    assert deliveries(h) == []
    h.tick(7)
    h.finish("a", 3)
    [row] = deliveries(h)
    assert row["task_name"] is None and row["event"] == "failure"
    assert row["url"] == HOOK and row["status"] == "pending" and row["tries"] == 0
    assert row["created_at"] == row["next_try_at"] == h.now  # due at once, at the turn's time
    assert row["payload"] == {
        "event": "failure",
        "scope": "run",
        "pipeline": "nightly",
        "run_id": h.ctl.run_id,
        "task": None,
        "attempt": None,
        "status": "failed",
        "message": "failed: a",
        "execution_date": T0.strftime("%Y-%m-%d %H:%M:%S"),
        "created_at": h.now.isoformat(),
    }


def test_a_turn_whose_lease_was_lost_records_no_alert(harness: Harness) -> None:
    h = harness
    h.start(f'name: p\ntasks: [{{name: a, command: "false"}}]\nalerts: [{{url: "{HOOK}"}}]\n')
    with h.db.begin() as conn:  # another engine took the run over
        conn.execute(update(runs).values(lease_owner="other/x", lease_epoch=runs.c.lease_epoch + 1))
    h.driver.finish("a", 1)
    with pytest.raises(LeaseLost):
        h.tick()
    assert deliveries(h) == []  # rolled back with the move that would have caused it


def test_task_scope_retry_then_timeout_and_no_run_alert(harness: Harness) -> None:
    h = harness
    h.start(
        f"""
name: p
tasks:
  - {{name: train, command: "sleep 99", retries: 1, retry_delay: 30s, timeout: 10s}}
alerts:
  - {{url: "{HOOK}", on: [retry, timeout, failure], scope: task}}
"""
    )
    h.tick(10)  # the task's timeout: SIGTERM, and the attempt ends killed
    h.finish("train", None)
    [retry] = deliveries(h)
    assert (retry["task_name"], retry["event"]) == ("train", "retry")
    assert retry["payload"]["scope"] == "task" and retry["payload"]["attempt"] == 1
    assert retry["payload"]["message"] == "timed out after 10s"
    assert retry["payload"]["status"] == "pending"  # waiting for its retry delay
    h.tick(30)  # the retry launches attempt 2, which times out too
    h.tick(10)
    h.finish("train", None)
    assert h.summary()["status"] == "failed"
    assert events(h) == [("train", "retry"), ("train", "timeout")]  # a timeout, not a failure
    assert deliveries(h)[1]["payload"]["attempt"] == 2


def test_scope_both_with_a_task_filter(harness: Harness) -> None:
    h = harness
    h.start(
        f"""
name: p
tasks:
  - {{name: prepare, command: "true"}}
  - {{name: train, command: "true", depends: [prepare]}}
alerts:
  - {{url: "{HOOK}", on: [success], scope: both, tasks: [train]}}
"""
    )
    h.finish("prepare")
    assert events(h) == []  # prepare is filtered out
    h.finish("train")
    assert events(h) == [("train", "success"), (None, "success")]
    assert [d["payload"]["status"] for d in deliveries(h)] == ["succeeded", "succeeded"]


def test_only_tasks_that_failed_make_task_events(harness: Harness) -> None:
    h = harness
    h.start(
        f"""
name: p
tasks:
  - {{name: a, command: "false"}}
  - {{name: b, command: "true", depends: [a]}}
  - {{name: c, command: "true"}}
alerts:
  - {{url: "{HOOK}", on: [failure], scope: task}}
  - {{url: "https://other.example/hook", on: [failure]}}
"""
    )
    h.finish("c")  # a success: nobody asked for it
    h.finish("a", 2)  # b becomes upstream_failed: no event of its own
    assert h.status()["b"] == "upstream_failed"
    found = [(d["task_name"], d["event"], d["url"]) for d in deliveries(h)]
    assert found == [
        ("a", "failure", HOOK),
        (None, "failure", "https://other.example/hook"),
    ]
    assert deliveries(h)[0]["payload"]["message"] == "exit code 2"


def test_the_run_timeout_is_a_timeout_event_not_a_failure(harness: Harness) -> None:
    h = harness
    h.start(
        f"""
name: p
timeout: 1m
tasks:
  - {{name: a, command: "sleep 600"}}
alerts:
  - {{url: "{HOOK}", on: [timeout]}}
  - {{url: "https://failures.example/", on: [failure]}}
"""
    )
    h.tick(60)
    h.finish("a", None)
    [row] = deliveries(h)
    assert (row["task_name"], row["event"], row["url"]) == (None, "timeout", HOOK)
    assert row["payload"]["message"] == "the run timed out after 60s"


def test_nothing_is_recorded_for_events_no_alert_lists(harness: Harness) -> None:
    h = harness
    h.start(
        f"""
name: p
tasks:
  - {{name: a, command: "false", retries: 1}}
alerts:
  - {{url: "{HOOK}", on: [success], scope: both}}
"""
    )
    h.finish("a", 1)  # a retry
    h.finish("a", 1)  # a failure, of the task and of the run
    assert h.summary()["status"] == "failed"
    assert deliveries(h) == []


def test_a_stopped_run_sends_nothing(harness: Harness) -> None:
    h = harness
    h.start(
        f"""
name: p
tasks: [{{name: a, command: "sleep 60"}}]
alerts: [{{url: "{HOOK}", on: [failure, timeout, success, retry], scope: both}}]
"""
    )
    h.ctl.request_stop(h.now)
    h.tick()
    h.finish("a", None)
    assert h.summary()["status"] == "stopped"
    assert deliveries(h) == []


def test_retrying_a_run_is_a_run_retry_event(harness: Harness) -> None:
    h = harness
    h.start(
        f"""
name: p
tasks: [{{name: a, command: "false"}}]
alerts: [{{url: "{HOOK}", on: [retry, success]}}]
"""
    )
    h.finish("a", 1)
    assert events(h) == []
    ctl = h.reload()
    ctl.reset(["a"], h.now)
    ctl.start(h.now)
    h.finish("a", 0)
    assert events(h) == [(None, "retry"), (None, "success")]
    assert deliveries(h)[0]["payload"]["status"] == "running"


def test_two_alerts_to_one_receiver_send_one_delivery(harness: Harness) -> None:
    h = harness
    h.start(
        f"""
name: p
tasks: [{{name: a, command: "true"}}]
alerts:
  - {{url: "{HOOK}", on: [success]}}
  - {{url: "{HOOK}", on: [success, failure], scope: both}}
"""
    )
    h.finish("a")
    assert events(h) == [("a", "success"), (None, "success")]


def test_a_run_handed_back_to_the_engine_service_makes_one_retry_event(
    harness: Harness,
) -> None:
    h = harness
    tasks = 'tasks: [{name: a, command: "false"}]'
    h.start(f'name: p\n{tasks}\nalerts: [{{url: "{HOOK}", on: [retry]}}]\n')
    h.finish("a", 1)
    ctl = h.reload()
    ctl.reset(["a"], h.now, requeue=True)  # what the API's retry does: back to pending
    with h.db.begin() as conn:
        ctl.write_turn(conn, h.now)
    assert events(h) == [(None, "retry")]
    assert deliveries(h)[0]["payload"]["status"] == "pending"
    h.reload().start(h.now)  # an engine claims it: pending -> running is no new event
    h.finish("a", 1)
    assert events(h) == [(None, "retry")]
