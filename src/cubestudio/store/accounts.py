"""Keyword-only functions over users, API tokens, projects and their members (the server).

Passwords and tokens arrive here already hashed (cubestudio.auth does the hashing): this
module never sees a secret in the clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from cubestudio.errors import NotFoundError, StateError
from cubestudio.store.tables import api_tokens, project_members, projects, users

ROLES = ("admin", "developer", "viewer")


# -- users --------------------------------------------------------------------------------------
def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar() or 0)


def create_user(
    conn: Connection, *, name: str, password_hash: str | None, is_admin: bool, now: datetime
) -> int:
    if get_user(conn, name=name) is not None:
        raise StateError(f"user {name} exists already: pick another name")
    result = conn.execute(
        insert(users).values(
            name=name, password_hash=password_hash, is_admin=is_admin, created_at=now
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def get_user(
    conn: Connection, *, name: str | None = None, user_id: int | None = None
) -> RowMapping | None:
    query = select(users)
    query = query.where(users.c.name == name) if name is not None else query
    query = query.where(users.c.id == user_id) if user_id is not None else query
    return conn.execute(query).mappings().first()


def list_users(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(users).order_by(users.c.name)).mappings())


def set_password(conn: Connection, *, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


# -- tokens -------------------------------------------------------------------------------------
def add_token(
    conn: Connection,
    *,
    user_id: int,
    kind: str,
    name: str,
    token_hash: str,
    prefix: str,
    now: datetime,
    expires_at: datetime | None,
) -> int:
    result = conn.execute(
        insert(api_tokens).values(
            user_id=user_id,
            kind=kind,
            name=name,
            token_hash=token_hash,
            prefix=prefix,
            created_at=now,
            expires_at=expires_at,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def token_owner(conn: Connection, *, token_hash: str, now: datetime) -> RowMapping | None:
    """The live token with this hash and its user (None: unknown, revoked, expired, or its
    user disabled)."""
    query = (
        select(
            api_tokens.c.id.label("token_id"),
            api_tokens.c.kind,
            api_tokens.c.expires_at,
            api_tokens.c.last_used_at,
            users.c.id.label("user_id"),
            users.c.name,
            users.c.is_admin,
        )
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(
            api_tokens.c.token_hash == token_hash,
            api_tokens.c.revoked_at.is_(None),
            users.c.disabled_at.is_(None),
        )
    )
    row = conn.execute(query).mappings().first()
    if row is None or (row["expires_at"] is not None and row["expires_at"] <= now):
        return None
    return row


def touch_token(conn: Connection, *, token_id: int, now: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))


def list_tokens(conn: Connection, *, user_id: int, kind: str = "api") -> list[RowMapping]:
    query = (
        select(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.kind == kind)
        .order_by(api_tokens.c.id)
    )
    return list(conn.execute(query).mappings())


def revoke_token(conn: Connection, *, user_id: int, token_id: int, now: datetime) -> None:
    result = conn.execute(
        update(api_tokens)
        .where(
            api_tokens.c.id == token_id,
            api_tokens.c.user_id == user_id,
            api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    if result.rowcount != 1:
        raise NotFoundError(f"no live token {token_id} of yours: `cube token list` shows them")


# -- projects and members -----------------------------------------------------------------------
def create_project(
    conn: Connection, *, name: str, description: str, created_by: str, now: datetime
) -> int:
    if get_project(conn, name=name) is not None:
        raise StateError(f"project {name} exists already: pick another name")
    result = conn.execute(
        insert(projects).values(
            name=name, description=description, created_by=created_by, created_at=now
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def get_project(
    conn: Connection, *, name: str | None = None, project_id: int | None = None
) -> RowMapping | None:
    query = select(projects)
    query = query.where(projects.c.name == name) if name is not None else query
    query = query.where(projects.c.id == project_id) if project_id is not None else query
    return conn.execute(query).mappings().first()


def list_projects(conn: Connection, *, user_id: int | None = None) -> list[RowMapping]:
    """Every project (user_id None: a platform admin's view), or those the user is a member
    of, with the user's role."""
    if user_id is None:
        return list(conn.execute(select(projects).order_by(projects.c.name)).mappings())
    query = (
        select(projects, project_members.c.role)
        .join(project_members, project_members.c.project_id == projects.c.id)
        .where(project_members.c.user_id == user_id)
        .order_by(projects.c.name)
    )
    return list(conn.execute(query).mappings())


def role_of(conn: Connection, *, project_id: int, user_id: int) -> str | None:
    query = select(project_members.c.role).where(
        project_members.c.project_id == project_id, project_members.c.user_id == user_id
    )
    role = conn.execute(query).scalar()
    return None if role is None else str(role)


def set_member(
    conn: Connection, *, project_id: int, user_id: int, role: str, now: datetime
) -> None:
    if role not in ROLES:
        raise StateError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role_of(conn, project_id=project_id, user_id=user_id) is None:
        conn.execute(
            insert(project_members).values(
                project_id=project_id, user_id=user_id, role=role, added_at=now
            )
        )
    else:
        conn.execute(
            update(project_members)
            .where(project_members.c.project_id == project_id, project_members.c.user_id == user_id)
            .values(role=role)
        )


def remove_member(conn: Connection, *, project_id: int, user_id: int) -> None:
    result = conn.execute(
        delete(project_members).where(
            project_members.c.project_id == project_id, project_members.c.user_id == user_id
        )
    )
    if result.rowcount != 1:
        raise NotFoundError("that user is not a member of the project")


def list_members(conn: Connection, *, project_id: int) -> list[RowMapping]:
    query = (
        select(users.c.id, users.c.name, project_members.c.role, project_members.c.added_at)
        .join(users, users.c.id == project_members.c.user_id)
        .where(project_members.c.project_id == project_id)
        .order_by(users.c.name)
    )
    return list(conn.execute(query).mappings())
