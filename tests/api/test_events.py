"""GET /events through a live uvicorn: every change of a run driven to completion arrives once,
in order; a client that reconnects with Last-Event-ID misses nothing and gets nothing twice,
an id that committed late included; a project's stream never carries another's events.
The stream's store poll is also run against concurrent transactions on PostgreSQL and
MariaDB, where ids really do commit out of order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from cubestudio.api.routes.events import Scope, poll
from cubestudio.api.streams import Cursor, EventTracker, StreamConfig
from cubestudio.engine.lifecycle import create_run
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.store import events as event_store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID, events
from tests.api.conftest import Api
from tests.api.live import CHAIN, DrivenRun, Event, LiveServer, SseReader, insert_event, serve_api
from tests.conftest import make_db_url, open_database


@pytest.fixture
def live(api: Api) -> Iterator[LiveServer]:
    with serve_api(api) as server:
        yield server


def ids(events_seen: list[Event]) -> list[int]:
    return [int(e.json()["event_id"]) for e in events_seen]


def has_id(event_id: int) -> Callable[[Event], bool]:
    return lambda e: bool(e.json()["event_id"] == event_id)


def test_a_run_driven_to_completion_streams_each_change_once(api: Api, live: LiveServer) -> None:
    viewer = api.user("vic", project="default", role="viewer")
    run = DrivenRun(api, "default")
    created = run.event_ids()  # before the stream: a new stream replays no history
    with (
        live.client(viewer) as client,
        client.stream("GET", "/events", params={"project": "default"}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        sse = SseReader(response)
        run.start()
        run.finish("a")
        run.finish("b")
        stored = run.event_ids()
        got = sse.until(has_id(stored[-1]))
    assert ids(got) == [i for i in stored if i not in created]
    assert sse.last_id == str(stored[-1])
    first = got[0].json()
    assert (first["run_id"], first["pipeline"]) == (run.run_id, "chain")
    states = [
        (e.event, e.json().get("name") or e.json().get("task_name"), e.json()["status"])
        for e in got
    ]
    assert ("run", None, "running") in states
    assert ("attempt", "a", "succeeded") in states
    assert ("task", "b", "succeeded") in states
    assert ("run", None, "succeeded") in states


def test_a_client_that_reconnects_with_last_event_id_gets_every_change_once(
    api: Api, live: LiveServer
) -> None:
    viewer = api.user("vic", project="default", role="viewer")
    run = DrivenRun(api, "default")
    created = run.event_ids()
    seen: list[Event] = []
    with live.client(viewer) as client:
        with client.stream("GET", "/events", params={"project": "default"}) as first:
            sse = SseReader(first)
            run.start()
            seen += sse.until(has_id(run.event_ids()[-1]))
            # A transaction took `top - 1` but another committed `top` first.
            top = run.event_ids()[-1] + 3
            insert_event(api.db, run_id=run.run_id, event_id=top)
            seen += sse.until(has_id(top))
            assert sse.last_id == f"{top}:{top - 2}-{top - 1}"  # what it still awaits
        # Disconnected: the late id commits, and the run moves on.
        insert_event(api.db, run_id=run.run_id, event_id=top - 1, status="late")
        run.finish("a")
        headers = {"Last-Event-ID": sse.last_id}
        params = {"project": "default"}
        with client.stream("GET", "/events", params=params, headers=headers) as second:
            again = SseReader(second)
            run.finish("b")
            seen += again.until(has_id(run.event_ids()[-1]))
    got = ids(seen)
    assert len(got) == len(set(got)), "an event arrived twice"
    assert sorted(got) == [i for i in run.event_ids() if i not in created]
    assert got.index(top - 1) > got.index(top)  # delivered although below one already sent
    assert next(e for e in seen if e.json()["event_id"] == top - 1).json()["status"] == "late"


def test_last_event_id_as_a_query_parameter_and_a_bad_one(api: Api, live: LiveServer) -> None:
    viewer = api.user("vic", project="default", role="viewer")
    run = DrivenRun(api, "default")
    run.start()
    stored = run.event_ids()
    params = {"project": "default", "last_event_id": str(stored[0])}
    with live.client(viewer) as client, client.stream("GET", "/events", params=params) as r:
        replayed = SseReader(r).until(has_id(stored[-1]))
    assert ids(replayed) == stored[1:]
    bad = api.call("GET", "/events?project=default&last_event_id=12:x", viewer)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "last_event_id"
    assert "'x' is not an event id" in bad.json()["error"]["message"]


def test_a_project_stream_never_carries_another_projects_events(api: Api, live: LiveServer) -> None:
    alice = api.user("alice", project="team-a", role="viewer")
    api.user("bert", project="team-b", role="developer")
    mine, other_mine, theirs = (DrivenRun(api, p) for p in ("team-a", "team-a", "team-b"))
    assert api.call("GET", "/events?project=team-b", alice).status_code == 404
    assert api.call("GET", "/events?project=no-such", alice).status_code == 404
    foreign = api.call("GET", f"/events?project=team-a&run={theirs.run_id}", alice)
    assert foreign.status_code == 404 and theirs.run_id in foreign.json()["error"]["message"]
    with (
        live.client(alice) as client,
        client.stream("GET", "/events", params={"project": "team-a"}) as everything,
        client.stream(
            "GET", "/events", params={"project": "team-a", "run": mine.run_id}
        ) as one_run,
    ):
        theirs.start()
        mine.start()
        other_mine.start()
        theirs.finish("a")
        mine.finish("a")
        other_mine.finish("a")
        theirs.finish("b")
        last = other_mine.event_ids()[-1]
        project_events = SseReader(everything).until(has_id(last))
        run_events = SseReader(one_run).until(has_id(mine.event_ids()[-1]))
    assert {e.json()["run_id"] for e in project_events} == {mine.run_id, other_mine.run_id}
    assert sorted(ids(project_events)) == sorted(
        [i for r in (mine, other_mine) for i in r.event_ids()[1:] if i <= last]
    )
    assert {e.json()["run_id"] for e in run_events} == {mine.run_id}


def test_an_idle_stream_sends_keep_alive_comments(api: Api, live: LiveServer) -> None:
    viewer = api.user("vic", project="default", role="viewer")
    with (
        live.client(viewer, read_timeout=5) as client,
        client.stream("GET", "/events", params={"project": "default"}) as response,
    ):
        assert SseReader(response).next_comment().startswith("ping")


# -- the poll against real out-of-order commits ---------------------------------------------


@pytest.fixture(params=["postgresql", "mariadb"])
def concurrent_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Backends where a transaction's id can commit after a higher one (not SQLite, whose
    writers take turns)."""
    for url in make_db_url(request.param, tmp_path):
        yield from open_database(url)


