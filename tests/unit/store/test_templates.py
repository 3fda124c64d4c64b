"""The template registry on every backend: immutable versions, latest by default."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from cubestudio.errors import NotFoundError, StateError
from cubestudio.spec.template import TemplateSpec
from cubestudio.store.db import Database
from cubestudio.store.tables import templates
from cubestudio.store.templates import (
    StoreCatalog,
    ensure_builtins,
    get_template,
    list_templates,
    register_template,
)
from cubestudio.templates import builtin_templates

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _template(command: str = "echo {{ args.n }}", **extra: object) -> TemplateSpec:
    data = {"name": "echo", "command": command, "parameters": [{"name": "n", "type": "int"}]}
    return TemplateSpec.model_validate({**data, **extra})


def test_versions_are_immutable_and_name_means_latest(db: Database) -> None:
    with db.begin() as conn:
        first, new = register_template(conn, template=_template(), creator="ann", now=NOW)
        assert (first.version, new) == (1, True)
        same, new = register_template(conn, template=_template(), creator="ann", now=NOW)
        assert (same.version, new) == (1, False)  # the same content is not a new version
        second, _ = register_template(
            conn, template=_template("echo n={{ args.n }}"), creator="bob", now=NOW
        )
        assert second.version == 2
        assert get_template(conn, name="echo").command == "echo n={{ args.n }}"
        assert get_template(conn, name="echo", version=1).command == "echo {{ args.n }}"
        with pytest.raises(StateError, match="echo@1 already exists and versions are immutable"):
            register_template(conn, template=_template("changed", version=1), creator="x", now=NOW)
        with pytest.raises(StateError, match="the next version is 3, not 7"):
            register_template(conn, template=_template("x", version=7), creator="x", now=NOW)
        assert [(t.name, t.version) for t, _ in list_templates(conn)] == [("echo", 2)]


def test_unknown_template_or_version_names_the_close_match(db: Database) -> None:
    with db.begin() as conn:
        register_template(conn, template=_template(), creator="ann", now=NOW)
        with pytest.raises(NotFoundError, match=r"unknown template 'ehco' \(did you mean 'echo'"):
            get_template(conn, name="ehco")
        with pytest.raises(NotFoundError, match=r"template echo has no version 5 \(latest: 1\)"):
            get_template(conn, name="echo", version=5)


def test_builtins_are_registered_once(db: Database) -> None:
    with db.begin() as conn:
        ensure_builtins(conn, now=NOW)
        custom = TemplateSpec.model_validate(
            {
                "name": "shell",
                "command": "bash -c {{ args.c | quote }}",
                "parameters": [{"name": "c"}],
            }
        )
        # A user's shell@2 from a database made before built-in names were reserved.
        conn.execute(
            insert(templates).values(
                name="shell",
                version=2,
                spec=json.dumps(custom.model_copy(update={"version": 2}).to_data()),
                creator="ann",
                created_at=NOW,
            )
        )
        ensure_builtins(conn, now=NOW)  # must not register the built-in again as shell@3
        assert get_template(conn, name="shell").version == 2
        assert {t.name for t, _ in list_templates(conn)} == {t.name for t in builtin_templates()}
    catalog = StoreCatalog(db.begin)
    assert catalog.resolve("python", None).version == 1
    with pytest.raises(LookupError, match="unknown template 'pyhton'"):
        catalog.resolve("pyhton", None)
