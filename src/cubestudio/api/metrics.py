"""/metrics for Prometheus (no authentication, like /healthz).

Two kinds of figure, in one registry per app (never prometheus_client's global one: tests
build many apps in one process):

- ``cube_http_request_duration_seconds``: measured by this process, per route *template*
  (``/api/v1/projects/{project}``, never the raw path, whose values are unbounded), method
  and status class. Each replica counts its own requests: sum them across replicas.
- Every other ``cube_`` figure is read from the store when scraped (``StoreCollector``), so
  all server replicas report the same values: aggregate them with ``max without
  (instance)``, never ``sum``. A scrape costs the handful of aggregate statements of
  ``store.stats.snapshot``, whatever the history's size. When the database does not answer,
  ``cube_store_up`` is 0 and the store figures are left out; the scrape still succeeds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cubestudio.api.deps import now as wall_clock
from cubestudio.engine.states import RunState, TaskState
from cubestudio.errors import CubeError
from cubestudio.store import stats
from cubestudio.store.db import Database

log = logging.getLogger(__name__)

UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DURATION_WINDOW = timedelta(hours=24)  # the task duration histogram's look-back


def install(app: FastAPI, *, clock: Callable[[], datetime] = wall_clock) -> None:
    """Mount /metrics and the HTTP latency middleware."""
    registry = CollectorRegistry()
    latency = Histogram(
        "cube_http_request_duration_seconds",
        "Time to the response's start, by route template, method and status class.",
        ["method", "route", "status"],
        registry=registry,
    )
    lease_seconds = float(app.state.settings.engine_lease)
    registry.register(StoreCollector(app.state.db, lease_seconds=lease_seconds, clock=clock))
    app.state.metrics_registry = registry
    app.add_middleware(LatencyMiddleware, histogram=latency)
    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        tags=["health"],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    )


def metrics(request: Request) -> Response:
    """Prometheus text format; no authentication (store figures are the same on every
    server replica, HTTP latency is this replica's)."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class LatencyMiddleware:
    """Observes each HTTP request when its response starts (an event stream is timed to its
    first byte, not to its end). Labels stay bounded: the route template, a known method or
    OTHER, and the status class."""

    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        observed = False

        async def timed_send(message: Message) -> None:
            nonlocal observed
            if message["type"] == "http.response.start" and not observed:
                observed = True
                self._observe(scope, int(message["status"]), started)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        except BaseException:
            if not observed:  # the error handler outside answers 500
                self._observe(scope, 500, started)
            raise

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        method = str(scope.get("method", "")).upper()
        self.histogram.labels(
            method=method if method in METHODS else "OTHER",
            route=route_template(scope),
            status=f"{status // 100}xx",
        ).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The full path template of the route that took the request, or ``unmatched``: never
    the raw path. Routing leaves the route in the scope; FastAPI releases that resolve an
    included router lazily leave there the route as declared (``/projects/{project}``,
    without the router's prefix) and the effective one, prefix included, beside it."""
    fastapi_scope = scope.get("fastapi")
    effective = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    for route in (getattr(effective, "starlette_route", None), effective, scope.get("route")):
        template = getattr(route, "path_format", None)
        if isinstance(template, str) and template:
            return template
    return UNMATCHED


class StoreCollector(Collector):
    """The store's figures, read at every scrape (see the module's docstring)."""

    def __init__(
        self, db: Database, *, lease_seconds: float, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.clock = clock

    def collect(self) -> Iterable[Metric]:
        started = time.perf_counter()
        now = self.clock()
        up = GaugeMetricFamily("cube_store_up", "1 when the database answered this scrape.")
        try:
            with self.db.begin() as conn:
                figures = stats.snapshot(
                    conn, now=now, lease_seconds=self.lease_seconds, window=DURATION_WINDOW
                )
        except (SQLAlchemyError, CubeError) as err:
            log.warning("/metrics: the store figures are left out: %s", err)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "cube_store_scrape_duration_seconds",
            "Time this scrape spent reading the store.",
            value=time.perf_counter() - started,
        )
        yield from store_families(figures, now=now)


def store_families(figures: stats.StoreStats, *, now: datetime) -> Iterable[Metric]:
    yield from _run_families(figures)
    yield _scheduler_lag(figures, now)
    yield GaugeMetricFamily(
        "cube_scheduler_waiting_records",
        "Due schedule ticks of unpaused schedules still waiting for a run.",
        value=figures.scheduler.waiting,
    )
    yield from _engine_families(figures, now)
    yield _durations(figures)


def _run_families(figures: stats.StoreStats) -> Iterable[Metric]:
    runs = GaugeMetricFamily(
        "cube_runs", "Runs in the store, by project and run status.", labels=["project", "status"]
    )
    # Every known status of each project with runs, zeros included: series never vanish.
    statuses = [s.value for s in RunState] + sorted(
        {s for _, s in figures.runs} - {s.value for s in RunState}
    )
    for project in sorted({p for p, _ in figures.runs}):
        for status in statuses:
            runs.add_metric([project, status], figures.runs.get((project, status), 0))
    yield runs
    yield GaugeMetricFamily(
        "cube_queue_depth",
        "Runs not started yet (status pending), every project together.",
        value=figures.queue_depth,
    )
    yield GaugeMetricFamily(
        "cube_runs_waiting_for_engine",
        "Pending and running runs that no live engine lease covers.",
        value=figures.waiting_for_engine,
    )
    tasks = GaugeMetricFamily(
        "cube_active_tasks",
        "Tasks of pending and running runs, by task status.",
        labels=["status"],
    )
    for status in sorted({s.value for s in TaskState} | set(figures.active_tasks)):
        tasks.add_metric([status], figures.active_tasks.get(status, 0))
    yield tasks


def _scheduler_lag(figures: stats.StoreStats, now: datetime) -> Metric:
    return GaugeMetricFamily(
        "cube_scheduler_lag_seconds",
        "Now minus the oldest due schedule tick still waiting for a run (0: none waits).",
        value=figures.scheduler.lag_seconds(now),
    )


def _engine_families(figures: stats.StoreStats, now: datetime) -> Iterable[Metric]:
    yield GaugeMetricFamily(
        "cube_engines_alive",
        "Engine services with a heartbeat younger than a lease and no clean stop.",
        value=figures.engines_alive,
    )
    held = GaugeMetricFamily(
        "cube_engine_leased_runs", "Runs whose live lease the engine holds.", labels=["engine"]
    )
    oldest = GaugeMetricFamily(
        "cube_engine_oldest_lease_age_seconds",
        "Age of the oldest live lease the engine holds (since its claim).",
        labels=["engine"],
    )
    for lease in figures.engine_leases:
        held.add_metric([lease.engine_id], lease.runs)
        oldest.add_metric(
            [lease.engine_id], max(0.0, (now - lease.oldest_claimed_at).total_seconds())
        )
    yield held
    yield oldest


def _durations(figures: stats.StoreStats) -> Metric:
    hours = int(DURATION_WINDOW.total_seconds() // 3600)
    family = GaugeHistogramMetricFamily(
        "cube_task_duration_seconds",
        f"Durations of task attempts that finished in the last {hours} h, by attempt status.",
        labels=["status"],
    )
    for d in figures.durations:
        bounds = zip(d.le, d.cumulative, strict=True)
        buckets = [(repr(float(le)), float(n)) for le, n in bounds]  # "1.0": as Histogram
        family.add_metric([d.status], [*buckets, ("+Inf", float(d.count))], d.sum_seconds)
    return family
