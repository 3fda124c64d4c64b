"""Project secrets: list (names and times), create or replace, delete. A value goes in and is
never given back by any route; a run gets it through its pipeline's env
(``{secret: true, from_secret: NAME}``). Developers and admins only: a viewer cannot see
even the names."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cubestudio.api.deps import DbDep, DeveloperDep, now
from cubestudio.api.errors import not_found
from cubestudio.auth import project_secrets as secrets
from cubestudio.auth.secretbox import SecretBox

router = APIRouter(tags=["secrets"])


async def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secrets
    return box


BoxDep = Annotated[SecretBox, Depends(_box)]


class SecretSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Characters here; the byte limit (UTF-8) is checked below it, in auth.project_secrets.
    value: Annotated[str, Field(max_length=secrets.MAX_VALUE_BYTES)]


class SecretOut(BaseModel):
    """A secret as it is listed: never its value."""

    name: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@router.get("/projects/{project}/secrets", response_model=list[SecretOut])
def list_secrets(project: DeveloperDep, db: DbDep) -> list[SecretOut]:
    """The project's secrets by name, with who created them and when (no values)."""
    rows = secrets.list_secrets(db, project_id=project.id)
    return [SecretOut.model_validate(row, from_attributes=True) for row in rows]


@router.get("/projects/{project}/secrets/{name}", response_model=SecretOut)
def get_secret(name: str, project: DeveloperDep, db: DbDep) -> SecretOut:
    """Whether the secret exists, and since when (never its value)."""
    info = secrets.get_info(db, project_id=project.id, name=name)
    if info is None:
        raise not_found(f"secret {name} in project {project.name}")
    return SecretOut.model_validate(info, from_attributes=True)


@router.put(
    "/projects/{project}/secrets/{name}",
    response_model=SecretOut,
    responses={201: {"model": SecretOut, "description": "Created"}},
)
def set_secret(
    name: str,
    body: SecretSet,
    project: DeveloperDep,
    db: DbDep,
    box: BoxDep,
    response: Response,
) -> SecretOut:
    """Create (201) or replace (200) the secret; the answer does not hold the value."""
    created = secrets.set_secret(
        db,
        box=box,
        project_id=project.id,
        name=name,
        value=body.value,
        user=project.user.name,
        now=now(),
    )
    response.status_code = 201 if created else 200
    info = secrets.get_info(db, project_id=project.id, name=name)
    if info is None:  # deleted by another request in between
        raise not_found(f"secret {name} in project {project.name}")
    return SecretOut.model_validate(info, from_attributes=True)


@router.delete("/projects/{project}/secrets/{name}", status_code=204)
def delete_secret(name: str, project: DeveloperDep, db: DbDep) -> Response:
    """Delete the secret: runs that started keep the value they were given; a later run
    whose pipeline refers to it is refused until it is set again."""
    secrets.delete_secret(db, project_id=project.id, name=name)
    return Response(status_code=204)
