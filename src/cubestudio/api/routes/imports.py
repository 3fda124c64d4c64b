"""Import from cube-studio over the API (what `cube import cube-studio` does): its job
template export becomes templates of the project (or platform-wide, for a platform admin
who asks), its pipeline export becomes saved pipelines of the project. Every field without
a home here is listed per item; an item that fails is reported and the others go on."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from cubestudio.api.deps import DbDep, DeveloperDep, now
from cubestudio.api.errors import ApiError
from cubestudio.api.pipeline_io import catalog_of, load_body
from cubestudio.errors import CubeError, SpecError
from cubestudio.importers.cubestudio import ExportFormatError, ImportResult, detect_export
from cubestudio.store import pipelines as pipeline_store
from cubestudio.store.templates import register_template

router = APIRouter(tags=["import"])


@router.post("/projects/{project}/import/cube-studio")
def import_cube_studio(
    project: DeveloperDep,
    db: DbDep,
    export: Annotated[
        dict[str, Any], Body(description="init-job-template.json or init-pipeline.json")
    ],
    platform: Annotated[
        bool, Query(description="templates platform-wide (a platform admin only)")
    ] = False,
) -> Any:
    """{"kind": "templates"|"pipelines", "items": [{source, name, status, version,
    unmapped, errors}]}; status is registered / unchanged / saved / failed."""
    try:
        kind = detect_export(export)
    except ExportFormatError as err:
        raise ApiError(422, "invalid", str(err), field="body") from None
    if platform and not project.user.is_admin:
        raise ApiError(403, "forbidden", "platform-wide templates are a platform admin's")
    if kind == "templates":
        from cubestudio.importers.cubestudio_templates import import_templates

        scope = None if platform else project.id
        items = [_register(db, project, r, scope) for r in import_templates(export)]
    else:
        from cubestudio.importers.cubestudio_pipelines import import_pipelines

        results = import_pipelines(export, catalog_of(db, project))
        items = [_save(db, project, r) for r in results]
    return {"kind": kind, "items": items}


def _register(db: DbDep, project: Any, result: ImportResult, scope: int | None) -> Any:
    row = _row(result)
    if result.template is not None and result.ok:
        try:
            with db.begin() as conn:
                stored, new = register_template(
                    conn,
                    template=result.template,
                    creator=project.user.name,
                    now=now(),
                    project_id=scope,
                )
        except CubeError as err:
            result.errors.append(str(err))
        else:
            row |= {"version": stored.version, "status": "registered" if new else "unchanged"}
    return _finish(row, result)


def _save(db: DbDep, project: Any, result: ImportResult) -> Any:
    row = _row(result)
    if result.pipeline is not None and result.ok:
        try:
            spec, data = load_body(db, project, result.pipeline, None)
            with db.begin() as conn:
                exists = pipeline_store.get_pipeline(conn, project_id=project.id, name=spec.name)
                _id, version = pipeline_store.save_version(
                    conn,
                    project_id=project.id,
                    name=spec.name,
                    spec_json=json.dumps(data, sort_keys=True),
                    layout_json=None,
                    author=project.user.name,
                    message=f"imported from cube-studio pipeline {result.source!r}",
                    now=now(),
                    create=exists is None,
                )
        except SpecError as err:
            result.errors += [str(e) for e in err.errors]
        except CubeError as err:
            result.errors.append(str(err))
        else:
            row |= {"version": version, "status": "saved"}
    return _finish(row, result)


def _row(result: ImportResult) -> dict[str, Any]:
    return {"source": result.source, "name": result.name, "status": "failed", "version": None}


def _finish(row: dict[str, Any], result: ImportResult) -> dict[str, Any]:
    row["unmapped"] = [u.to_data() for u in result.unmapped]
    row["errors"] = list(result.errors)
    return row
