"""`cube template ...`: register, list, show and export job templates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
def list_(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
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
    typer.echo(yaml.safe_dump(_get(ref).to_data(), sort_keys=False, allow_unicode=True), nl=False)


@app.command()
def export(ref: RefArg) -> None:
    """A template as a file to register elsewhere (without its version number)."""
    data = _get(ref).to_data()
    data.pop("version", None)
    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)


def _get(ref: str) -> TemplateSpec:
    from cubestudio.spec.template import parse_ref
    from cubestudio.store.templates import get_template

    try:
        name, version = parse_ref(ref)
    except ValueError as err:
        raise SpecError([FieldError("", str(err))]) from None
    with _registry().begin() as conn:
        return get_template(conn, name=name, version=version)
