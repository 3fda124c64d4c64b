"""The job template registry: immutable versions, ``name`` alone meaning the latest."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select

from cubestudio.errors import NotFoundError, StateError
from cubestudio.spec.render import suggest
from cubestudio.spec.template import TemplateSpec
from cubestudio.store.tables import templates


def register_template(
    conn: Connection, *, template: TemplateSpec, creator: str, now: datetime
) -> tuple[TemplateSpec, bool]:
    """Store a new version; returns (the stored template, whether it is new). The same
    content as the latest version registers nothing; a given version is never overwritten."""
    latest = _latest_version(conn, name=template.name)
    if template.version is not None:
        existing = _get(conn, name=template.name, version=template.version)
        if existing is not None:
            if _same(existing, template):
                return existing, False
            raise StateError(
                f"template {template.name}@{template.version} already exists and versions are "
                f"immutable: remove `version:` to register it as version {latest + 1}"
            )
        if template.version != latest + 1:
            raise StateError(
                f"template {template.name}: the next version is {latest + 1}, "
                f"not {template.version}"
            )
    elif latest:
        current = _get(conn, name=template.name, version=latest)
        if current is not None and _same(current, template):
            return current, False
    stored = template.model_copy(update={"version": latest + 1})
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
    names = list(conn.execute(select(templates.c.name).distinct()).scalars())
    if name in names:
        latest = _latest_version(conn, name=name)
        raise NotFoundError(f"template {name} has no version {version} (latest: {latest})")
    hint = suggest(name, names) or " (see `cube template list`)"
    raise NotFoundError(f"unknown template '{name}'{hint}")


def list_templates(conn: Connection) -> list[tuple[TemplateSpec, datetime]]:
    """The latest version of every template, by name."""
    latest = (
        select(templates.c.name, func.max(templates.c.version).label("version"))
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


def _get(conn: Connection, *, name: str, version: int) -> TemplateSpec | None:
    spec = conn.execute(
        select(templates.c.spec).where(templates.c.name == name, templates.c.version == version)
    ).scalar()
    return _parse(spec) if spec is not None else None


def _latest_version(conn: Connection, *, name: str) -> int:
    query = select(func.max(templates.c.version)).where(templates.c.name == name)
    return int(conn.execute(query).scalar() or 0)


def _parse(text: str) -> TemplateSpec:
    return TemplateSpec.model_validate(json.loads(text))


def _same(a: TemplateSpec, b: TemplateSpec) -> bool:
    return a.model_copy(update={"version": None}) == b.model_copy(update={"version": None})


def ensure_builtins(conn: Connection, *, now: datetime) -> None:
    """Register each built-in template unless some version already holds its content (a user
    may have registered newer versions of `shell` since)."""
    from cubestudio.templates import builtin_templates

    for builtin in builtin_templates():
        rows = conn.execute(select(templates.c.spec).where(templates.c.name == builtin.name))
        if not any(_same(_parse(row.spec), builtin) for row in rows):
            register_template(conn, template=builtin, creator="cube", now=now)


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
