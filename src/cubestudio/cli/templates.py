"""`cube template ...`: register, list, show, export and delete job templates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from cubestudio.errors import FieldError, SpecError

if TYPE_CHECKING:
    from cubestudio.spec.template import TemplateSpec
    from cubestudio.store.db import Database

app = typer.Typer(no_args_is_help=True, help="Job templates: reusable, versioned task types.")
RefArg = Annotated[str, typer.Argument(help="NAME (the latest version) or NAME@VERSION.")]


def _registry() -> Database:
    """The store, with the built-in templates registered."""
    from cubestudio.cli.setup import open_db
    from cubestudio.store.templates import ensure_builtins

    db = open_db()
    with db.begin() as conn:
        ensure_builtins(conn, now=datetime.now(UTC))
    return db


@app.command()
def register(
    file: Annotated[Path, typer.Argument(help="A template file (.yaml or .json).")],
) -> None:
    """Register a template file as a new immutable version."""
    from cubestudio.engine.lifecycle import current_user
    from cubestudio.spec.loader import load_template_text

    if not file.is_file():
        raise SpecError([FieldError("", f"no such template file: {file}")])
    template = load_template_text(file.read_text(encoding="utf-8"), source=str(file))
    from cubestudio.store.templates import register_template

    with _registry().begin() as conn:
        stored, new = register_template(
            conn, template=template, creator=current_user(), now=datetime.now(UTC)
        )
    if new:
        typer.echo(f"registered {stored.ref}")
    else:
        typer.echo(f"{stored.ref} unchanged: it has the same content")


@app.command("list")
def list_(
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """The latest version of every template."""
    from cubestudio.cli.output import print_json, print_table
    from cubestudio.store.templates import list_templates

    with _registry().begin() as conn:
        rows = list_templates(conn)
    items = [
        {
            "name": t.name,
            "version": t.version,
            "category": t.category,
            "description": t.description,
            "created_at": created.isoformat(),
        }
        for t, created in rows
    ]
    if json_out:
        print_json(items)
        return
    rows = [[i["name"], str(i["version"]), i["category"], i["description"]] for i in items]
    print_table(["template", "version", "category", "description"], rows)


@app.command()
def show(ref: RefArg) -> None:
    """A template, as YAML, with its version."""
    typer.echo(to_yaml(_get(ref).to_data()), nl=False)


@app.command()
def export(ref: RefArg) -> None:
    """A template as a file to register elsewhere (without its version number)."""
    data = _get(ref).to_data()
    data.pop("version", None)
    typer.echo(to_yaml(data), nl=False)


@app.command()
def delete(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION: the version to delete.")],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: what was deleted.")
    ] = False,
) -> None:
    """Delete a template version that no run and no schedule uses.

    Built-in versions are kept, and a deleted version's number is never given again."""
    from cubestudio.cli.output import print_json
    from cubestudio.engine.lifecycle import current_user
    from cubestudio.store.templates import delete_template

    name, version = versioned_ref(ref)
    with _registry().begin() as conn:
        gone = delete_template(
            conn, name=name, version=version, user=current_user(), now=datetime.now(UTC)
        )
    if json_out:
        print_json({"name": gone.name, "version": gone.version, "deleted": True})
    else:
        typer.echo(f"deleted {gone.ref}")


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (commands, scripts) as YAML block scalars, as people write them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def to_yaml(data: dict[str, Any]) -> str:
    """YAML that reads back to the same data. A string PyYAML cannot write as a block (one
    with trailing spaces on a line, say) falls back to a quoted one."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True)


def _get(ref: str) -> TemplateSpec:
    from cubestudio.store.templates import get_template

    name, version = _parse_ref(ref)
    with _registry().begin() as conn:
        return get_template(conn, name=name, version=version)


def versioned_ref(ref: str) -> tuple[str, int]:
    """NAME@VERSION of a version to delete (local or on a server); the name alone is an error."""
    name, version = _parse_ref(ref)
    if version is None:
        raise SpecError(
            [
                FieldError(
                    "",
                    f"give the version to delete: {name}@VERSION (see `cube template "
                    f"show {name}` for the latest)",
                )
            ]
        )
    return name, version


def _parse_ref(ref: str) -> tuple[str, int | None]:
    from cubestudio.spec.template import parse_ref

    try:
        return parse_ref(ref)
    except ValueError as err:
        raise SpecError([FieldError("", str(err))]) from None
