"""Deleting a run of a project (`cube runs delete` on a server): its rows, then its attempt
folders, logs and artifacts on the server. Only an ended run goes (409 otherwise: stop it
first); a run of another project is a 404, as for no run at all."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from cubestudio.api.deps import DbDep, DeveloperDep, run_of
from cubestudio.artifacts import open_store
from cubestudio.engine.deletion import delete_runs, remove_run_files

router = APIRouter(tags=["runs"])


@router.delete("/projects/{project}/runs/{run_id}", status_code=204)
def delete_run(run_id: str, request: Request, project: DeveloperDep, db: DbDep) -> Response:
    """Delete an ended run with everything stored for it (409 while it has not ended)."""
    run = run_of(db, project, run_id)
    settings = request.app.state.settings
    artifacts = open_store(settings)  # one that cannot be opened fails before any row goes
    deleted = delete_runs(db, run_ids=[run["id"]])
    remove_run_files(
        run_ids=deleted, artifacts=artifacts, runs_dir=settings.runs_dir, home_dir=settings.home_dir
    )
    return Response(status_code=204)
