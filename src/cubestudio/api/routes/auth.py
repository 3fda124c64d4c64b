"""Login, the caller's own account and its API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from cubestudio.api.deps import AccessDep, DbDep, UserDep, now
from cubestudio.api.errors import ApiError
from cubestudio.auth import users as auth
from cubestudio.auth.ratelimit import LoginLimiter
from cubestudio.store import accounts

router = APIRouter(tags=["auth"])


class LoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=63)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime | None


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, request: Request, db: DbDep) -> TokenOut:
    limiter: LoginLimiter = request.app.state.limiter
    address = request.client.host if request.client else "?"
    keys = (f"user:{body.username}", f"addr:{address}")
    wait = limiter.retry_after(*keys)
    if wait > 0:
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed logins: try again in {wait:.0f} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    settings = request.app.state.settings
    issued = auth.login(
        db, name=body.username, password=body.password, now=now(), hours=settings.session_hours
    )
    if issued is None:
        limiter.failed(*keys)
        raise ApiError(401, "unauthorized", "wrong user name or password", field="password")
    limiter.succeeded(*keys)
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


class MeOut(BaseModel):
    id: int
    name: str
    is_admin: bool
    projects: list[dict[str, str]]


@router.get("/auth/me", response_model=MeOut)
def me(user: UserDep, db: DbDep) -> MeOut:
    with db.read() as conn:
        rows = accounts.list_projects(conn, user_id=None if user.is_admin else user.id)
    projects = [{"name": r["name"], "role": r.get("role") or "admin"} for r in rows]
    return MeOut(id=user.id, name=user.name, is_admin=user.is_admin, projects=projects)


@router.post("/auth/logout", status_code=204)
def logout(user: UserDep, db: DbDep, cache: AccessDep) -> Response:
    """Revoke the token this request came with."""
    with db.begin() as conn:
        accounts.revoke_token(conn, user_id=user.id, token_id=user.token_id, now=now())
    cache.clear()
    return Response(status_code=204)


class TokenCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=63)]
    expires_days: Annotated[float | None, Field(ge=0, le=3650)] = None


class TokenCreated(BaseModel):
    id: int
    name: str
    token: str  # shown this once
    prefix: str
    expires_at: datetime | None


class TokenInfo(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@router.post("/auth/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, user: UserDep, db: DbDep) -> TokenCreated:
    issued = auth.create_token(
        db, user_id=user.id, name=body.name, now=now(), days=body.expires_days
    )
    return TokenCreated(
        id=issued.token_id,
        name=body.name,
        token=issued.token,
        prefix=issued.prefix,
        expires_at=issued.expires_at,
    )


@router.get("/auth/tokens", response_model=list[TokenInfo])
def list_tokens(user: UserDep, db: DbDep) -> list[TokenInfo]:
    with db.read() as conn:
        rows = accounts.list_tokens(conn, user_id=user.id)
    return [TokenInfo.model_validate(dict(r)) for r in rows]


@router.delete("/auth/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, user: UserDep, db: DbDep, cache: AccessDep) -> Response:
    with db.begin() as conn:
        accounts.revoke_token(conn, user_id=user.id, token_id=token_id, now=now())
    cache.clear()
    return Response(status_code=204)
