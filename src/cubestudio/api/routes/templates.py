"""The template registry (F11) over the API: what `cube template` does, platform-wide or per
project. Platform-wide templates are seen by every user and registered by platform admins;
a project's templates are seen by its members and registered by its developers. The rules
(immutable versions, names unique across the platform, what may be deleted) are the store's
(store/templates.py), in the same words as the CLI's. A template of a project the caller is
not a member of is answered as unknown (404), as for a name nobody registered."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from weakref import WeakSet

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cubestudio.api.deps import DbDep, Project, ProjectDep, User, UserDep, now, project_of
from cubestudio.api.errors import ApiError
from cubestudio.errors import FieldError, SpecError
from cubestudio.spec.jsonschema import parameters_schema
from cubestudio.spec.loader import load_template_text
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import accounts
from cubestudio.store import templates as registry
from cubestudio.store.db import Database

router = APIRouter(tags=["templates"])

MAX_TEMPLATE_CHARS = 1_000_000  # a template file: its command, parameters and env
NameArg = Annotated[str, Path(max_length=63, description="The template's name.")]
VersionArg = Annotated[
    int | None,
    Query(ge=1, le=2_147_483_647, description="A version number; the latest when not given."),
]
ProjectArg = Annotated[
    str | None,
    Query(max_length=63, description="Also list this project's templates (members only)."),
]


class TemplateYaml(BaseModel):
    """A template file's text, as `cube template register FILE` reads it."""

    model_config = ConfigDict(extra="forbid")
    yaml: Annotated[str, Field(max_length=MAX_TEMPLATE_CHARS)]


TemplateBody = Annotated[
    TemplateYaml | dict[str, Any],
    Body(
        description="The template as JSON (the same fields as its YAML file), or "
        '`{"yaml": "<the file\'s text>"}`.'
    ),
]


class TemplateSummary(BaseModel):
    """What the editor's palette shows of a template."""

    name: str
    version: int
    project: str | None = Field(description="The project holding it; null: platform-wide.")
    category: str
    description: str
    image: str
    distributed: str
    builtin: bool
    creator: str
    created_at: datetime


class TemplateOut(TemplateSummary):
    template: TemplateSpec = Field(description="The template, as its file gives it.")


class RegisteredOut(TemplateOut):
    created: bool = Field(description="False when the latest version had the same content.")


class VersionOut(BaseModel):
    version: int
    creator: str
    created_at: datetime
    deleted: bool
    deleted_at: str | None
    deleted_by: str | None


class DeletedOut(BaseModel):
    name: str
    version: int
    deleted: bool


async def platform_admin(user: UserDep) -> User:
    if not user.is_admin:
        raise ApiError(
            403,
            "forbidden",
            "registering a platform-wide template needs a platform admin: register it in "
            "your project instead (POST /api/v1/projects/{project}/templates)",
        )
    return user


async def template_developer(project: ProjectDep) -> Project:
    project.require("developer", "registering a template")
    return project


@router.get("/templates", response_model=list[TemplateSummary])
def list_templates(user: UserDep, db: DbDep, project: ProjectArg = None) -> list[TemplateSummary]:
    """The latest version of every platform-wide template, and of the project's with
    `?project=NAME`, by name."""
    scope = project_of(db, user, project) if project is not None else None
    _with_builtins(db)
    with db.begin() as conn:
        entries = registry.list_entries(conn, project_id=scope.id if scope else None)
    where = _Scope(scope.id, scope.name) if scope else _NO_PROJECT
    return [TemplateSummary(**_fields(e, where)) for e in entries]


@router.get("/templates/{name}", response_model=TemplateOut)
def get_template(
    name: NameArg, user: UserDep, db: DbDep, version: VersionArg = None
) -> TemplateOut:
    """A template: its latest version, or `?version=N`."""
    _with_builtins(db)
    with db.begin() as conn:
        scope = _scope(conn, user, name)
        entry = registry.get_entry(conn, name=name, version=version, project_id=scope.id)
    return TemplateOut(**_fields(entry, scope), template=entry.template)


