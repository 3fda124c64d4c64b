"""The job template registry: immutable versions, ``name`` alone meaning the latest.

Invariants: a version's number is never given twice, so ``name@version`` always means the
same content. Deleting a version leaves a tombstone row in its place (the spec column holds
``{"deleted_at": ..., "deleted_by": ...}`` instead of a template), which every reader skips
and which keeps the number taken. Built-in names (``cubestudio/templates``) are reserved:
only ``ensure_builtins`` registers versions under them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, insert, select, update

from cubestudio.errors import FieldError, NotFoundError, SpecError, StateError
from cubestudio.spec.render import suggest
from cubestudio.spec.template import TemplateSpec
from cubestudio.store.tables import pipelines, runs, schedules, templates

BUILTIN_CREATOR = "cube"  # the creator recorded for the built-in versions
_TOMBSTONE = '{"deleted_at"'  # how a deleted version's spec starts (json.dumps, sorted keys)


def builtin_names() -> frozenset[str]:
    from cubestudio.templates import builtin_templates

    return frozenset(t.name for t in builtin_templates())


def register_template(
    conn: Connection, *, template: TemplateSpec, creator: str, now: datetime
) -> tuple[TemplateSpec, bool]:
    """Store a new version; returns (the stored template, whether it is new). The same
    content as the latest version registers nothing; a given version is never overwritten.
    A built-in's name is refused: a user's `shell@2` would become what `template: shell`
    (and every task with only `command:`) means."""
    if template.name in builtin_names():
        raise SpecError(
            [
                FieldError(
                    "name",
                    f"'{template.name}' is the name of a built-in template and is reserved: "
                    f"give your template another name (e.g. name: my-{template.name})",
                )
            ]
        )
    return _register(conn, template=template, creator=creator, now=now)


def _register(
    conn: Connection, *, template: TemplateSpec, creator: str, now: datetime
) -> tuple[TemplateSpec, bool]:
    taken = _last_number(conn, name=template.name)  # deleted versions keep their number
    if template.version is not None:
        existing = _get(conn, name=template.name, version=template.version)
        if existing is not None:
            if _same(existing, template):
                return existing, False
            raise StateError(
                f"template {template.name}@{template.version} already exists and versions are "
                f"immutable: remove `version:` to register it as version {taken + 1}"
            )
        if _tombstone(conn, name=template.name, version=template.version) is not None:
            raise StateError(
                f"template {template.name}@{template.version} was deleted and a version number "
                f"is never given twice: remove `version:` to register it as version {taken + 1}"
            )
        if template.version != taken + 1:
            raise StateError(
                f"template {template.name}: the next version is {taken + 1}, not {template.version}"
            )
    else:
        latest = _latest_version(conn, name=template.name)
        current = _get(conn, name=template.name, version=latest) if latest else None
        if current is not None and _same(current, template):
            return current, False
    stored = template.model_copy(update={"version": taken + 1})
    conn.execute(
        insert(templates).values(
            name=stored.name,
            version=stored.version,
            spec=json.dumps(stored.to_data(), sort_keys=True),
            creator=creator,
            created_at=now,
        )
    )
    return stored, True


def get_template(conn: Connection, *, name: str, version: int | None = None) -> TemplateSpec:
    if version is None:
        version = _latest_version(conn, name=name)
    found = _get(conn, name=name, version=version) if version else None
    if found is not None:
        return found
    names = list(conn.execute(select(templates.c.name).where(_live()).distinct()).scalars())
    if version and (gone := _tombstone(conn, name=name, version=version)) is not None:
        raise NotFoundError(
            f"template {name}@{version} was deleted on {gone.get('deleted_at', '?')[:10]} "
            f"by {gone.get('deleted_by', '?')}" + _latest_hint(conn, name=name)
        )
    if name in names:
        latest = _latest_version(conn, name=name)
        raise NotFoundError(f"template {name} has no version {version} (latest: {latest})")
    hint = suggest(name, names) or " (see `cube template list`)"
    raise NotFoundError(f"unknown template '{name}'{hint}")


def list_templates(conn: Connection) -> list[tuple[TemplateSpec, datetime]]:
    """The latest version of every template, by name."""
    latest = (
        select(templates.c.name, func.max(templates.c.version).label("version"))
        .where(_live())
        .group_by(templates.c.name)
        .subquery()
    )
    rows = conn.execute(
        select(templates.c.spec, templates.c.created_at)
        .join(
            latest,
            (templates.c.name == latest.c.name) & (templates.c.version == latest.c.version),
        )
        .order_by(templates.c.name)
    )
    return [(_parse(row.spec), row.created_at) for row in rows]


def delete_template(
    conn: Connection, *, name: str, version: int, user: str, now: datetime
) -> TemplateSpec:
    """Delete a version no run and no schedule uses; returns what was deleted. Its number
    stays taken. Built-in versions are refused; a user's version registered under a built-in
    name before names were reserved may be deleted (that is the way back to the built-in)."""
    template = get_template(conn, name=name, version=version)
    creator = conn.execute(
        select(templates.c.creator).where(templates.c.name == name, templates.c.version == version)
    ).scalar()
    if name in builtin_names() and creator == BUILTIN_CREATOR:
        raise StateError(f"{template.ref} is a built-in template: built-in versions are kept")
    if used := runs_pinning(conn, name=name, version=version):
        shown = ", ".join(used[:3]) + (f" and {len(used) - 3} more" if len(used) > 3 else "")
        raise StateError(
            f"{template.ref} is used by run(s) {shown}: a version a run used is kept as the "
            "record of what ran (register a new version instead)"
        )
    if pinned := schedules_pinning(conn, name=name, version=version):
        raise StateError(
            f"{template.ref} is pinned by the schedule of pipeline(s) {', '.join(pinned)}: "
            "change the pipeline to another version and `cube schedule apply` it first"
        )
    tombstone = json.dumps({"deleted_at": now.isoformat(), "deleted_by": user}, sort_keys=True)
    conn.execute(
        update(templates)
        .where(templates.c.name == name, templates.c.version == version)
        .values(spec=tombstone)
    )
    return template


def runs_pinning(conn: Connection, *, name: str, version: int) -> list[str]:
    """The ids of the runs (debug runs too) whose snapshot pins name@version, newest first."""
    rows = conn.execute(
        select(runs.c.id, runs.c.spec)
        .where(_mentions(runs, name))
        .order_by(runs.c.created_at.desc(), runs.c.id.desc())
    )
    return [row.id for row in rows if _pins(row.spec, name, version)]


def schedules_pinning(conn: Connection, *, name: str, version: int) -> list[str]:
    """The pipelines whose applied schedule pins name@version (their future runs use it)."""
    rows = conn.execute(
        select(pipelines.c.name, schedules.c.spec)
        .join(pipelines, pipelines.c.id == schedules.c.pipeline_id)
        .where(_mentions(schedules, name))
        .order_by(pipelines.c.name)
    )
    return [row.name for row in rows if _pins(row.spec, name, version)]


def _mentions(table: Table, name: str) -> ColumnElement[bool]:
    # A cheap filter before the snapshots are parsed: a pinned template's name is quoted in it.
    return table.c.spec.contains(f'"{name}"', autoescape=True)


def _pins(snapshot: str, name: str, version: int) -> bool:
    pinned: dict[str, Any] = json.loads(snapshot).get("templates") or {}
    return any(t.get("name") == name and t.get("version") == version for t in pinned.values())


def _get(conn: Connection, *, name: str, version: int) -> TemplateSpec | None:
    spec = conn.execute(
        select(templates.c.spec).where(
            templates.c.name == name, templates.c.version == version, _live()
        )
    ).scalar()
    return _parse(spec) if spec is not None else None


def _tombstone(conn: Connection, *, name: str, version: int) -> dict[str, str] | None:
    spec = conn.execute(
        select(templates.c.spec).where(
            templates.c.name == name, templates.c.version == version, ~_live()
        )
    ).scalar()
    return dict(json.loads(spec)) if spec is not None else None


def _latest_hint(conn: Connection, *, name: str) -> str:
    latest = _latest_version(conn, name=name)
    return f" (latest: {latest})" if latest else " (no version of it is left)"


def _live() -> ColumnElement[bool]:
    return ~templates.c.spec.startswith(_TOMBSTONE, autoescape=True)


def _latest_version(conn: Connection, *, name: str) -> int:
    """The newest version that is not deleted; 0 when none is."""
    query = select(func.max(templates.c.version)).where(templates.c.name == name, _live())
    return int(conn.execute(query).scalar() or 0)


def _last_number(conn: Connection, *, name: str) -> int:
    """The highest number ever given to the name, deleted versions included."""
    query = select(func.max(templates.c.version)).where(templates.c.name == name)
    return int(conn.execute(query).scalar() or 0)


def _parse(text: str) -> TemplateSpec:
    return TemplateSpec.model_validate(json.loads(text))


def _same(a: TemplateSpec, b: TemplateSpec) -> bool:
    return a.model_copy(update={"version": None}) == b.model_copy(update={"version": None})


def ensure_builtins(conn: Connection, *, now: datetime) -> None:
    """Register each built-in template unless some version already holds its content (a
    database from before built-in names were reserved may hold a user's `shell@2`)."""
    from cubestudio.templates import builtin_templates

    for builtin in builtin_templates():
        rows = conn.execute(
            select(templates.c.spec).where(templates.c.name == builtin.name, _live())
        )
        if not any(_same(_parse(row.spec), builtin) for row in rows):
            _register(conn, template=builtin, creator=BUILTIN_CREATOR, now=now)


class StoreCatalog:
    """The registry as the spec layer's TemplateCatalog: built-ins registered on first use."""

    def __init__(self, begin: Callable[[], AbstractContextManager[Connection]]) -> None:
        self._begin = begin
        self._ready = False
        # `cube run` resolves each template twice (to validate its args, then to pin it):
        # once from the store is enough.
        self._found: dict[tuple[str, int | None], TemplateSpec] = {}

    def resolve(self, name: str, version: int | None) -> TemplateSpec:
        if (name, version) not in self._found:
            self._found[(name, version)] = self._lookup(name, version)
        return self._found[(name, version)]

    def _lookup(self, name: str, version: int | None) -> TemplateSpec:
        with self._begin() as conn:
            if not self._ready:
                ensure_builtins(conn, now=datetime.now(UTC))
                self._ready = True
            try:
                return get_template(conn, name=name, version=version)
            except NotFoundError as err:
                raise LookupError(str(err)) from None
