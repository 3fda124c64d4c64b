"""`cube secret set|list|delete`: project secrets, local on the store (as `cube template`),
sealed with the key of this machine (CUBE_SECRET_KEY, else $CUBE_HOME/secret.key). A value is
read from stdin or from an env var, never from the command line (where `ps` and the shell's
history would show it), and never printed."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cubestudio.errors import FieldError, NotFoundError, SpecError
from cubestudio.settings import Settings, get_settings

if TYPE_CHECKING:
    from cubestudio.auth.secretbox import SecretBox
    from cubestudio.spec.model import PipelineSpec
    from cubestudio.store.db import Database

secret_app = typer.Typer(
    no_args_is_help=True,
    help="Project secrets: set once, referenced from a pipeline's env as "
    "{secret: true, from_secret: NAME}, never shown again.",
)
NameArg = Annotated[str, typer.Argument(help="The secret's name (an env var name).")]
ProjectOption = Annotated[str, typer.Option("--project", help="The project it belongs to.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(secret_app, name="secret")


def _open(settings: Settings) -> Database:
    from cubestudio.cli.setup import open_db

    return open_db(settings)


def _box(settings: Settings) -> SecretBox:
    from cubestudio.auth.secretbox import SecretBox

    return SecretBox.load(home=settings.home_dir, key=settings.secret_key)


def _project_id(db: Database, name: str) -> int:
    from cubestudio.store import accounts

    with db.begin() as conn:
        row = accounts.get_project(conn, name=name)
    if row is None:
        raise NotFoundError(f"--project: no project {name} (the local one is `default`)")
    return int(row["id"])


def _read_value(value_stdin: bool, from_env: str | None) -> str:
    if value_stdin == (from_env is not None):
        raise SpecError(
            [FieldError("", "give the value with exactly one of --value-stdin or --from-env VAR")]
        )
    if from_env is not None:
        if from_env not in os.environ:
            raise SpecError(
                [FieldError("--from-env", f"{from_env} is not set: export {from_env}=... first")]
            )
        return os.environ[from_env]
    from cubestudio.auth.project_secrets import MAX_VALUE_BYTES

    # Read no more than a value may hold (and a newline): a larger one is refused anyway.
    text = sys.stdin.read(MAX_VALUE_BYTES + 3)
    # One trailing newline is what `echo` and a file's last line add, not part of the value.
    return text.removesuffix("\n").removesuffix("\r")


@secret_app.command("set")
def set_(
    name: NameArg,
    project: ProjectOption = "default",
    value_stdin: Annotated[
        bool,
        typer.Option(
            "--value-stdin", help="Read the value from stdin (one final newline dropped)."
        ),
    ] = False,
    from_env: Annotated[
        str | None, typer.Option("--from-env", help="Take the value from this env var.")
    ] = None,
) -> None:
    """Create or replace a secret; its value is never shown again."""
    from cubestudio.auth import project_secrets
    from cubestudio.engine.lifecycle import current_user

    project_secrets.check_name(name)  # before waiting for stdin
    value = _read_value(value_stdin, from_env)
    settings = get_settings()
    db = _open(settings)
    created = project_secrets.set_secret(
        db,
        box=_box(settings),
        project_id=_project_id(db, project),
        name=name,
        value=value,
        user=current_user(),
        now=datetime.now(UTC),
    )
    typer.echo(f"secret {name} {'created' if created else 'updated'} in project {project}")


@secret_app.command("list")
def list_(project: ProjectOption = "default", json_out: JsonOption = False) -> None:
    """The project's secrets: names, who created them, when (never the values)."""
    from cubestudio.auth import project_secrets
    from cubestudio.cli.output import print_json, print_table

    db = _open(get_settings())
    rows = project_secrets.list_secrets(db, project_id=_project_id(db, project))
    items = [
        {
            "name": r.name,
            "created_by": r.created_by,
            "created_at": r.created_at.isoformat(),
            "updated_at": r.updated_at.isoformat(),
        }
        for r in rows
    ]
    if json_out:
        print_json(items)
        return
    cells = [[i["name"], i["created_by"], i["created_at"], i["updated_at"]] for i in items]
    print_table(["secret", "created_by", "created_at", "updated_at"], cells)


@secret_app.command()
def delete(name: NameArg, project: ProjectOption = "default") -> None:
    """Delete a secret.

    Runs that started keep their value; later ones that refer to it are refused until it
    is set again."""
    from cubestudio.auth import project_secrets

    db = _open(get_settings())
    project_secrets.delete_secret(db, project_id=_project_id(db, project), name=name)
    typer.echo(f"secret {name} deleted from project {project}")


def local_values(spec: PipelineSpec, project: str = "default") -> dict[str, str]:
    """The project secrets ``spec`` refers to, decrypted with this machine's key: what
    `cube run` and `cube submit` give resolve_secrets. Opens nothing for a pipeline that
    refers to none."""
    from cubestudio.auth import project_secrets

    if not project_secrets.referenced(spec):
        return {}
    settings = get_settings()
    db = _open(settings)
    return project_secrets.for_spec(
        db, box=_box(settings), project_id=_project_id(db, project), spec=spec
    )
