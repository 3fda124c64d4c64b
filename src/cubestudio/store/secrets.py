"""Keyword-only functions over ``project_secrets``: one sealed value per (project, name).

Values arrive here already sealed (cubestudio.auth.project_secrets encrypts them with the
server's key): this module never sees a secret in the clear, and nothing here returns one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from cubestudio.errors import NotFoundError
from cubestudio.store.tables import project_secrets

# What a listing shows: everything but the ciphertext.
_LISTED = (
    project_secrets.c.name,
    project_secrets.c.created_by,
    project_secrets.c.created_at,
    project_secrets.c.updated_at,
)


def put_secret(
    conn: Connection, *, project_id: int, name: str, ciphertext: str, user: str, now: datetime
) -> bool:
    """Create or replace the secret; True when it was created. Its creator and creation time
    stay on a replace."""
    if _replace(conn, project_id, name, ciphertext, now):
        return False
    try:
        # A savepoint: a concurrent creation of the same name must not abort the caller's
        # transaction (PostgreSQL would), it turns this call into a replace.
        with conn.begin_nested():
            conn.execute(
                insert(project_secrets).values(
                    project_id=project_id,
                    name=name,
                    ciphertext=ciphertext,
                    created_by=user,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        _replace(conn, project_id, name, ciphertext, now)
        return False
    return True


def _replace(conn: Connection, project_id: int, name: str, ciphertext: str, now: datetime) -> bool:
    result = conn.execute(
        update(project_secrets)
        .where(project_secrets.c.project_id == project_id, project_secrets.c.name == name)
        .values(ciphertext=ciphertext, updated_at=now)
    )
    return result.rowcount == 1


def get_sealed(conn: Connection, *, project_id: int, names: list[str]) -> dict[str, str]:
    """The ciphertexts of those of ``names`` the project has (the others are left out)."""
    if not names:
        return {}
    query = select(project_secrets.c.name, project_secrets.c.ciphertext).where(
        project_secrets.c.project_id == project_id, project_secrets.c.name.in_(names)
    )
    return {row.name: row.ciphertext for row in conn.execute(query)}


def list_secrets(conn: Connection, *, project_id: int) -> list[RowMapping]:
    """Name, created_by, created_at and updated_at of every secret, by name; no values."""
    query = (
        select(*_LISTED)
        .where(project_secrets.c.project_id == project_id)
        .order_by(project_secrets.c.name)
    )
    return list(conn.execute(query).mappings())


def get_secret_info(conn: Connection, *, project_id: int, name: str) -> RowMapping | None:
    """One secret as a listing shows it (no value), or None."""
    query = select(*_LISTED).where(
        project_secrets.c.project_id == project_id, project_secrets.c.name == name
    )
    return conn.execute(query).mappings().first()


def delete_secret(conn: Connection, *, project_id: int, name: str) -> None:
    result = conn.execute(
        delete(project_secrets).where(
            project_secrets.c.project_id == project_id, project_secrets.c.name == name
        )
    )
    if result.rowcount != 1:
        raise NotFoundError(f"no project secret {name}: `cube secret list` shows them")
