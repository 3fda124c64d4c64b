"""Database URLs in messages: the password hidden, even one holding an unescaped '@'."""

from __future__ import annotations

import pytest

from cubestudio.errors import StoreError
from cubestudio.store.db import Database, safe_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://user:secret@pw@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user:s@c:r@t@host:5432/db", "postgresql://user:***@host:5432/db"),
        ("mysql://root:pw@host/db?x=a@b", "mysql://root:***@host/db?x=a%40b"),
        ("postgresql://user:p?w@host/db", "postgresql://user:***@host/db"),
        ("postgresql://host/db?x=a@b", "postgresql://host/db?x=a%40b"),
        ("mysql://root@host/db", "mysql://root@host/db"),
        ("sqlite:////tmp/cube.db", "sqlite:////tmp/cube.db"),
    ],
)
def test_the_password_is_hidden_up_to_the_last_at_sign(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_a_password_with_an_unescaped_at_sign_is_refused_with_the_fix() -> None:
    with pytest.raises(StoreError) as caught:
        Database("postgresql://user:secret@pw@127.0.0.1/db")
    message = str(caught.value)
    assert "secret" not in message and "pw" not in message
    assert "write it as %40" in message
