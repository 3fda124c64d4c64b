"""`cube template ...` against a server (see remote_cli.py): list, show, export, delete and
register in the project on the server, with the local commands' output and exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cubestudio.client.remote_cli import session
from cubestudio.errors import FieldError, SpecError
from cubestudio.spec.template import TemplateSpec

if TYPE_CHECKING:
    from cubestudio.cli.remote import Target


def template_list(target: Target, json_out: bool = False) -> None:
    from cubestudio.cli.output import print_json, print_table

    with session(target) as client:
        items = client.templates()
    if json_out:
        print_json(items)
        return
    rows = [[i["name"], str(i["version"]), i["category"], i["description"]] for i in items]
    print_table(["template", "version", "category", "description"], rows)


def template_show(target: Target, ref: str) -> None:
    """As `cube template show REF`: the template (a version of it with name@N) as YAML."""
    from cubestudio.cli.templates import to_yaml

    typer.echo(to_yaml(_template(target, ref)), nl=False)


def template_export(target: Target, ref: str) -> None:
    """As `cube template export REF`: the YAML to register elsewhere (no version number)."""
    from cubestudio.cli.templates import to_yaml

    data = {k: v for k, v in _template(target, ref).items() if k != "version"}
    typer.echo(to_yaml(data), nl=False)


def _template(target: Target, ref: str) -> Any:
    from cubestudio.cli.templates import _parse_ref

    name, version = _parse_ref(ref)
    params: dict[str, Any] = {"project": target.project}
    if version is not None:
        params["version"] = version
    with session(target) as client:
        found = client.http.json("GET", f"/templates/{name}", params=params)
    # The same data as the local command's: the template without its defaults.
    return TemplateSpec.model_validate(found["template"]).to_data()


def template_delete(target: Target, ref: str, json_out: bool = False) -> None:
    """As `cube template delete NAME@VERSION`: refused (409, one line) while a run or a
    schedule uses that version."""
    from cubestudio.cli.output import print_json
    from cubestudio.cli.templates import versioned_ref

    name, version = versioned_ref(ref)
    with session(target) as client:
        params = {"version": version}
        client.http.json("DELETE", f"/templates/{name}", params=params)
    if json_out:
        print_json({"name": name, "version": version, "deleted": True})
    else:
        typer.echo(f"deleted {name}@{version}")


def template_register(target: Target, file: Path) -> None:
    """As `cube template register FILE`, in the project on the server (a platform admin's
    registers platform-wide, as the local one does)."""
    from cubestudio.spec.loader import load_template_text

    if not file.is_file():
        raise SpecError([FieldError("", f"no such template file: {file}")])
    template = load_template_text(file.read_text(encoding="utf-8"), source=str(file))
    with session(target) as client:
        admin = client.http.json("GET", "/auth/me")["is_admin"]
        path = "/templates" if admin else client.path("/templates")
        body = template.model_dump(mode="json", exclude_defaults=True, by_alias=True)
        stored = client.http.json("POST", path, json=body)
    ref = f"{stored['name']}@{stored['version']}"
    if stored.get("created", True):
        typer.echo(f"registered {ref}")
    else:
        typer.echo(f"{ref} unchanged: it has the same content")
