"""Project secrets over the store: set, list, delete, and resolve for a run. Values are sealed
with the server's key (SecretBox) before they reach the store and opened only to start a
run; nothing here returns a value to show. Names follow env var names, as a pipeline's env
refers to them: ``{secret: true, from_secret: NAME}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from cubestudio.auth.secretbox import SecretBox
from cubestudio.errors import CubeError, FieldError, SpecError
from cubestudio.spec.model import IDENTIFIER, PipelineSpec
from cubestudio.store import secrets as store
from cubestudio.store.db import Database

NAME = re.compile(IDENTIFIER)
# A key file, a certificate or a kubeconfig fits. The sealed value (Fernet: base64 of the
# value plus 57 bytes, padded) must fit a TEXT column on MySQL/MariaDB, 65,535 bytes: 32 KiB
# seals to about 44,000 characters (48 KiB would not fit).
MAX_VALUE_BYTES = 32 * 1024


@dataclass(frozen=True)
class SecretInfo:
    """A secret as a listing shows it: never its value."""

    name: str
    created_by: str
    created_at: datetime
    updated_at: datetime


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):  # fullmatch: `$` alone lets a final newline through
        raise SpecError(
            [
                FieldError(
                    "name",
                    f"{name!r} is not a secret name: use 1-63 letters, digits or '_', not "
                    "starting with a digit (an env var name, e.g. API_TOKEN)",
                )
            ]
        )


def check_value(value: str) -> None:
    size = len(value.encode())
    problem = None
    if not value:
        problem = "a secret cannot be empty: give its value"
    elif size > MAX_VALUE_BYTES:
        problem = f"{size} bytes is over the limit of {MAX_VALUE_BYTES}: keep larger data in a file"
    elif "\0" in value:
        problem = "it contains a NUL character, which an env var cannot hold"
    if problem:
        raise SpecError([FieldError("value", problem)])


def set_secret(
    db: Database,
    *,
    box: SecretBox,
    project_id: int,
    name: str,
    value: str,
    user: str,
    now: datetime,
) -> bool:
    """Create or replace a secret; True when it was created."""
    check_name(name)
    check_value(value)
    sealed = box.seal(value)
    with db.begin() as conn:
        return store.put_secret(
            conn, project_id=project_id, name=name, ciphertext=sealed, user=user, now=now
        )


def get_info(db: Database, *, project_id: int, name: str) -> SecretInfo | None:
    with db.begin() as conn:
        row = store.get_secret_info(conn, project_id=project_id, name=name)
    return SecretInfo(**row) if row is not None else None


def list_secrets(db: Database, *, project_id: int) -> list[SecretInfo]:
    with db.begin() as conn:
        return [SecretInfo(**row) for row in store.list_secrets(conn, project_id=project_id)]


def delete_secret(db: Database, *, project_id: int, name: str) -> None:
    check_name(name)
    with db.begin() as conn:
        store.delete_secret(conn, project_id=project_id, name=name)


def resolve(db: Database, *, box: SecretBox, project_id: int, names: list[str]) -> dict[str, str]:
    """The values of those of ``names`` the project has; the caller reports the missing
    ones (engine.lifecycle.resolve_secrets names the env entry that wants each)."""
    with db.begin() as conn:
        sealed = store.get_sealed(conn, project_id=project_id, names=names)
    values: dict[str, str] = {}
    for name, ciphertext in sealed.items():
        try:
            values[name] = box.open(ciphertext)
        except CubeError:
            raise CubeError(
                f"project secret {name} cannot be decrypted with this key: use the "
                "CUBE_SECRET_KEY (or $CUBE_HOME/secret.key) it was set with, or set it "
                f"again (`cube secret set {name} --value-stdin`)"
            ) from None
    return values


def referenced(spec: PipelineSpec) -> list[str]:
    """The project secrets a pipeline's env refers to (``from_secret``), each once."""
    names = {s.from_secret for s in spec.secrets.values() if s.from_secret is not None}
    return sorted(names)


def for_spec(
    db: Database, *, box: SecretBox, project_id: int, spec: PipelineSpec
) -> dict[str, str]:
    """What ``resolve_secrets(spec, environ, project_secrets=...)`` needs: the values of the
    project secrets the pipeline refers to, by secret name. Nothing is read for a pipeline
    that refers to none."""
    names = referenced(spec)
    return resolve(db, box=box, project_id=project_id, names=names) if names else {}
