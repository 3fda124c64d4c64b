"""`cube import cube-studio FILE`: cube-studio's job templates (registered in the store) and
pipelines (written as YAML files), with every field that has no home here listed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cubestudio.errors import CubeError, SpecError

if TYPE_CHECKING:
    from cubestudio.importers.cubestudio import ImportResult
    from cubestudio.spec.template import TemplateCatalog

import_app = typer.Typer(
    no_args_is_help=True, help="Import job templates and pipelines from other platforms."
)


@import_app.command("cube-studio")
def cube_studio(
    file: Annotated[
        Path,
        typer.Argument(
            help="cube-studio's job template export (init-job-template.json) or its pipeline "
            "export (init-pipeline.json)."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="The folder pipeline files are written to.")
    ] = Path("imported-pipelines"),
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: "
            '{"templates": [...], "pipelines": [...], "errors": [...]}.',
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Map and validate; register and write nothing.")
    ] = False,
) -> None:
    """Import cube-studio's job templates (registered) or pipelines (written to --out).

    Pipelines are checked against the registered templates: import the templates first.

    Fields with no home here are listed per item, never dropped.

    Exit 0: every item imported; 1: an item failed; 2: the file is not a cube-studio export."""
    from cubestudio.importers.cubestudio import detect_export

    data = _read(file)
    rows: list[dict[str, Any]]
    if detect_export(data) == "templates":
        from cubestudio.importers.cubestudio_templates import import_templates

        rows = list(_register(import_templates(data), dry_run=dry_run))
    else:
        from cubestudio.cli.setup import LazyCatalog
        from cubestudio.importers.cubestudio_pipelines import import_pipelines

        catalog = LazyCatalog()
        results = import_pipelines(data, catalog)
        rows = list(_write(results, catalog, out=out, dry_run=dry_run))
    _report(rows, json_out=json_out)
    raise typer.Exit(0 if all(row["status"] != "failed" for row in rows) else 1)


def _read(file: Path) -> Any:
    """The file's JSON; a bad file is one line (exit 2)."""
    from cubestudio.importers.cubestudio import ExportFormatError

    if not file.is_file():
        what = "a folder" if file.is_dir() else "no such file"
        raise ExportFormatError(f"{file}: {what}: give cube-studio's export file (a .json)")
    try:
        return json.loads(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ExportFormatError(f"{file}: not UTF-8 text: give cube-studio's export") from None
    except json.JSONDecodeError as exc:
        raise ExportFormatError(
            f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}: give cube-studio's "
            "export (a JSON object)"
        ) from None


def _register(results: list[ImportResult], *, dry_run: bool) -> Iterator[dict[str, Any]]:
    from cubestudio.cli.setup import open_db
    from cubestudio.engine.lifecycle import current_user
    from cubestudio.store.templates import register_template

    db = None if dry_run else open_db()
    for result in results:
        row = _row(result)
        if result.template is None or not result.ok:
            row["status"] = "failed"
        elif db is None:
            row["status"] = "valid (dry run)"
        else:
            try:
                with db.begin() as conn:
                    stored, new = register_template(
                        conn, template=result.template, creator=current_user(), now=_now()
                    )
            except CubeError as err:
                result.errors.append(str(err))
                row["status"] = "failed"
            else:
                row["version"] = stored.version
                row["status"] = "registered" if new else "unchanged"
        yield _finish(row, result)


def _write(
    results: list[ImportResult], catalog: TemplateCatalog, *, out: Path, dry_run: bool
) -> Iterator[dict[str, Any]]:
    from cubestudio.cli.templates import to_yaml
    from cubestudio.spec.loader import load_pipeline_text

    for result in results:
        row = _row(result)
        row["status"] = "failed"
        if result.pipeline is not None and result.ok:
            file = out / f"{result.name}.yaml"
            text = _header(result) + to_yaml(result.pipeline)
            try:  # the very text written, read back as `cube validate` reads it
                load_pipeline_text(
                    text, source=str(file), catalog=catalog, pipeline_dir=str(out.resolve())
                )
            except SpecError as err:
                result.errors += [str(e) for e in err.errors]
            else:
                if not dry_run:
                    out.mkdir(parents=True, exist_ok=True)
                    file.write_text(text, encoding="utf-8")
                row["file"] = str(file)
                row["status"] = "valid (dry run)" if dry_run else "written"
        yield _finish(row, result)


def _header(result: ImportResult) -> str:
    """The file keeps what was not imported, as comments."""
    lines = [
        f"# Imported from cube-studio pipeline '{result.source}' by `cube import cube-studio`."
    ]
    if result.unmapped:
        lines.append("# Not imported (no equivalent here):")
        lines += [f"#   {u}".replace("\n", " ") for u in result.unmapped]
    return "\n".join(lines) + "\n"


def _row(result: ImportResult) -> dict[str, Any]:
    return {"kind": result.kind, "source": result.source, "name": result.name}


def _finish(row: dict[str, Any], result: ImportResult) -> dict[str, Any]:
    row["unmapped"] = [u.to_data() for u in result.unmapped]
    row["errors"] = list(result.errors)
    return row


def _report(rows: list[dict[str, Any]], *, json_out: bool) -> None:
    errors = [
        {"kind": row["kind"], "source": row["source"], "message": message}
        for row in rows
        for message in row["errors"]
    ]
    if json_out:
        from cubestudio.cli.output import print_json

        items = [{k: v for k, v in row.items() if k not in ("kind", "errors")} for row in rows]
        print_json(
            {
                "templates": [
                    i for i, r in zip(items, rows, strict=True) if r["kind"] == "template"
                ],
                "pipelines": [
                    i for i, r in zip(items, rows, strict=True) if r["kind"] == "pipeline"
                ],
                "errors": errors,
            }
        )
        return
    from cubestudio.cli.output import print_table

    table = [[r["kind"], r["source"], r["name"], _status(r), str(len(r["unmapped"]))] for r in rows]
    print_table(["kind", "original name", "new name", "status", "unmapped"], table)
    for row in rows:
        if row["unmapped"]:
            typer.echo(f"\n{row['kind']} {row['source']} ({row['name']}): not imported")
            for u in row["unmapped"]:
                typer.echo(f"  {u['field']} = {u['value']}: {u['reason']}")
    for error in errors:
        typer.echo(f"error: {error['kind']} {error['source']}: {error['message']}", err=True)


def _status(row: dict[str, Any]) -> str:
    if row["status"] in ("registered", "unchanged"):
        return f"{row['status']} {row['name']}@{row['version']}"
    if row["status"] == "written":
        return f"written {row['file']}"
    return str(row["status"])


def _now() -> datetime:
    return datetime.now(UTC)
