"""Single-task debug (F6): run one task of a pipeline alone, its upstream results taken from
the pipeline's last successful run (or given by hand), in a run kept out of the history.

The debug run holds the whole pipeline so that templates render as they would in a real run:
the task's ancestors are marked succeeded with the outputs and artifacts of the source run
(attempt 0: taken over, not run), every other task skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cubestudio.engine.lease import Identity
from cubestudio.engine.lifecycle import create_run
from cubestudio.engine.states import RunState, TaskState
from cubestudio.errors import FieldError, NotFoundError, SpecError
from cubestudio.spec.model import PipelineSpec, TaskSpec
from cubestudio.spec.render import referenced_names, suggest
from cubestudio.spec.template import TemplateSpec
from cubestudio.spec.validate import ancestors
from cubestudio.store import run_lists
from cubestudio.store import runs as store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID

DEBUG = "debug"


def create_debug_run(
    db: Database,
    *,
    spec: PipelineSpec,
    task: str,
    params: dict[str, Any],
    templates: Mapping[str, TemplateSpec],
    inputs: Mapping[str, Path],
    now: datetime,
    project_id: int = DEFAULT_PROJECT_ID,
    holder: Identity | None = None,
    lease_seconds: float = 15.0,
    runner: str | None = None,
) -> str:
    """A run of one task of ``spec``: the others skipped, or succeeded with the outputs of
    the pipeline's last successful run in the project when the task needs them. Born
    leased to ``holder`` (who drives it, or hands it to the engine service by releasing)."""
    target = _task(spec, task)
    needed = _upstream_needed(target)
    source = _last_success(db, spec.name, project_id) if needed else None
    prefilled: dict[str, dict[str, Any]] = {}
    artifacts: list[dict[str, Any]] = []
    upstream = ancestors(spec, target)
    source_tasks, source_artifacts = _source_results(db, source)
    for other in spec.all_tasks():
        if other is target:
            continue
        if other.name in upstream and other.name in source_tasks:
            prefilled[other.name] = {
                "status": TaskState.SUCCEEDED.value,
                "outputs": source_tasks[other.name],
                "message": f"taken from run {source}",
            }
        else:
            prefilled[other.name] = {
                "status": TaskState.SKIPPED.value,
                "message": "not part of this debug run",
            }
    for given in target.inputs:
        row = source_artifacts.get((given.task, given.output))
        if given.as_name in inputs:
            row = _local_artifact(given.task, given.output, inputs[given.as_name])
            prefilled[given.task] = {"status": TaskState.SUCCEEDED.value, "message": "--input"}
        if row is None:
            raise _missing(spec, target, given.as_name, given.task, source)
        artifacts.append(row)
    unknown = sorted(set(inputs) - {i.as_name for i in target.inputs})
    if unknown:
        names = [i.as_name for i in target.inputs]
        hint = suggest(unknown[0], names) or f" (its inputs: {', '.join(names) or 'none'})"
        raise SpecError([FieldError("--input", f"task '{task}' has no input '{unknown[0]}'{hint}")])
    missing = sorted(needed - set(source_tasks) - {g.task for g in target.inputs})
    if missing:
        raise _missing(spec, target, f"tasks.{missing[0]}.outputs", missing[0], source)
    return create_run(
        db,
        spec=spec,
        params=params,
        now=now,
        trigger=DEBUG,
        templates=templates,
        prefilled=prefilled,
        artifacts=artifacts,
        project_id=project_id,
        holder=holder,
        lease_seconds=lease_seconds,
        runner=runner,
    )


def _task(spec: PipelineSpec, name: str) -> TaskSpec:
    for task in spec.all_tasks():
        if task.name == name:
            return task
    hint = suggest(name, [t.name for t in spec.all_tasks()])
    raise NotFoundError(f"pipeline {spec.name} has no task '{name}'{hint}")


def _upstream_needed(task: TaskSpec) -> set[str]:
    """The upstream tasks whose results this task reads (outputs in templates, inputs)."""
    needed = {given.task for given in task.inputs}
    for _, text in task.template_texts():  # strings inside args at any depth too
        needed.update(c[1] for c in referenced_names(text)[1] if len(c) > 1 and c[0] == "tasks")
    return needed


def _last_success(db: Database, pipeline: str, project_id: int) -> str | None:
    with db.read() as conn:
        rows = run_lists.list_project_runs(
            conn,
            project_id=project_id,
            limit=1,
            pipeline=pipeline,
            statuses=[RunState.SUCCEEDED.value],
        )  # debug runs are not in a pipeline's history
    return str(rows[0]["id"]) if rows else None


def _source_results(
    db: Database, run_id: str | None
) -> tuple[dict[str, str | None], dict[tuple[str, str], dict[str, Any]]]:
    """The source run's succeeded tasks (their outputs, as JSON text) and its artifacts."""
    if run_id is None:
        return {}, {}
    with db.begin() as conn:
        tasks = store.load_task_runs(conn, run_id=run_id)
        rows = store.load_artifacts(conn, run_id=run_id)
    done = {
        t["name"]: (t["outputs"], t["attempts"])
        for t in tasks
        if t["status"] == TaskState.SUCCEEDED.value
    }
    artifacts = {
        (r["task_name"], r["name"]): {
            "task_name": r["task_name"],
            "attempt": 0,
            "name": r["name"],
            "kind": r["kind"],
            "size": r["size"],
            "sha256": r["sha256"],
            "uri": r["uri"],
        }
        for r in rows
        if r["task_name"] in done and r["attempt"] == done[r["task_name"]][1]
    }
    return {name: outputs for name, (outputs, _) in done.items()}, artifacts


def _local_artifact(task: str, output: str, path: Path) -> dict[str, Any]:
    from cubestudio.artifacts.paths import check_output

    resolved = path.expanduser().resolve()
    kind = "folder" if resolved.is_dir() else "file"
    try:
        size = check_output(path.expanduser(), kind, output)
    except Exception as err:
        raise SpecError([FieldError("--input", f"{path}: {err}")]) from None
    return {
        "task_name": task,
        "attempt": 0,
        "name": output,
        "kind": kind,
        "size": size,
        "sha256": None,  # the user's own file: its size is checked when it is placed
        "uri": resolved.as_uri(),
    }


def _missing(
    spec: PipelineSpec, target: TaskSpec, what: str, upstream: str, source: str | None
) -> SpecError:
    where = (
        f"the last successful run ({source}) has no result of task '{upstream}'"
        if source
        else f"pipeline {spec.name} has no successful run to take it from"
    )
    fix = f"; give --input {what}=PATH" if not what.startswith("tasks.") else "; run it once"
    return SpecError([FieldError(target.name, f"{what} of '{upstream}' is needed: {where}{fix}")])
