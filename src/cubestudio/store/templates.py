"""The job template registry: immutable versions, ``name`` alone meaning the latest.

Invariants: a version's number is never given twice, so ``name@version`` always means the
same content. Deleting a version leaves a tombstone row in its place (the spec column holds
``{"deleted_at": ..., "deleted_by": ...}`` instead of a template), which every reader skips
and which keeps the number taken. Built-in names (``cubestudio/templates``) are reserved:
only ``ensure_builtins`` registers versions under them.

Scope: a template is platform-wide (``project_id`` NULL: every project sees it) or belongs to
one project (only that project sees it). A name is unique across the platform, whoever holds
it, so ``name@version`` means one template everywhere; the first version's owner keeps the
name, deleted versions included. Every reader takes ``project_id`` (keyword, default None:
platform-wide only) and sees the platform-wide templates plus that project's; a template of
another project is answered as unknown.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    func,
    insert,
    or_,
    select,
    update,
)

from cubestudio.errors import FieldError, NotFoundError, SpecError, StateError
from cubestudio.spec.render import suggest
from cubestudio.spec.template import TemplateSpec
from cubestudio.store.tables import pipelines, projects, runs, schedules, templates

BUILTIN_CREATOR = "cube"  # the creator recorded for the built-in versions
_TOMBSTONE = '{"deleted_at"'  # how a deleted version's spec starts (json.dumps, sorted keys)


@dataclass(frozen=True)
class TemplateEntry:
    """A stored version with where it lives (project_id None: platform-wide), who registered
    it and when."""

    template: TemplateSpec
    project_id: int | None
    creator: str
    created_at: datetime


@dataclass(frozen=True)
class VersionEntry:
    """One version number of a template; a deleted one keeps its number and says so."""

    version: int
    creator: str
    created_at: datetime
    deleted_at: str | None = None
    deleted_by: str | None = None


def builtin_names() -> frozenset[str]:
    from cubestudio.templates import builtin_templates

    return frozenset(t.name for t in builtin_templates())


def register_template(
    conn: Connection,
    *,
    template: TemplateSpec,
    creator: str,
    now: datetime,
    project_id: int | None = None,
) -> tuple[TemplateSpec, bool]:
    """Store a new version, platform-wide or in ``project_id``; returns (the stored template,
    whether it is new). The same content as the latest version registers nothing; a given
    version is never overwritten. A built-in's name is refused: a user's `shell@2` would
    become what `template: shell` (and every task with only `command:`) means. A name held
    elsewhere (platform-wide, or by another project) is refused: names are unique."""
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
    _check_name_free(conn, name=template.name, project_id=project_id)
    return _register(conn, template=template, creator=creator, now=now, project_id=project_id)


def _check_name_free(conn: Connection, *, name: str, project_id: int | None) -> None:
    """Refuse a name whose versions live elsewhere; another project's name is not revealed
    to a project, only to a platform-wide registration (a platform admin's)."""
    first = conn.execute(_first_version(name)).first()
    if first is None or first.project_id == project_id:
        return
    owner = first.project_id
    unique = "template names are unique across the platform"
    if owner is None:
        message = (
            f"'{name}' is the name of a platform-wide template and {unique}, so a project's "
            f"template cannot take it: give yours another name (e.g. name: my-{name})"
        )
    elif project_id is None:
        held_by = conn.execute(select(projects.c.name).where(projects.c.id == owner)).scalar()
        message = (
            f"'{name}' is the name of a template of project {held_by} and {unique}: give the "
            f"platform-wide template another name (e.g. name: shared-{name})"
        )
    else:
        message = (
            f"'{name}' is taken by a template of another project and {unique}: give yours "
            f"another name (e.g. name: my-{name})"
        )
    raise SpecError([FieldError("name", message)])


def _register(
    conn: Connection,
    *,
    template: TemplateSpec,
    creator: str,
    now: datetime,
    project_id: int | None = None,
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
            project_id=project_id,
        )
    )
    return stored, True


def template_owner(conn: Connection, *, name: str) -> int | None:
    """The project holding the name; None when it is platform-wide or no template has it."""
    owner = conn.execute(_first_version(name)).scalar()
    return None if owner is None else int(owner)


def _first_version(name: str) -> Select[Any]:
    # The first version's owner holds the name (all its versions share it).
    query = select(templates.c.project_id).where(templates.c.name == name)
    return query.order_by(templates.c.version).limit(1)


