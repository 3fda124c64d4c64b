"""/metrics: open to Prometheus without a token, store figures read at scrape time, HTTP
latency labelled by route template (bounded labels, also for unknown paths)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, update

from cubestudio.store import accounts
from cubestudio.store.tables import attempts, pipelines, runs
from tests.api.conftest import Api

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(api: Api) -> Samples:
    response = api.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def _runs(api: Api, statuses: dict[str, str], *, project: str = "default") -> None:
    """Runs with the given ids and statuses in ``project``, created a minute ago."""
    now = datetime.now(UTC)
    with api.db.begin() as conn:
        row = accounts.get_project(conn, name=project)
        if row is None:
            project_id = accounts.create_project(
                conn, name=project, description="", created_by="t", now=now
            )
        else:
            project_id = row["id"]
        pipeline = {"project_id": project_id, "name": f"p-{project}", "creator": "ann"}
        result = conn.execute(
            insert(pipelines).values(**pipeline, spec="{}", created_at=now, updated_at=now)
        )
        pid = result.inserted_primary_key[0]  # type: ignore[index]
        for run_id, status in statuses.items():
            values = {"id": run_id, "pipeline_id": pid, "pipeline_name": "p", "status": status}
            values |= {"trigger": "manual", "creator": "ann", "runner": "ann", "spec": "{}"}
            conn.execute(
                insert(runs).values(
                    **values,
                    project_id=project_id,
                    execution_date=now,
                    cluster_name="local",
                    params="{}",
                    created_at=now - timedelta(minutes=1),
                )
            )


def test_a_scrape_counts_runs_per_project_and_status_without_a_token(api: Api) -> None:
    _runs(api, {"a1": "pending", "a2": "pending", "a3": "running", "a4": "succeeded"})
    _runs(api, {"b1": "failed", "b2": "pending"}, project="team-b")
    now = datetime.now(UTC)
    with api.db.begin() as conn:
        lease = {"lease_owner": "eng-1/abc", "lease_expires_at": now + timedelta(minutes=5)}
        conn.execute(update(runs).where(runs.c.id == "a3").values(**lease))
        conn.execute(
            insert(attempts).values(
                run_id="a4",
                task_name="t",
                number=1,
                status="succeeded",
                started_at=now - timedelta(seconds=3),
                finished_at=now,
            )
        )
    samples = scrape(api)  # no Authorization header
    assert value(samples, "cube_store_up") == 1
    assert value(samples, "cube_runs", project="default", status="pending") == 2
    assert value(samples, "cube_runs", project="default", status="running") == 1
    assert value(samples, "cube_runs", project="default", status="succeeded") == 1
    assert value(samples, "cube_runs", project="default", status="failed") == 0
    assert value(samples, "cube_runs", project="team-b", status="failed") == 1
    assert value(samples, "cube_runs", project="team-b", status="pending") == 1
    assert value(samples, "cube_queue_depth") == 3
    assert value(samples, "cube_runs_waiting_for_engine") == 3  # a3 is leased
    assert value(samples, "cube_engine_leased_runs", engine="eng-1") == 1
    assert 59 < value(samples, "cube_engine_oldest_lease_age_seconds", engine="eng-1") < 600
    assert value(samples, "cube_scheduler_lag_seconds") == 0
    assert value(samples, "cube_engines_alive") == 0
    ok = {"status": "succeeded"}
    assert value(samples, "cube_task_duration_seconds_bucket", le="1.0", **ok) == 0
    assert value(samples, "cube_task_duration_seconds_bucket", le="5.0", **ok) == 1
    assert value(samples, "cube_task_duration_seconds_bucket", le="+Inf", **ok) == 1
    assert 2.9 < value(samples, "cube_task_duration_seconds_gsum", **ok) < 3.1


def test_http_latency_is_labelled_by_route_template(api: Api, admin: str) -> None:
    assert api.call("GET", "/projects/default", admin).status_code == 200
    assert api.call("GET", "/projects/no-such-project", admin).status_code == 404
    assert api.client.get("/no/such/path/42").status_code == 404
    assert api.client.get("/api/v1/projects/default/no-such/42").status_code == 404
    samples = scrape(api)
    routes = {dict(labels).get("route") for name, labels in samples if "http_request" in name}
    template = "/api/v1/projects/{project}"
    assert template in routes and "unmatched" in routes
    assert not any(r and ("default" in r or "42" in r) for r in routes)  # never raw paths
    found = {"method": "GET", "route": template, "status": "2xx", "le": "+Inf"}
    assert value(samples, "cube_http_request_duration_seconds_bucket", **found) == 1
    missing = {**found, "status": "4xx"}
    assert value(samples, "cube_http_request_duration_seconds_bucket", **missing) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "4xx"}
    assert value(samples, "cube_http_request_duration_seconds_count", **unmatched) == 2


def test_each_app_has_its_own_registry(api: Api) -> None:
    """A second app in the same process starts from zero (the global registry would refuse
    the second histogram, or mix both apps' requests)."""
    from fastapi.testclient import TestClient

    from cubestudio.api.app import create_app

    api.client.get("/healthz")
    with TestClient(create_app(api.settings, api.db)) as other:
        text = other.get("/metrics").text
    assert 'route="/healthz"' not in text
    assert 'route="/healthz"' in api.client.get("/metrics").text


def test_a_store_that_does_not_answer_leaves_its_figures_out(api: Api) -> None:
    """The scrape still answers (HTTP latency stays visible) and says the store is down."""
    from fastapi.testclient import TestClient

    from cubestudio.api.app import create_app
    from cubestudio.store.db import Database

    gone = Database("postgresql://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    try:
        with TestClient(create_app(api.settings, gone)) as client:
            response = client.get("/metrics")
    finally:
        gone.dispose()
    assert response.status_code == 200
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert "cube_store_up" in names and "cube_runs" not in names
    assert "cube_store_up 0.0" in response.text
