"""Users (platform admins create them), projects and their members."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from cubestudio.api.deps import (
    AccessDep,
    AdminDep,
    DbDep,
    ProjectAdminDep,
    ProjectDep,
    UserDep,
    now,
)
from cubestudio.api.errors import ApiError, not_found
from cubestudio.auth import users as auth
from cubestudio.store import accounts

router = APIRouter(tags=["projects"])
Role = Literal["admin", "developer", "viewer"]


class UserCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=63)]
    password: Annotated[str | None, Field(min_length=8, max_length=1024)] = None
    is_admin: bool = False


class UserOut(BaseModel):
    id: int
    name: str
    is_admin: bool
    created_at: datetime


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
def create_user(body: UserCreate, _admin: AdminDep, db: DbDep) -> UserOut:
    user_id = auth.create_user(
        db, name=body.name, password=body.password, is_admin=body.is_admin, now=now()
    )
    with db.read() as conn:
        row = accounts.get_user(conn, user_id=user_id)
    return UserOut.model_validate(dict(row or {}))


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(_admin: AdminDep, db: DbDep) -> list[UserOut]:
    with db.read() as conn:
        return [UserOut.model_validate(dict(r)) for r in accounts.list_users(conn)]


class ProjectCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=63)]
    description: Annotated[str, Field(max_length=10_000)] = ""


class ProjectOut(BaseModel):
    id: int
    name: str
    description: str
    created_at: datetime
    role: Role


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(user: UserDep, db: DbDep) -> list[ProjectOut]:
    """The projects the caller is a member of (a platform admin: all), with its role."""
    with db.read() as conn:
        rows = accounts.list_projects(conn, user_id=None if user.is_admin else user.id)
    return [ProjectOut.model_validate({**r, "role": r.get("role") or "admin"}) for r in rows]


@router.post("/projects", response_model=ProjectOut, status_code=201)
def create_project(body: ProjectCreate, admin: AdminDep, db: DbDep, cache: AccessDep) -> ProjectOut:
    auth.check_name(body.name, "project name")
    at = now()
    with db.begin() as conn:
        project_id = accounts.create_project(
            conn, name=body.name, description=body.description, created_by=admin.name, now=at
        )
        accounts.set_member(conn, project_id=project_id, user_id=admin.id, role="admin", now=at)
        row = accounts.get_project(conn, project_id=project_id)
    cache.clear()
    return ProjectOut.model_validate({**(row or {}), "role": "admin"})


@router.get("/projects/{project}", response_model=ProjectOut)
def get_project(project: ProjectDep, db: DbDep) -> ProjectOut:
    with db.read() as conn:
        row = accounts.get_project(conn, project_id=project.id)
    return ProjectOut.model_validate({**(row or {}), "role": project.role})


class MemberOut(BaseModel):
    name: str
    role: Role
    added_at: datetime


class MemberSet(BaseModel):
    role: Role


@router.get("/projects/{project}/members", response_model=list[MemberOut])
def list_members(project: ProjectDep, db: DbDep) -> list[MemberOut]:
    with db.read() as conn:
        rows = accounts.list_members(conn, project_id=project.id)
    return [MemberOut.model_validate(dict(r)) for r in rows]


@router.put("/projects/{project}/members/{user_name}", response_model=MemberOut)
def set_member(
    user_name: str, body: MemberSet, project: ProjectAdminDep, db: DbDep, cache: AccessDep
) -> MemberOut:
    """Add a user to the project, or change its role (a project admin's call)."""
    at = now()
    with db.begin() as conn:
        user = accounts.get_user(conn, name=user_name)
        if user is None:
            raise not_found(f"user {user_name}")
        accounts.set_member(conn, project_id=project.id, user_id=user["id"], role=body.role, now=at)
        _keep_an_admin(conn, project.id, project.name)
    cache.clear()
    return MemberOut(name=user_name, role=body.role, added_at=at)


@router.delete("/projects/{project}/members/{user_name}", status_code=204)
def remove_member(
    user_name: str, project: ProjectAdminDep, db: DbDep, cache: AccessDep
) -> Response:
    with db.begin() as conn:
        user = accounts.get_user(conn, name=user_name)
        if user is None:
            raise not_found(f"user {user_name}")
        accounts.remove_member(conn, project_id=project.id, user_id=user["id"])
        _keep_an_admin(conn, project.id, project.name)
    cache.clear()
    return Response(status_code=204)


def _keep_an_admin(conn: Connection, project_id: int, name: str) -> None:
    """A project never loses its last admin (the change is rolled back)."""
    if not any(m["role"] == "admin" for m in accounts.list_members(conn, project_id=project_id)):
        raise ApiError(
            409, "conflict", f"project {name} would have no admin left: make another admin first"
        )