def _event(run_id: str, status: str) -> dict[str, object]:
    payload = json.dumps({"name": "a", "status": status})
    return {"run_id": run_id, "kind": "task", "payload": payload, "created_at": datetime.now(UTC)}


def test_an_id_that_commits_after_a_higher_one_is_delivered_once(
    concurrent_db: Database,
) -> None:
    db = concurrent_db
    spec = load_pipeline_text(CHAIN)
    run_id = create_run(db, spec=spec, params={}, now=datetime.now(UTC))
    with db.begin() as conn:
        start = event_store.last_id(conn)
    scope = Scope(DEFAULT_PROJECT_ID)
    tracker = EventTracker(Cursor(start), now=0.0, mine=scope, window=5.0)
    config = StreamConfig()
    slow = db.engine.connect()
    try:
        slow_tx = slow.begin()
        slow.execute(insert(events).values(**_event(run_id, "slow")))  # takes an id first
        with db.begin() as conn:
            conn.execute(insert(events).values(**_event(run_id, "fast")))  # commits first
        first, _ = poll(db, tracker, scope, config, 1.0)
        assert [json.loads(d.row["payload"])["status"] for d in first] == ["fast"]
        assert len(tracker.missing) == 1  # the slow transaction's id
        slow_tx.commit()
    finally:
        slow.close()
    late, _ = poll(db, tracker, scope, config, 2.0)
    assert [json.loads(d.row["payload"])["status"] for d in late] == ["slow"]
    assert late[0].row["id"] < first[0].row["id"]
    assert str(late[0].cursor) == str(first[0].row["id"])  # nothing awaited any more
    assert poll(db, tracker, scope, config, 3.0)[0] == []
