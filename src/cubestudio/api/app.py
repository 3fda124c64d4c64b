"""The FastAPI application: the store and the security helpers on ``app.state``, the routers
under /api/v1, the error format, /healthz and /metrics."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from cubestudio import __version__
from cubestudio.api import errors, metrics
from cubestudio.api.access import AccessCache
from cubestudio.api.limits import BodyLimit
from cubestudio.api.routes import (
    alerts,
    artifacts,
    auth,
    events,
    imports,
    logs,
    metrics_api,
    pipelines,
    projects,
    queues,
    run_admin,
    runs,
    schedules,
    secrets,
    templates,
    workers,
)
from cubestudio.auth.ratelimit import LoginLimiter
from cubestudio.auth.secretbox import SecretBox
from cubestudio.settings import Settings
from cubestudio.store.db import Database

PREFIX = "/api/v1"


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    app = FastAPI(
        title="Cube Studio",
        version=__version__,
        description="Pipelines, runs, templates and schedules of Cube Studio. Every route "
        "but login, /healthz and /metrics needs `Authorization: Bearer <token>`.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.resolved_database_url())
    app.state.limiter = LoginLimiter()
    app.state.access = AccessCache()
    app.state.secrets = SecretBox.load(home=settings.home_dir, key=settings.secret_key)
    errors.install(app)
    api = APIRouter(prefix=PREFIX)
    areas = (
        auth,
        projects,
        pipelines,
        runs,
        logs,
        artifacts,
        events,
        templates,
        secrets,
        alerts,
        imports,
        run_admin,
        schedules,
        metrics_api,
        queues,
        workers,
    )
    for module in areas:
        api.include_router(module.router)
    app.include_router(api)
    metrics.install(app)
    app.add_middleware(BodyLimit)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    return app


def operation_id(route: APIRoute) -> str:
    """``pipelines_list_versions``: the area and the function, which the web UI's generated
    client turns into ``pipelinesListVersions`` (FastAPI's default adds the path and method)."""
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


def healthz(request: Request) -> JSONResponse:
    """Alive, and whether the database answers (no authentication: for load balancers)."""
    db: Database = request.app.state.db
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
