"""`cube debug FILE TASK`: one task alone, its log streamed to the terminal, kept out of the
run history (`cube runs --all` shows debug runs)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from cubestudio.drivers.local import LocalDriver
from cubestudio.engine.launcher import LaunchRequest
from cubestudio.errors import FieldError, SpecError
from cubestudio.logs.mask import Masker


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
    """Run one task of a pipeline on its own, with its rendered command and live log.

    The rendered command (secrets masked) goes to stderr, then the live log to stdout."""
    from cubestudio.cli.main import drive_run
    from cubestudio.cli.secrets import local_values
    from cubestudio.cli.setup import LazyCatalog, open_db, runs_folder
    from cubestudio.engine.debug import create_debug_run
    from cubestudio.engine.lease import Identity
    from cubestudio.engine.lifecycle import resolve_secrets
    from cubestudio.engine.loop import utcnow
    from cubestudio.settings import get_settings
    from cubestudio.spec.loader import load_pipeline
    from cubestudio.spec.params import parse_assignments, resolve_params
    from cubestudio.spec.validate import resolve_templates

    catalog = LazyCatalog()
    spec = load_pipeline(file, catalog)
    params = resolve_params(spec, parse_assignments(param or []))
    inputs = {name: Path(path) for name, path in _assignments(input_ or []).items()}
    # A missing one is reported before any run.
    secrets = resolve_secrets(spec, os.environ, local_values(spec))
    db = open_db()
    run_id = create_debug_run(
        db,
        spec=spec,
        task=task,
        params=params,
        templates=resolve_templates(spec, catalog),
        inputs=inputs,
        now=utcnow(),
        holder=Identity.for_cli(),  # driven here: no engine service claims it meanwhile
        lease_seconds=get_settings().engine_lease,
    )
    driver = _ShowingDriver(runs_folder(get_settings()), secrets.values())
    if secrets:
        # Kept before the follower starts: it masks with the secrets it finds when it opens
        # the log, and the engine would keep them only once it has started.
        driver.save_secrets(run_id, secrets)
    typer.echo(f"debug run {run_id}: task {task}", err=True)
    follower = threading.Thread(target=_stream_log, args=(run_id, task), daemon=True)
    follower.start()
    drive_run(
        db,
        run_id,
        json_out=json_out,
        quiet=not json_out,
        driver=driver,
        after=follower.join,
        secrets=secrets,
    )


class _ShowingDriver(LocalDriver):
    """The local driver, printing each command to stderr, secrets masked, as it launches it:
    the command as rendered for this run, which the pipeline file does not show."""

    def __init__(self, runs_dir: Path, secrets: Iterable[str]) -> None:
        super().__init__(runs_dir)
        self._masker = Masker(secrets)

    def launch(self, request: LaunchRequest) -> None:
        lines = self._masker.mask_text(request.command).splitlines() or [""]
        shown = [f"$ {lines[0]}", *(f"> {line}" for line in lines[1:])]
        typer.echo("\n".join(shown), err=True)
        super().launch(request)


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
