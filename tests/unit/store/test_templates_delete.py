"""Reserved built-in names and deleting template versions, on every backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from cubestudio.engine.lifecycle import insert_new_run
from cubestudio.errors import NotFoundError, SpecError, StateError
from cubestudio.schedule.registry import apply_schedule
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.template import TemplateSpec
from cubestudio.store.db import Database
from cubestudio.store.tables import templates
from cubestudio.store.templates import (
    delete_template,
    ensure_builtins,
    get_template,
    list_templates,
    register_template,
    runs_pinning,
    schedules_pinning,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _template(command: str = "echo {{ args.n }}", name: str = "echo") -> TemplateSpec:
    return TemplateSpec.model_validate(
        {"name": name, "command": command, "parameters": [{"name": "n", "type": "int"}]}
    )


def _pipeline(ref: str, **extra: object) -> PipelineSpec:
    task = {"name": "t", "template": ref, "args": {"n": 1}}
    return pipeline_from_data({"name": "p", "tasks": [task], **extra}, check=False)


@pytest.mark.parametrize("name", ["shell", "python"])
def test_a_builtin_name_cannot_be_registered(db: Database, name: str) -> None:
    with db.begin() as conn, pytest.raises(SpecError) as info:
        register_template(conn, template=_template(name=name), creator="ann", now=NOW)
    assert str(info.value) == (
        f"name: '{name}' is the name of a built-in template and is reserved: give your "
        f"template another name (e.g. name: my-{name})"
    )
    with db.begin() as conn:
        ensure_builtins(conn, now=NOW)
        assert get_template(conn, name=name).version == 1  # the built-in is still the latest


def test_a_deleted_version_is_gone_and_its_number_is_never_given_again(db: Database) -> None:
    with db.begin() as conn:
        register_template(conn, template=_template(), creator="ann", now=NOW)
        register_template(conn, template=_template("echo n={{ args.n }}"), creator="ann", now=NOW)
        gone = delete_template(conn, name="echo", version=2, user="bob", now=NOW)
        assert gone.ref == "echo@2"
        assert get_template(conn, name="echo").version == 1  # the latest is 1 again
        assert [(t.name, t.version) for t, _ in list_templates(conn)] == [("echo", 1)]
        with pytest.raises(NotFoundError, match=r"echo@2 was deleted on 2026-01-01 by bob"):
            get_template(conn, name="echo", version=2)
        with pytest.raises(StateError, match="echo@2 was deleted and a version number is never"):
            register_template(
                conn,
                template=_template("x", name="echo").model_copy(update={"version": 2}),
                creator="ann",
                now=NOW,
            )
        again, new = register_template(
            conn, template=_template("echo n={{ args.n }}"), creator="ann", now=NOW
        )
        assert (again.version, new) == (3, True)
        delete_template(conn, name="echo", version=1, user="bob", now=NOW)
        delete_template(conn, name="echo", version=3, user="bob", now=NOW)
        assert list_templates(conn) == []
        with pytest.raises(
            NotFoundError, match=r"echo@3 was deleted .* \(no version of it is left"
        ):
            get_template(conn, name="echo", version=3)


def test_builtin_versions_cannot_be_deleted(db: Database) -> None:
    with db.begin() as conn:
        ensure_builtins(conn, now=NOW)
        with pytest.raises(StateError, match="shell@1 is a built-in template"):
            delete_template(conn, name="shell", version=1, user="ann", now=NOW)
        with pytest.raises(NotFoundError, match="template python has no version 9"):
            delete_template(conn, name="python", version=9, user="ann", now=NOW)


def test_a_users_shell_version_from_an_older_database_can_be_deleted(db: Database) -> None:
    """The way back: before names were reserved a user could shadow `shell` with shell@2."""
    custom = TemplateSpec.model_validate(
        {
            "name": "shell",
            "version": 2,
            "command": "bash -c {{ args.c | quote }}",
            "parameters": [{"name": "c"}],
        }
    )
    with db.begin() as conn:
        ensure_builtins(conn, now=NOW)
        conn.execute(
            insert(templates).values(
                name="shell",
                version=2,
                spec=json.dumps(custom.to_data()),
                creator="ann",
                created_at=NOW,
            )
        )
        assert get_template(conn, name="shell").version == 2
        delete_template(conn, name="shell", version=2, user="ann", now=NOW)
        assert get_template(conn, name="shell").parameter("command") is not None  # built-in
        ensure_builtins(conn, now=NOW)
        versions = conn.execute(select(templates.c.version).where(templates.c.name == "shell"))
        assert sorted(versions.scalars()) == [1, 2]  # nothing registered again


def test_a_version_a_run_uses_is_kept_and_the_runs_are_named(db: Database) -> None:
    with db.begin() as conn:
        one, _ = register_template(conn, template=_template(), creator="ann", now=NOW)
        two, _ = register_template(
            conn, template=_template("echo {{args.n}}!"), creator="a", now=NOW
        )
        ids = [
            insert_new_run(
                conn,
                spec=_pipeline("echo@1"),
                params={},
                now=datetime(2026, 1, 1, 0, i, tzinfo=UTC),
                templates={"echo@1": one},
            )
            for i in range(5)
        ]
        assert runs_pinning(conn, name="echo", version=1) == ids[::-1]  # newest first
        assert runs_pinning(conn, name="echo", version=2) == []
        with pytest.raises(StateError) as info:
            delete_template(conn, name="echo", version=1, user="ann", now=NOW)
        newest = ", ".join(ids[::-1][:3])
        assert str(info.value) == (
            f"echo@1 is used by run(s) {newest} and 2 more: a version a run used is kept as "
            "the record of what ran (register a new version instead)"
        )
        assert get_template(conn, name="echo", version=1) == one
        delete_template(conn, name="echo", version=two.version or 0, user="ann", now=NOW)


def test_a_version_a_schedule_pins_is_kept(db: Database) -> None:
    with db.begin() as conn:
        one, _ = register_template(conn, template=_template(), creator="ann", now=NOW)
    spec = _pipeline("echo", schedule={"cron": "@daily"})
    apply_schedule(db, spec=spec, templates={"echo": one}, user="ann", now=NOW)
    with db.begin() as conn:
        assert schedules_pinning(conn, name="echo", version=1) == ["p"]
        with pytest.raises(StateError, match="echo@1 is pinned by the schedule of pipeline"):
            delete_template(conn, name="echo", version=1, user="ann", now=NOW)
