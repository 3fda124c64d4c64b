"""`cube artifacts RUN [TASK]` lists what tasks produced; `cube artifacts get RUN TASK NAME -o
PATH` fetches a copy of one, checked against the digest recorded when it was stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cubestudio.errors import FieldError, NotFoundError, SpecError


def artifacts(
    words: Annotated[list[str], typer.Argument(help="RUN [TASK], or: get RUN TASK NAME.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="With get: a new path, or an existing folder to put it in."
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """List a run's artifacts with their sizes, or fetch one with `get`."""
    if words and words[0] == "get":
        if len(words) != 4 or output is None:
            raise SpecError([FieldError("", "usage: cube artifacts get RUN TASK NAME -o PATH")])
        _get(words[1], words[2], words[3], output)
        return
    if len(words) not in (1, 2):
        raise SpecError([FieldError("", "usage: cube artifacts RUN [TASK]")])
    _list(words[0], words[1] if len(words) == 2 else None, json_out)


def _rows(run_id: str, task: str | None) -> tuple[str, list[dict[str, Any]]]:
    from cubestudio.cli.setup import open_db
    from cubestudio.spec.render import suggest
    from cubestudio.store import runs as store

    db = open_db()
    with db.begin() as conn:
        run = store.get_run(conn, run_id=run_id)
        names = [row["name"] for row in store.load_task_runs(conn, run_id=run["id"])]
        if task is not None and task not in names:
            raise NotFoundError(f"run {run['id']} has no task '{task}'{suggest(task, names)}")
        rows = [dict(r) for r in store.load_artifacts(conn, run_id=run["id"], task_name=task)]
    return str(run["id"]), rows


def _list(run_id: str, task: str | None, json_out: bool) -> None:
    from cubestudio.cli.output import print_json, print_table

    run_id, rows = _rows(run_id, task)
    items = [
        {
            "task": r["task_name"],
            "attempt": r["attempt"],
            "name": r["name"],
            "kind": r["kind"],
            "size": r["size"],
            "sha256": r["sha256"],
            "uri": r["uri"],
        }
        for r in rows
    ]
    if json_out:
        print_json(items)
        return
    if not items:
        typer.echo(f"run {run_id} has no artifacts", err=True)
        return
    table = [[i["task"], str(i["attempt"]), i["name"], i["kind"], _human(i["size"])] for i in items]
    print_table(["task", "attempt", "name", "kind", "size"], table)


def _get(run_id: str, task: str, name: str, output: Path) -> None:
    from cubestudio.cli.setup import open_artifacts
    from cubestudio.engine.artifacts import StoredArtifact

    run_id, rows = _rows(run_id, task)
    found = [r for r in rows if r["name"] == name]
    if not found:
        have = ", ".join(sorted({r["name"] for r in rows})) or "none"
        raise NotFoundError(f"task '{task}' of run {run_id} has no artifact '{name}' ({have})")
    row = found[-1]  # the latest attempt's
    dest = _destination(output, name)
    stored = StoredArtifact(row["uri"], row["kind"], row["size"], row["sha256"])
    open_artifacts().fetch(stored, dest, label=f"{task}.{name}")
    typer.echo(f"{task}.{name} ({row['kind']}, {_human(row['size'])}) -> {dest}", err=True)


def _destination(output: Path, name: str) -> Path:
    """Where `-o` puts the artifact, as cp does: inside an existing folder under its own
    name, else at the path itself, whose folder must exist. Never over anything."""
    dest = output / name if output.is_dir() else output
    if not dest.parent.is_dir():
        raise SpecError([FieldError("-o", f"no such folder: {dest.parent} (create it first)")])
    if dest.exists() or dest.is_symlink():
        raise SpecError([FieldError("-o", f"{dest} exists: give a path that does not")])
    return dest


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
