"""Users, logins and tokens over the store: what the API routes and `cube user`/`cube token`
call. Names follow the pipeline-name rule so they can appear in paths and file names."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cubestudio.auth.passwords import hash_password, verify_password
from cubestudio.auth.tokens import new_token
from cubestudio.errors import CubeError
from cubestudio.store import accounts
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID

NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")
ADMIN = "admin"
API_TOKEN_DAYS = 90.0


def check_name(name: str, what: str = "name") -> None:
    if not NAME.match(name):
        raise CubeError(
            f"{what} {name!r}: use 1-63 lowercase letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )


@dataclass(frozen=True)
class Issued:
    token: str  # to show its owner once
    token_id: int
    prefix: str
    expires_at: datetime | None


@dataclass(frozen=True)
class FirstAdmin:
    password: str | None  # generated now, to print once (None: given or already there)
    path: Path | None  # where the generated one is kept (0600)


def ensure_admin(db: Database, *, home: Path, password: str | None, now: datetime) -> FirstAdmin:
    """With no user at all, create `admin` (a platform admin and admin of the default
    project) with ``password`` (CUBE_ADMIN_PASSWORD) or a generated one kept in
    $CUBE_HOME/admin-password, 0600."""
    with db.begin() as conn:
        if accounts.count_users(conn) > 0:
            return FirstAdmin(None, None)
        generated = None if password else secrets.token_urlsafe(12)
        user_id = accounts.create_user(
            conn,
            name=ADMIN,
            password_hash=hash_password(password or generated or ""),
            is_admin=True,
            now=now,
        )
        accounts.set_member(
            conn, project_id=DEFAULT_PROJECT_ID, user_id=user_id, role="admin", now=now
        )
    if generated is None:
        return FirstAdmin(None, None)
    path = home / "admin-password"
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(generated + "\n")
    return FirstAdmin(generated, path)


def create_user(
    db: Database, *, name: str, password: str | None, is_admin: bool, now: datetime
) -> int:
    """A new user, member of no project (the default one included) until added."""
    check_name(name, "user name")
    password_hash = hash_password(password) if password is not None else None
    with db.begin() as conn:
        return accounts.create_user(
            conn, name=name, password_hash=password_hash, is_admin=is_admin, now=now
        )


def login(db: Database, *, name: str, password: str, now: datetime, hours: float) -> Issued | None:
    """A session token, or None when the name or the password is wrong
    (which of the two is not said)."""
    with db.begin() as conn:
        user = accounts.get_user(conn, name=name)
    stored = user["password_hash"] if user is not None else None
    if not verify_password(stored, password) or user is None or user["disabled_at"]:
        return None
    expires = now + timedelta(hours=hours)
    return _issue(db, user_id=user["id"], kind="session", name="login", now=now, expires=expires)


def create_token(
    db: Database, *, user_id: int, name: str, now: datetime, days: float | None
) -> Issued:
    """An API token for programs: shown once. ``days`` None: API_TOKEN_DAYS; 0: no expiry."""
    check_name(name, "token name")
    days = API_TOKEN_DAYS if days is None else days
    if days < 0:
        raise CubeError("expires_days: 0 for a token that never expires, else a positive number")
    expires = now + timedelta(days=days) if days else None
    return _issue(db, user_id=user_id, kind="api", name=name, now=now, expires=expires)


def _issue(
    db: Database, *, user_id: int, kind: str, name: str, now: datetime, expires: datetime | None
) -> Issued:
    token = new_token(kind)
    with db.begin() as conn:
        token_id = accounts.add_token(
            conn,
            user_id=user_id,
            kind=kind,
            name=name,
            token_hash=token.token_hash,
            prefix=token.prefix,
            now=now,
            expires_at=expires,
        )
    return Issued(token.token, token_id, token.prefix, expires)