def get_template(
    conn: Connection, *, name: str, version: int | None = None, project_id: int | None = None
) -> TemplateSpec:
    """The version (None: the latest) if it is platform-wide or ``project_id``'s."""
    if template_owner(conn, name=name) in (None, project_id):
        if version is None:
            version = _latest_version(conn, name=name)
        found = _get(conn, name=name, version=version) if version else None
        if found is not None:
            return found
        if version and (gone := _tombstone(conn, name=name, version=version)) is not None:
            raise NotFoundError(
                f"template {name}@{version} was deleted on {gone.get('deleted_at', '?')[:10]} "
                f"by {gone.get('deleted_by', '?')}" + _latest_hint(conn, name=name)
            )
    names = _visible_names(conn, project_id=project_id)
    if name in names:
        latest = _latest_version(conn, name=name)
        raise NotFoundError(f"template {name} has no version {version} (latest: {latest})")
    hint = suggest(name, names) or " (see `cube template list`)"
    raise NotFoundError(f"unknown template '{name}'{hint}")


def get_entry(
    conn: Connection, *, name: str, version: int | None = None, project_id: int | None = None
) -> TemplateEntry:
    """get_template with who registered the version, when, and where."""
    template = get_template(conn, name=name, version=version, project_id=project_id)
    row = conn.execute(
        select(templates.c.project_id, templates.c.creator, templates.c.created_at).where(
            templates.c.name == name, templates.c.version == template.version
        )
    ).one()
    return TemplateEntry(template, row.project_id, row.creator, row.created_at)


def list_templates(
    conn: Connection, *, project_id: int | None = None
) -> list[tuple[TemplateSpec, datetime]]:
    """The latest version of every template (platform-wide, and ``project_id``'s), by name."""
    return [(e.template, e.created_at) for e in list_entries(conn, project_id=project_id)]


def list_entries(conn: Connection, *, project_id: int | None = None) -> list[TemplateEntry]:
    """list_templates with where each template lives and who registered its latest version."""
    latest = (
        select(templates.c.name, func.max(templates.c.version).label("version"))
        .where(_live(), _visible(project_id))
        .group_by(templates.c.name)
        .subquery()
    )
    rows = conn.execute(
        select(
            templates.c.spec, templates.c.project_id, templates.c.creator, templates.c.created_at
        )
        .join(
            latest,
            (templates.c.name == latest.c.name) & (templates.c.version == latest.c.version),
        )
        .order_by(templates.c.name)
    )
    return [TemplateEntry(_parse(r.spec), r.project_id, r.creator, r.created_at) for r in rows]


def list_versions(
    conn: Connection, *, name: str, project_id: int | None = None
) -> list[VersionEntry]:
    """Every version number given to the template, newest first, deleted ones included."""
    rows = conn.execute(
        select(templates.c.version, templates.c.spec, templates.c.creator, templates.c.created_at)
        .where(templates.c.name == name, _visible(project_id))
        .order_by(templates.c.version.desc())
    ).all()
    if not rows:
        get_template(conn, name=name, project_id=project_id)  # raises, naming a close match
    found = []
    for row in rows:
        gone = {} if not row.spec.startswith(_TOMBSTONE) else json.loads(row.spec)
        found.append(
            VersionEntry(
                row.version,
                row.creator,
                row.created_at,
                gone.get("deleted_at"),
                gone.get("deleted_by"),
            )
        )
    return found


def delete_template(
    conn: Connection,
    *,
    name: str,
    version: int,
    user: str,
    now: datetime,
    project_id: int | None = None,
) -> TemplateSpec:
    """Delete a version no run and no schedule uses; returns what was deleted. Its number
    stays taken. Built-in versions are refused; a user's version registered under a built-in
    name before names were reserved may be deleted (that is the way back to the built-in).
    Only a platform-wide or ``project_id``'s template is found."""
    template = get_template(conn, name=name, version=version, project_id=project_id)
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


def _visible(project_id: int | None) -> ColumnElement[bool]:
    platform = templates.c.project_id.is_(None)
    return platform if project_id is None else or_(platform, templates.c.project_id == project_id)


def _visible_names(conn: Connection, *, project_id: int | None) -> list[str]:
    query = select(templates.c.name).where(_live(), _visible(project_id)).distinct()
    return list(conn.execute(query).scalars())


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
    """The registry as the spec layer's TemplateCatalog: built-ins registered on first use.
    A pipeline of a project resolves that project's templates too (``project_id``)."""

    def __init__(
        self,
        begin: Callable[[], AbstractContextManager[Connection]],
        *,
        project_id: int | None = None,
    ) -> None:
        self._begin = begin
        self._project_id = project_id
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
                return get_template(conn, name=name, version=version, project_id=self._project_id)
            except NotFoundError as err:
                raise LookupError(str(err)) from None