@router.get("/templates/{name}/versions", response_model=list[VersionOut])
def list_versions(name: NameArg, user: UserDep, db: DbDep) -> list[VersionOut]:
    """Every version number the template was given, newest first; a deleted one says when
    and by whom (its number is never given again)."""
    _with_builtins(db)
    with db.begin() as conn:
        scope = _scope(conn, user, name)
        rows = registry.list_versions(conn, name=name, project_id=scope.id)
    return [
        VersionOut(
            version=r.version,
            creator=r.creator,
            created_at=r.created_at,
            deleted=r.deleted_at is not None,
            deleted_at=r.deleted_at,
            deleted_by=r.deleted_by,
        )
        for r in rows
    ]


@router.get("/templates/{name}/schema", response_model=dict[str, Any])
def get_schema(
    name: NameArg, user: UserDep, db: DbDep, version: VersionArg = None
) -> dict[str, Any]:
    """The template's parameters as a JSON Schema (draft 2020-12) of a task's `args`, with
    `x-type`, `x-group` and `x-order` for building a form (see spec/jsonschema.py)."""
    _with_builtins(db)
    with db.begin() as conn:
        scope = _scope(conn, user, name)
        template = registry.get_template(conn, name=name, version=version, project_id=scope.id)
    return parameters_schema(template)


@router.get(
    "/templates/{name}/export",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/yaml": {}}}},
)
def export_template(
    name: NameArg, user: UserDep, db: DbDep, version: VersionArg = None
) -> PlainTextResponse:
    """The template as a YAML file to register elsewhere, without its version number (what
    `cube template export` prints)."""
    from cubestudio.cli.templates import to_yaml

    _with_builtins(db)
    with db.begin() as conn:
        scope = _scope(conn, user, name)
        template = registry.get_template(conn, name=name, version=version, project_id=scope.id)
    data = template.to_data()
    data.pop("version", None)
    return PlainTextResponse(to_yaml(data), media_type="application/yaml")


@router.post("/templates", response_model=RegisteredOut, status_code=201)
def register_platform_template(
    body: TemplateBody,
    user: Annotated[User, Depends(platform_admin)],
    db: DbDep,
    response: Response,
) -> RegisteredOut:
    """Register a platform-wide template as a new immutable version (platform admins): 201,
    or 200 when its content is the latest version's (nothing registered)."""
    return _register(db, body, user, _NO_PROJECT, response)


@router.post("/projects/{project}/templates", response_model=RegisteredOut, status_code=201)
def register_project_template(
    body: TemplateBody,
    project: Annotated[Project, Depends(template_developer)],
    db: DbDep,
    response: Response,
) -> RegisteredOut:
    """Register a template of the project (developers and admins) as a new immutable
    version: 201, or 200 when its content is the latest version's."""
    return _register(db, body, project.user, _Scope(project.id, project.name), response)


@router.delete("/templates/{name}", response_model=DeletedOut)
def delete_template(
    name: NameArg, user: UserDep, db: DbDep, version: VersionArg = None
) -> DeletedOut:
    """Delete a version that no run and no schedule uses (409 naming them otherwise), as
    `cube template delete NAME@VERSION` does. A platform-wide template: platform admins; a
    project's: its developers and admins."""
    if version is None:
        raise SpecError(
            [
                FieldError(
                    "version",
                    f"give the version to delete: ?version=N (GET /api/v1/templates/{name} "
                    "gives the latest)",
                )
            ]
        )
    with db.begin() as conn:
        scope = _scope(conn, user, name)
        # Unknown, deleted or another project's: 404 before any question of rights.
        registry.get_template(conn, name=name, version=version, project_id=scope.id)
        _may_change(scope, user)
        gone = registry.delete_template(
            conn, name=name, version=version, user=user.name, now=now(), project_id=scope.id
        )
    return DeletedOut(name=gone.name, version=version, deleted=True)


