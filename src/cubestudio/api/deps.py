"""The dependencies of every route: the store, the caller (from the bearer token) and the
project it acts in, with the caller's role there. Typed aliases (``DbDep``, ``UserDep``) keep
route signatures short, as in full-stack-fastapi-template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import RowMapping

from cubestudio.api.errors import ApiError, not_found
from cubestudio.auth.tokens import hash_token
from cubestudio.errors import NotFoundError
from cubestudio.store import accounts
from cubestudio.store import runs as runs_store
from cubestudio.store.db import Database

RANK = {"viewer": 0, "developer": 1, "admin": 2}
# last_used_at is written at most this often per token: not one UPDATE per request.
TOUCH_EVERY = timedelta(minutes=1)


def now() -> datetime:
    return datetime.now(UTC)


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DbDep = Annotated[Database, Depends(get_db)]
_bearer = HTTPBearer(auto_error=False, description="a login session or an API token")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    is_admin: bool
    token_id: int
    token_kind: str


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def current_user(
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise _unauthorized(
            "log in first: send `Authorization: Bearer <token>` (POST /api/v1/auth/login "
            "gives one, or `cube token create`)"
        )
    at = now()
    with db.read() as conn:
        row = accounts.token_owner(conn, token_hash=hash_token(credentials.credentials), now=at)
    if row is None:
        raise _unauthorized("this token is unknown, revoked or expired: log in again")
    if row["last_used_at"] is None or row["last_used_at"] < at - TOUCH_EVERY:
        with db.begin() as conn:  # a write at most once a minute per token
            accounts.touch_token(conn, token_id=row["token_id"], now=at)
    return User(row["user_id"], row["name"], bool(row["is_admin"]), row["token_id"], row["kind"])


UserDep = Annotated[User, Depends(current_user)]


def require_admin(user: UserDep) -> User:
    if not user.is_admin:
        raise ApiError(403, "forbidden", "only a platform admin may do this")
    return user


AdminDep = Annotated[User, Depends(require_admin)]


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    role: str  # the caller's: admin / developer / viewer (a platform admin: admin)
    user: User

    def require(self, role: str, doing: str) -> None:
        """Refuse (403) a member whose role is below ``role``."""
        if RANK[self.role] < RANK[role]:
            raise ApiError(
                403,
                "forbidden",
                f"{doing} needs the {role} role in project {self.name}; yours is {self.role}",
            )


def project_access(project: str, db: DbDep, user: UserDep) -> Project:
    """The project named in the path, if the caller may see it: 404 for a non-member, as for
    a project that does not exist (its existence is not revealed)."""
    with db.read() as conn:
        row = accounts.get_project(conn, name=project)
        role = None
        if row is not None:
            role = (
                "admin"
                if user.is_admin
                else accounts.role_of(conn, project_id=row["id"], user_id=user.id)
            )
    if row is None or role is None:
        raise not_found(f"project {project}")
    return Project(row["id"], row["name"], role, user)


ProjectDep = Annotated[Project, Depends(project_access)]


def developer(project: ProjectDep) -> Project:
    project.require("developer", "this")
    return project


def project_admin(project: ProjectDep) -> Project:
    project.require("admin", "this")
    return project


DeveloperDep = Annotated[Project, Depends(developer)]
ProjectAdminDep = Annotated[Project, Depends(project_admin)]


def run_of(db: Database, project: Project, run_id: str) -> RowMapping:
    """The run (by id, or a unique prefix of at least 4 characters) if it belongs to the
    project: 404 otherwise, the same answer as for no run at all. The API's lists give full
    ids; prefixes are for people typing them."""
    with db.read() as conn:
        try:
            row = runs_store.get_run(conn, run_id=run_id)
        except NotFoundError:
            row = None
    if row is None or row["project_id"] != project.id:
        raise not_found(f"run {run_id} in project {project.name}")
    return row
