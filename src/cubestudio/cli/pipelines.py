"""`cube pipeline save FILE` and `cube pipeline list`: saved pipelines (versions) on the
local store, as the server keeps them; what `make run` uses to register the examples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cubestudio.errors import NotFoundError

app = typer.Typer(no_args_is_help=True, help="Saved pipelines and their versions.")
ProjectOption = Annotated[str, typer.Option("--project", help="The project (default: default).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _project_id(db: Any, name: str) -> int:
    from cubestudio.store import accounts

    with db.begin() as conn:
        row = accounts.get_project(conn, name=name)
    if row is None:
        raise NotFoundError(f"--project: no project {name} (the server's admin creates projects)")
    return int(row["id"])


@app.command("save")
def save(
    file: Annotated[Path, typer.Argument(help="A pipeline file (.yaml, .json, .py).")],
    project: ProjectOption = "default",
    message: Annotated[str | None, typer.Option("--message", "-m", help="About this save.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Save the file as the pipeline's next version (nothing when it has not changed)."""
    from cubestudio.cli.setup import LazyCatalog, open_db
    from cubestudio.engine.lifecycle import current_user
    from cubestudio.spec.loader import load_pipeline
    from cubestudio.store import pipelines as store

    spec = load_pipeline(file, LazyCatalog())
    db = open_db()
    project_id = _project_id(db, project)
    spec_json = json.dumps(spec.to_data(), sort_keys=True)
    with db.begin() as conn:
        row = store.get_pipeline(conn, project_id=project_id, name=spec.name)
        if row is not None and row["latest_version"] > 0 and row["spec"] == spec_json:
            version, status = int(row["latest_version"]), "unchanged"
        else:
            _id, version = store.save_version(
                conn,
                project_id=project_id,
                name=spec.name,
                spec_json=spec_json,
                layout_json=None,
                author=current_user(),
                message=message,
                now=datetime.now(UTC),
                create=row is None,
            )
            status = "saved"
    result = {"pipeline": spec.name, "project": project, "version": version, "status": status}
    if json_out:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"pipeline {spec.name} version {version} {status} (project {project})")


@app.command("list")
def list_(project: ProjectOption = "default", json_out: JsonOption = False) -> None:
    """The project's saved pipelines with their latest version and last run."""
    from cubestudio.cli.setup import open_db
    from cubestudio.store import pipelines as store

    db = open_db()
    project_id = _project_id(db, project)
    with db.begin() as conn:
        rows = store.list_pipelines(conn, project_id=project_id)
    items = [
        {
            "name": r["name"],
            "version": r["latest_version"],
            "last_run": r["last_run_id"],
            "last_status": r["last_run_status"],
        }
        for r in rows
    ]
    if json_out:
        typer.echo(json.dumps(items))
        return
    for item in items:
        last = f"{item['last_run']} {item['last_status']}" if item["last_run"] else "never run"
        typer.echo(f"{item['name']:<30} v{item['version']:<4} {last}")