# -- helpers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """The project whose templates the caller sees beside the platform's in one request
    (id None: only the platform's), with the caller's role there."""

    id: int | None
    name: str | None
    role: str = ""


_NO_PROJECT = _Scope(None, None)


def _scope(conn: Connection, user: User, name: str) -> _Scope:
    """The project holding the template, if the caller is a member (or a platform admin)."""
    owner = registry.template_owner(conn, name=name)
    if owner is None:
        return _NO_PROJECT
    project = accounts.get_project(conn, project_id=owner)
    role = "admin" if user.is_admin else accounts.role_of(conn, project_id=owner, user_id=user.id)
    if project is None or role is None:
        return _NO_PROJECT
    return _Scope(owner, str(project["name"]), role)


def _may_change(scope: _Scope, user: User) -> None:
    if scope.id is None:
        if not user.is_admin:
            raise ApiError(
                403, "forbidden", "deleting a platform-wide template needs a platform admin"
            )
        return
    assert scope.name is not None
    Project(scope.id, scope.name, scope.role, user).require("developer", "deleting a template")


def _register(
    db: Database, body: TemplateYaml | dict[str, Any], user: User, scope: _Scope, response: Response
) -> RegisteredOut:
    template = _parse(body)
    _with_builtins(db)  # their names are reserved, so they are known before the first one
    try:
        with db.begin() as conn:
            stored, created = registry.register_template(
                conn, template=template, creator=user.name, now=now(), project_id=scope.id
            )
            entry = registry.get_entry(
                conn, name=stored.name, version=stored.version, project_id=scope.id
            )
    except IntegrityError:
        raise ApiError(
            409,
            "conflict",
            f"template {template.name} was registered by someone else at the same moment: "
            "send it again (it gets the next version, or is found unchanged)",
        ) from None
    response.status_code = 201 if created else 200
    return RegisteredOut(**_fields(entry, scope), template=entry.template, created=created)


def _parse(body: TemplateYaml | dict[str, Any]) -> TemplateSpec:
    """The body as `cube template register` reads a file: the same checks and messages."""
    if isinstance(body, TemplateYaml):
        return load_template_text(body.yaml, source="yaml")
    if "yaml" in body:  # meant as a file's text, but not TemplateYaml
        message = (
            f"give the template file's text as a string of at most {MAX_TEMPLATE_CHARS} "
            "characters, and no other field beside it"
        )
        raise SpecError([FieldError("yaml", message)])
    text = json.dumps(body)
    if len(text) > MAX_TEMPLATE_CHARS:
        raise ApiError(
            413,
            "too_large",
            f"the template is {len(text)} characters of JSON, over the limit of "
            f"{MAX_TEMPLATE_CHARS}: move large scripts into files the command runs",
        )
    return load_template_text(text, source="body.json")


def _fields(entry: registry.TemplateEntry, scope: _Scope) -> dict[str, Any]:
    """A TemplateSummary's fields; an entry that is not platform-wide is the scope's."""
    t = entry.template
    return {
        "name": t.name,
        "version": t.version,
        "project": None if entry.project_id is None else scope.name,
        "category": t.category,
        "description": t.description,
        "image": t.image,
        "distributed": t.distributed,
        "builtin": t.name in registry.builtin_names(),
        "creator": entry.creator,
        "created_at": entry.created_at,
    }


# The built-in templates are registered once per store the first time a route needs them
# (as the CLI does); a lock keeps two first requests from inserting them twice.
_seeded: WeakSet[Database] = WeakSet()
_seeding = threading.Lock()


def _with_builtins(db: Database) -> None:
    if db in _seeded:
        return
    with _seeding:
        if db in _seeded:
            return
        for _attempt in range(2):
            try:
                with db.begin() as conn:
                    registry.ensure_builtins(conn, now=now())
                break
            except IntegrityError:
                continue  # another server registered them at this moment: look again
        _seeded.add(db)
