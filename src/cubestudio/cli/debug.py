"""`cube debug FILE TASK`: one task alone, its log streamed to the terminal, kept out of the
run history (`cube runs --all` shows debug runs)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Annotated

import typer

from cubestudio.errors import FieldError, SpecError


def debug(
    file: Annotated[Path, typer.Argument(help="A pipeline file (.yaml, .json, .py).")],
    task: Annotated[str, typer.Argument(help="The task to run alone.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Override a parameter: NAME=VALUE.")
    ] = None,
    input_: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="An input artifact from a local path: NAME=PATH."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the run summary as JSON.")
    ] = False,
) -> None:
    """Run one task of a pipeline on its own, with its rendered command and live log."""
    from cubestudio.cli.main import drive_run
    from cubestudio.cli.setup import LazyCatalog, open_db
    from cubestudio.engine.debug import create_debug_run
    from cubestudio.engine.lifecycle import resolve_secrets
    from cubestudio.engine.loop import utcnow
    from cubestudio.spec.loader import load_pipeline
    from cubestudio.spec.params import parse_assignments, resolve_params
    from cubestudio.spec.validate import resolve_templates

    catalog = LazyCatalog()
    spec = load_pipeline(file, catalog)
    params = resolve_params(spec, parse_assignments(param or []))
    inputs = {name: Path(path) for name, path in _assignments(input_ or []).items()}
    db = open_db()
    run_id = create_debug_run(
        db,
        spec=spec,
        task=task,
        params=params,
        templates=resolve_templates(spec, catalog),
        inputs=inputs,
        now=utcnow(),
    )
    typer.echo(f"debug run {run_id}: task {task}", err=True)
    follower = threading.Thread(target=_stream_log, args=(run_id, task), daemon=True)
    follower.start()
    drive_run(
        db,
        run_id,
        json_out=json_out,
        quiet=not json_out,
        after=follower.join,
        secrets=resolve_secrets(spec, os.environ),
    )


def _stream_log(run_id: str, task: str) -> None:
    """Follow the task's log to stdout while the engine drives the run."""
    from cubestudio.cli.main import follow_log

    follow_log(run_id, task)


def _assignments(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise SpecError([FieldError("--input", f"{item!r} is not NAME=PATH")])
        values[name] = value
    return values
