"""Project secrets on every backend: sealed at rest, replaced in place, listed without values,
resolved for a run (and for a pipeline's env), refused with a clear error under another key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from cubestudio.auth import project_secrets as secrets
from cubestudio.auth.secretbox import SecretBox
from cubestudio.engine.lifecycle import resolve_secrets
from cubestudio.errors import CubeError, NotFoundError, SpecError
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.store import accounts
from cubestudio.store import secrets as store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID, project_secrets

NOW = datetime(2026, 1, 1, tzinfo=UTC)
VALUE = "s3cr3t-value-Ω"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key())


def _set(
    db: Database,
    box: SecretBox,
    name: str,
    value: str,
    *,
    project_id: int = DEFAULT_PROJECT_ID,
    user: str = "ann",
    now: datetime = NOW,
) -> bool:
    return secrets.set_secret(
        db, box=box, project_id=project_id, name=name, value=value, user=user, now=now
    )


def test_a_value_is_sealed_at_rest_and_opens_with_the_key(db: Database, box: SecretBox) -> None:
    assert _set(db, box, "API_TOKEN", VALUE) is True
    with db.begin() as conn:
        stored = conn.execute(select(project_secrets)).mappings().one()
    assert stored["name"] == "API_TOKEN" and stored["created_by"] == "ann"
    assert VALUE not in stored["ciphertext"] and "s3cr3t" not in stored["ciphertext"]
    assert box.open(stored["ciphertext"]) == VALUE
    names = ["API_TOKEN", "NOT_SET"]
    resolved = secrets.resolve(db, box=box, project_id=DEFAULT_PROJECT_ID, names=names)
    assert resolved == {"API_TOKEN": VALUE}


def test_setting_again_replaces_the_value_and_keeps_the_creator(
    db: Database, box: SecretBox
) -> None:
    _set(db, box, "TOKEN", "one")
    later = NOW + timedelta(hours=1)
    assert _set(db, box, "TOKEN", "two", user="bob", now=later) is False
    (info,) = secrets.list_secrets(db, project_id=DEFAULT_PROJECT_ID)
    assert (info.name, info.created_by, info.created_at, info.updated_at) == (
        "TOKEN",
        "ann",
        NOW,
        later,
    )
    assert not hasattr(info, "value") and not hasattr(info, "ciphertext")
    assert secrets.resolve(db, box=box, project_id=DEFAULT_PROJECT_ID, names=["TOKEN"]) == {
        "TOKEN": "two"
    }


def test_secrets_belong_to_one_project(db: Database, box: SecretBox) -> None:
    with db.begin() as conn:
        other = accounts.create_project(
            conn, name="team-b", description="", created_by="t", now=NOW
        )
    _set(db, box, "TOKEN", "of-default")
    _set(db, box, "TOKEN", "of-team-b", project_id=other)
    assert secrets.resolve(db, box=box, project_id=other, names=["TOKEN"]) == {"TOKEN": "of-team-b"}
    secrets.delete_secret(db, project_id=other, name="TOKEN")
    assert secrets.list_secrets(db, project_id=other) == []
    assert [s.name for s in secrets.list_secrets(db, project_id=DEFAULT_PROJECT_ID)] == ["TOKEN"]
    with pytest.raises(NotFoundError, match="no project secret TOKEN"):
        secrets.delete_secret(db, project_id=other, name="TOKEN")


def test_a_wrong_key_is_a_clear_error_naming_the_secret(db: Database, box: SecretBox) -> None:
    _set(db, box, "TOKEN", VALUE)
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(CubeError) as caught:
        secrets.resolve(db, box=other, project_id=DEFAULT_PROJECT_ID, names=["TOKEN"])
    message = str(caught.value)
    assert "project secret TOKEN cannot be decrypted" in message
    assert "CUBE_SECRET_KEY" in message and VALUE not in message


@pytest.mark.parametrize(
    ("name", "value", "field", "message"),
    [
        ("1TOKEN", "x", "name", "is not a secret name"),
        ("MY-TOKEN", "x", "name", "is not a secret name"),
        ("T" * 64, "x", "name", "is not a secret name"),
        ("TOKEN\n", "x", "name", "is not a secret name"),
        ("TOKEN", "", "value", "cannot be empty"),
        ("TOKEN", "a\0b", "value", "NUL character"),
        (
            "TOKEN",
            "é" * (secrets.MAX_VALUE_BYTES // 2 + 1),
            "value",
            f"over the limit of {secrets.MAX_VALUE_BYTES}",
        ),
    ],
)
def test_bad_names_and_values_are_refused_and_nothing_is_stored(
    db: Database, box: SecretBox, name: str, value: str, field: str, message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        _set(db, box, name, value)
    (error,) = caught.value.errors
    assert error.path == field and message in error.message
    assert secrets.list_secrets(db, project_id=DEFAULT_PROJECT_ID) == []


def test_the_largest_value_allowed_is_kept_whole(db: Database, box: SecretBox) -> None:
    value = "k" * secrets.MAX_VALUE_BYTES
    _set(db, box, "KEY_FILE", value)
    resolved = secrets.resolve(db, box=box, project_id=DEFAULT_PROJECT_ID, names=["KEY_FILE"])
    assert resolved == {"KEY_FILE": value}


def test_a_pipeline_env_takes_project_secrets_by_name(db: Database, box: SecretBox) -> None:
    spec = pipeline_from_data(
        {
            "name": "p",
            "env": {
                "TOKEN": {"secret": True, "from_secret": "API_TOKEN"},
                "SAME": {"secret": True, "from_secret": "API_TOKEN"},
                "HOME_DIR": {"secret": True, "from_env": "HOME_DIR"},
                "MISSING": {"secret": True, "from_secret": "NOT_SET"},
            },
            "tasks": [{"name": "a", "command": "true"}],
        }
    )
    assert secrets.referenced(spec) == ["API_TOKEN", "NOT_SET"]
    _set(db, box, "API_TOKEN", VALUE)
    found = secrets.for_spec(db, box=box, project_id=DEFAULT_PROJECT_ID, spec=spec)
    assert found == {"API_TOKEN": VALUE}
    with pytest.raises(SpecError) as caught:
        resolve_secrets(spec, {"HOME_DIR": "/h"}, found)
    (error,) = caught.value.errors
    assert error.path == "env.MISSING"
    assert "`cube secret set NOT_SET --value-stdin`" in error.message
    _set(db, box, "NOT_SET", "now-set")
    found = secrets.for_spec(db, box=box, project_id=DEFAULT_PROJECT_ID, spec=spec)
    assert resolve_secrets(spec, {"HOME_DIR": "/h"}, found) == {
        "TOKEN": VALUE,
        "SAME": VALUE,
        "HOME_DIR": "/h",
        "MISSING": "now-set",
    }


def test_a_concurrent_creation_turns_into_a_replace(
    db: Database, box: SecretBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer created the name between this call's update (which found nothing) and
    its insert: the insert fails in its savepoint, the value replaces the other one, and the
    caller's transaction goes on."""
    _set(db, box, "RACE", "first")
    real = store._replace
    calls: list[str] = []

    def lost_race(*args: object) -> bool:
        calls.append("replace")
        return False if len(calls) == 1 else real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_replace", lost_race)
    later = NOW + timedelta(minutes=1)
    with db.begin() as conn:
        created = store.put_secret(
            conn,
            project_id=DEFAULT_PROJECT_ID,
            name="RACE",
            ciphertext=box.seal("second"),
            user="bob",
            now=later,
        )
        assert created is False and calls == ["replace", "replace"]
        (row,) = store.list_secrets(conn, project_id=DEFAULT_PROJECT_ID)  # still usable
    assert (row["created_by"], row["updated_at"]) == ("ann", later)
    resolved = secrets.resolve(db, box=box, project_id=DEFAULT_PROJECT_ID, names=["RACE"])
    assert resolved == {"RACE": "second"}
