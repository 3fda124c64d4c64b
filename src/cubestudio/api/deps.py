"""The dependencies of every route: the store, the caller (from the bearer token) and the
project it acts in, with the caller's role there. Typed aliases (``DbDep``, ``UserDep``) keep
route signatures short, as in full-stack-fastapi-template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, RowMapping
from starlette.concurrency import run_in_threadpool

from cubestudio.api.access import AccessCache
from cubestudio.api.errors import ApiError, not_found
from cubestudio.auth.tokens import hash_token
from cubestudio.errors import NotFoundError
from cubestudio.store import accounts
from cubestudio.store import runs as runs_store
from cubestudio.store.db import Database

T = TypeVar("T")
RANK = {"viewer": 0, "developer": 1, "admin": 2}
# last_used_at is written at most this often per token: not one UPDATE per request.
TOUCH_EVERY = timedelta(minutes=1)


def now() -> datetime:
    return datetime.now(UTC)


# Dependencies that touch no store are `async def`: FastAPI runs a plain `def` dependency in
# its thread pool, a hop that costs more than the dependency itself.
async def get_db(request: Request) -> Database:
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


async def access_cache(request: Request) -> AccessCache:
    cache: AccessCache = request.app.state.access
    return cache


AccessDep = Annotated[AccessCache, Depends(access_cache)]


async def current_user(
    request: Request,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The token's user: from the access cache (api/access.py), else the store (in the
    thread pool: the event loop never waits on the database)."""
    if credentials is None:
        raise _unauthorized(
            "log in first: send `Authorization: Bearer <token>` (POST /api/v1/auth/login "
            "gives one, or `cube token create`)"
        )
    key = ("token", hash_token(credentials.credentials))
    cache: AccessCache = request.app.state.access
    found: tuple[User, datetime | None] | None = cache.get(key)
    if found is None:
        found = await run_in_threadpool(_token_user, db, key[1])
        if found is not None:
            cache.put(key, found)
    if found is None or (found[1] is not None and found[1] <= now()):
        raise _unauthorized("this token is unknown, revoked or expired: log in again")
    return found[0]


def _token_user(db: Database, token_hash: str) -> tuple[User, datetime | None] | None:
    at = now()
    with db.read() as conn:
        row = accounts.token_owner(conn, token_hash=token_hash, now=at)
    if row is None:
        return None
    if row["last_used_at"] is None or row["last_used_at"] < at - TOUCH_EVERY:
        with db.begin() as conn:  # a write at most once a minute per token
            accounts.touch_token(conn, token_id=row["token_id"], now=at)
    user = User(row["user_id"], row["name"], bool(row["is_admin"]), row["token_id"], row["kind"])
    return user, row["expires_at"]


UserDep = Annotated[User, Depends(current_user)]


async def require_admin(user: UserDep) -> User:
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


async def project_access(project: str, request: Request, db: DbDep, user: UserDep) -> Project:
    """The project named in the path, if the caller may see it: 404 for a non-member, as for
    a project that does not exist (its existence is not revealed)."""
    key = ("project", user.id, user.is_admin, project)
    cache: AccessCache = request.app.state.access
    found: tuple[int, str, str] | None = cache.get(key)
    if found is None:
        found = await run_in_threadpool(_project_role, db, user, project)
        if found is not None:
            cache.put(key, found)
    if found is None:
        raise not_found(f"project {project}")
    return Project(found[0], found[1], found[2], user)


def project_of(db: Database, user: User, project: str) -> Project:
    """project_access for a project named elsewhere than the path (a query parameter),
    from a route already in the thread pool."""
    found = _project_role(db, user, project)
    if found is None:
        raise not_found(f"project {project}")
    return Project(found[0], found[1], found[2], user)


def _project_role(db: Database, user: User, project: str) -> tuple[int, str, str] | None:
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
        return None
    return int(row["id"]), str(row["name"]), role


ProjectDep = Annotated[Project, Depends(project_access)]


async def developer(project: ProjectDep) -> Project:
    project.require("developer", "this")
    return project


async def project_admin(project: ProjectDep) -> Project:
    project.require("admin", "this")
    return project


DeveloperDep = Annotated[Project, Depends(developer)]
ProjectAdminDep = Annotated[Project, Depends(project_admin)]


def run_of(db: Database, project: Project, run_id: str) -> RowMapping:
    """The run (by id, or a unique prefix of at least 4 characters) if it belongs to the
    project: 404 otherwise, the same answer as for no run at all. The API's lists give full
    ids; prefixes are for people typing them."""
    with db.read() as conn:
        return run_in(conn, project, run_id)


def run_in(conn: Connection, project: Project, run_id: str) -> RowMapping:
    """run_of in the caller's transaction."""
    try:
        row = runs_store.get_run(conn, run_id=run_id)
    except NotFoundError:
        row = None
    if row is None or row["project_id"] != project.id:
        raise not_found(f"run {run_id} in project {project.name}")
    return row


async def short_read(db: Database, read: Callable[[], T]) -> T:
    """Run a short read of the store for an async route: on SQLite in the event loop itself
    (a query of a millisecond costs less than the thread hop, and threads taking turns at
    the GIL around each SQLite call cost more still); elsewhere in the thread pool, as the
    database is across a network."""
    if db.backend == "sqlite":
        return read()
    return await run_in_threadpool(read)
