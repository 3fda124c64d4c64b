"""Creating runs, loading a run into a controller, retry / rerun, and the run summary that
the CLI's ``--json`` contract prints."""

from __future__ import annotations

import getpass
import json
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cubestudio.engine.artifacts import ArtifactStore, StoredArtifact
from cubestudio.engine.context import run_variables
from cubestudio.engine.controller import RunController
from cubestudio.engine.gate import AdmissionGate
from cubestudio.engine.launcher import Launcher
from cubestudio.engine.lease import Identity
from cubestudio.engine.nodes import AttemptNode, TaskNode, count_upstream
from cubestudio.engine.states import (
    RUN_TERMINAL,
    TASK_RETRYABLE,
    AttemptState,
    RunState,
    TaskState,
)
from cubestudio.errors import CubeError, FieldError, NotFoundError, SpecError, StateError
from cubestudio.procinfo import is_alive
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.render import EXECUTION_DATE_FORMAT, suggest
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import pipelines as pipeline_store
from cubestudio.store import queues as queue_store
from cubestudio.store import runs as store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID

CLUSTER_NAME = "local"


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_run_id(now: datetime) -> str:
    return f"{now:%y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def create_run(db: Database, **fields: Any) -> str:
    """Store a new pending run in a transaction of its own; returns its id. The fields are
    those of ``insert_new_run``."""
    with db.begin() as conn:
        return insert_new_run(conn, **fields)


def insert_new_run(
    conn: Connection,
    *,
    spec: PipelineSpec,
    params: dict[str, Any],
    now: datetime,
    trigger: str = "manual",
    execution_date: datetime | None = None,
    runner: str | None = None,
    templates: Mapping[str, TemplateSpec] | None = None,
    prefilled: Mapping[str, dict[str, Any]] | None = None,
    artifacts: list[dict[str, Any]] | None = None,
    holder: Identity | None = None,
    lease_seconds: float = 15.0,
    project_id: int = DEFAULT_PROJECT_ID,
    pipeline_version: int | None = None,
) -> str:
    """Insert a new pending run, in the caller's transaction, with a snapshot of the pipeline
    and of the job templates its tasks use (pinned: a template registered later does not
    change this run); returns its id. The scheduler calls this inside the transaction that
    marks its schedule record created, so the two commit together.

    ``pipeline_version``: the run is triggered from that saved version of the project's
    pipeline (the server), which must exist; without it the pipeline's latest definition is
    recorded from ``spec`` (a run from a file)."""
    runner = runner or current_user()
    templates = dict(templates or {})
    missing = sorted(
        {t.template for t in spec.all_tasks() if t.template and t.template not in templates}
    )
    if missing:
        raise StateError(f"templates not resolved for the run: {', '.join(missing)}")
    snapshot = json.dumps(
        {"pipeline": spec.to_data(), "templates": {k: t.to_data() for k, t in templates.items()}},
        sort_keys=True,
    )
    tasks = spec.all_tasks()
    for _ in range(5):
        run_id = new_run_id(now)
        try:
            with conn.begin_nested():  # a savepoint: a run id collision retries
                pipeline_id, creator = _pipeline_of_run(
                    conn, spec, runner, now, project_id, pipeline_version
                )
                store.insert_run(
                    conn,
                    run={
                        "id": run_id,
                        "pipeline_id": pipeline_id,
                        "pipeline_name": spec.name,
                        "status": RunState.PENDING.value,
                        "trigger": trigger,
                        "execution_date": execution_date or now,
                        "creator": creator,
                        "runner": runner,
                        "cluster_name": CLUSTER_NAME,
                        "spec": snapshot,
                        "params": json.dumps(params, sort_keys=True),
                        "created_at": now,
                        "stop_requested": False,
                        "project_id": project_id,
                        "pipeline_version": pipeline_version,
                        **_held_by(holder, now, lease_seconds),
                    },
                    tasks=[
                        {
                            "run_id": run_id,
                            "name": task.name,
                            "position": i,
                            "status": TaskState.PENDING.value,
                            "attempts": 0,
                            "retry_base": 0,
                            "message": None,
                            "outputs": None,
                            **(prefilled or {}).get(task.name, {}),
                        }
                        for i, task in enumerate(tasks)
                    ],
                )
                if artifacts:
                    store.save_changes(
                        conn,
                        run_id=run_id,
                        new_artifacts=[
                            {**a, "run_id": run_id, "created_at": now} for a in artifacts
                        ],
                    )
            return run_id
        except IntegrityError:  # a run id collision (or a concurrent first pipeline insert)
            continue
    raise StateError("could not create the run: the database refused five new run ids")


def _pipeline_of_run(
    conn: Connection,
    spec: PipelineSpec,
    runner: str,
    now: datetime,
    project_id: int,
    version: int | None,
) -> tuple[int, str]:
    """(pipeline id, its creator) for a new run."""
    if version is None:
        return store.record_pipeline(
            conn, spec=spec, creator=runner, now=now, project_id=project_id
        )
    row = pipeline_store.get_pipeline(conn, project_id=project_id, name=spec.name)
    if row is None:
        raise NotFoundError(f"pipeline {spec.name} is not saved in this project")
    return int(row["id"]), str(row["creator"])


def _held_by(holder: Identity | None, now: datetime, seconds: float) -> dict[str, Any]:
    """A run that its creator drives itself (`cube run`) is born leased to it, so an engine
    service never claims it in between."""
    if holder is None:
        return {}
    return {
        "lease_owner": holder.instance,
        "lease_expires_at": now + timedelta(seconds=seconds),
        "engine_pid": holder.pid,
        "engine_host": holder.host,
        "engine_start": holder.process_start,
    }


def get_run(db: Database, run_id: str) -> dict[str, Any]:
    with db.read() as conn:
        return dict(store.get_run(conn, run_id=run_id))


def engine_alive(run: dict[str, Any]) -> bool:
    """Is the process recorded as driving this run still running (on this host)?"""
    if run.get("engine_pid") is None or run.get("engine_host") != socket.gethostname():
        return False
    return is_alive(run["engine_pid"], run["engine_start"])


def load_controller(
    db: Database,
    launcher: Launcher,
    run_id: str,
    *,
    kill_grace: float,
    artifacts: ArtifactStore | None = None,
    secrets: dict[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    lease_seconds: float = 15.0,
    project_secrets: ProjectSecrets | None = None,
    gate: AdmissionGate | None = None,
) -> RunController:
    """The run's controller. Secrets: the values given, else those this process can find
    (inline ones, from_env ones set in ``environ``), merged with those kept when the run
    began (a scheduled run is created by the scheduler and driven by `cube resume`)."""
    with db.begin() as conn:
        run = dict(store.get_run(conn, run_id=run_id))
        rows = RunRows(
            run,
            store.load_task_runs(conn, run_id=run["id"]),
            store.load_attempts(conn, run_id=run["id"]),
            store.load_artifacts(conn, run_id=run["id"]),
        )
        queues = queue_store.queue_names(conn, project_ids=[run["project_id"]])
    options = _Options(
        db,
        launcher,
        kill_grace,
        artifacts,
        secrets,
        environ,
        lease_seconds,
        project_secrets,
        gate,
        queues,
    )
    return _controller(rows, options)


def load_controllers(
    db: Database,
    launcher: Launcher,
    run_ids: list[str],
    *,
    kill_grace: float,
    artifacts: ArtifactStore | None = None,
    environ: Mapping[str, str] | None = None,
    lease_seconds: float = 15.0,
    project_secrets: ProjectSecrets | None = None,
    gate: AdmissionGate | None = None,
) -> dict[str, RunController | CubeError]:
    """Controllers of many runs read with one query per table (what the engine service
    claims in a batch); a run that cannot be loaded maps to its error, the others load."""
    with db.begin() as conn:
        batch = store.load_runs_many(conn, run_ids=run_ids)
        queues = queue_store.queue_names(
            conn, project_ids=[r["project_id"] for r in batch.runs.values()]
        )
    options = _Options(
        db,
        launcher,
        kill_grace,
        artifacts,
        None,
        environ,
        lease_seconds,
        project_secrets,
        gate,
        queues,
    )
    loaded: dict[str, RunController | CubeError] = {}
    for run_id in run_ids:
        if run_id not in batch.runs:
            loaded[run_id] = StateError(f"run {run_id} no longer exists")
            continue
        rows = RunRows(
            dict(batch.runs[run_id]),
            batch.tasks.get(run_id, []),
            batch.attempts.get(run_id, []),
            batch.artifacts.get(run_id, []),
        )
        try:
            loaded[run_id] = _controller(rows, options)
        except CubeError as err:
            loaded[run_id] = err
    return loaded


@dataclass(frozen=True)
class RunRows:
    run: dict[str, Any]
    tasks: list[Any]
    attempts: list[Any]  # ordered by task, then number
    artifacts: list[Any]


# (project id, pipeline) -> the values of the project secrets the pipeline refers to: how an
# engine finds them for a run nobody kept them for (a scheduled run).
ProjectSecrets = Callable[[int, PipelineSpec], dict[str, str]]


@dataclass(frozen=True)
class _Options:
    db: Database
    launcher: Launcher
    kill_grace: float
    artifacts: ArtifactStore | None
    secrets: dict[str, str] | None
    environ: Mapping[str, str] | None
    lease_seconds: float
    project_secrets: ProjectSecrets | None = None
    gate: AdmissionGate | None = None
    queues: dict[int, str] = field(default_factory=dict)  # project id -> its queue


def _controller(rows: RunRows, options: _Options) -> RunController:
    run = rows.run
    spec, templates = parse_snapshot(run["spec"])
    secrets = options.secrets
    if secrets is None and options.environ is not None:
        found = None
        if options.project_secrets is not None and any(
            s.from_secret for s in spec.secrets.values()
        ):
            found = options.project_secrets(run["project_id"], spec)
        secrets = available_secrets(spec, options.environ, found)
    latest: dict[str, dict[str, Any]] = {}
    for row in rows.attempts:
        latest[row["task_name"]] = dict(row)  # ordered by number: the last one wins
    nodes = _build_nodes(spec, rows.tasks, latest)
    _attach_artifacts(nodes, rows.artifacts)
    base = run_variables(
        run_id=run["id"],
        pipeline_id=run["pipeline_id"],
        pipeline_name=run["pipeline_name"],
        creator=run["creator"],
        runner=run["runner"],
        cluster_name=run["cluster_name"],
        execution_date=_execution_date(run["execution_date"], spec),
        params=json.loads(run["params"]),
        pipeline_dir=spec.pipeline_dir,
    )
    return RunController(
        db=options.db,
        launcher=options.launcher,
        run=run,
        spec=spec,
        nodes=nodes,
        base_context=base,
        kill_grace=options.kill_grace,
        templates=templates,
        artifacts=options.artifacts,
        secrets=secrets,
        lease_seconds=options.lease_seconds,
        gate=options.gate,
        queue=options.queues.get(run["project_id"], queue_store.DEFAULT_QUEUE),
    )


def parse_snapshot(text: str) -> tuple[PipelineSpec, dict[str, TemplateSpec]]:
    """A run's pipeline and pinned templates (checked when stored, so not checked again)."""
    try:
        return _parse_snapshot(text)
    except CubeError:
        raise
    except Exception as err:  # a damaged row: say so, never a traceback
        raise StateError(
            f"its pipeline snapshot cannot be read ({type(err).__name__}: {err})"
        ) from None


def _parse_snapshot(text: str) -> tuple[PipelineSpec, dict[str, TemplateSpec]]:
    data = json.loads(text)
    if "pipeline" not in data:  # runs created before templates were pinned
        return pipeline_from_data(data, check=False), {}
    templates = {k: TemplateSpec.model_validate(v) for k, v in data["templates"].items()}
    return pipeline_from_data(data["pipeline"], check=False), templates


def _attach_artifacts(nodes: list[TaskNode], rows: list[Any]) -> None:
    """Each succeeded task's artifacts: those of the attempt that succeeded (after a retry,
    the tasks that were not run again keep theirs)."""
    by_name = {node.name: node for node in nodes}
    for row in rows:
        node = by_name.get(row["task_name"])
        if node is None or node.status is not TaskState.SUCCEEDED:
            continue
        number = node.attempt.number if node.attempt is not None else 0  # 0: taken over
        if number != row["attempt"]:  # from another run (debug runs)
            continue
        node.artifacts = node.artifacts or {}
        node.artifacts[row["name"]] = StoredArtifact(
            row["uri"], row["kind"], row["size"], row["sha256"]
        )


def _execution_date(value: datetime, spec: PipelineSpec) -> str:
    zone = ZoneInfo(spec.schedule.timezone) if spec.schedule else None
    local = value.astimezone(zone) if zone else value
    return local.strftime(EXECUTION_DATE_FORMAT)


def _build_nodes(
    spec: PipelineSpec, rows: list[Any], latest: dict[str, dict[str, Any]]
) -> list[TaskNode]:
    by_row = {row["name"]: row for row in rows}
    nodes: list[TaskNode] = []
    for i, task in enumerate(spec.all_tasks()):
        row = by_row[task.name]
        node = TaskNode(
            spec=task,
            position=i,
            is_exit=task is spec.on_exit,
            status=TaskState(row["status"]),
            attempts=row["attempts"],
            retry_base=row["retry_base"],
            exit_code=row["exit_code"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            next_try_at=row["next_try_at"],
            message=row["message"],
            outputs=store.loads(row["outputs"]),
        )
        if task.name in latest:
            node.attempt = _attempt(latest[task.name])
        nodes.append(node)
    by_name = {node.name: node for node in nodes}
    for node in nodes:
        for dep in dict.fromkeys(node.spec.depends):
            parent = by_name[dep]
            node.upstream.append(parent)
            parent.downstream.append(node)
    count_upstream(nodes)
    return nodes


def _attempt(row: dict[str, Any]) -> AttemptNode:
    return AttemptNode(
        number=row["number"],
        status=AttemptState(row["status"]),
        started_at=row["started_at"],
        exit_code=row["exit_code"],
        finished_at=row["finished_at"],
        deadline=row["deadline"],
        kill_reason=row["kill_reason"],
        kill_at=row["kill_at"],
        message=row["message"],
        outputs=store.loads(row["outputs"]),
    )


# -- retry and rerun: new attempts in the same run ----------------------------------------------
def check_can_restart(controller: RunController, run: dict[str, Any], verb: str) -> None:
    if controller.status not in RUN_TERMINAL:
        if engine_alive(run):
            raise StateError(
                f"run {controller.run_id} is still running (process {run['engine_pid']}); "
                f"wait for it, or `cube stop {controller.run_id}` first"
            )
        raise StateError(
            f"run {controller.run_id} did not finish: its engine died. "
            f"`cube resume {controller.run_id}` adopts and finishes it"
        )


def retry_tasks(controller: RunController) -> list[str]:
    """The tasks `cube retry` runs again: failed, upstream_failed and stopped ones."""
    names = [n.name for n in controller.nodes if n.status in TASK_RETRYABLE and not n.is_exit]
    if not names:
        raise StateError(
            f"run {controller.run_id} {controller.status}: nothing to retry "
            f"(`cube rerun {controller.run_id} --from TASK` runs tasks again)"
        )
    return names


def rerun_tasks(controller: RunController, task: str) -> list[str]:
    """TASK and everything downstream of it."""
    if task not in controller.by_name or controller.by_name[task].is_exit:
        hint = suggest(task, [n.name for n in controller.nodes if not n.is_exit])
        raise NotFoundError(f"run {controller.run_id} has no task '{task}'{hint}")
    seen = {task}
    todo = [controller.by_name[task]]
    while todo:
        for child in todo.pop().downstream:
            if child.name not in seen:
                seen.add(child.name)
                todo.append(child)
    return [n.name for n in controller.nodes if n.name in seen]


def summary(db: Database, run_id: str) -> dict[str, Any]:
    """The run as the ``--json`` contract prints it."""
    with db.read() as conn:
        run = store.get_run(conn, run_id=run_id)
        rows = store.load_task_runs(conn, run_id=run["id"])
    return summary_of(run, rows)


def summary_of(run: Mapping[Any, Any], rows: Sequence[Mapping[Any, Any]]) -> dict[str, Any]:
    """``summary`` from the run's row and its task rows, read by the caller."""
    return {
        "run_id": run["id"],
        "status": run["status"],
        "tasks": {
            row["name"]: {
                "status": row["status"],
                "attempts": row["attempts"],
                "exit_code": row["exit_code"],
                "started_at": _iso(row["started_at"]),
                "finished_at": _iso(row["finished_at"]),
            }
            for row in rows
        },
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def available_secrets(
    spec: PipelineSpec,
    environ: Mapping[str, str],
    project_secrets: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The secret values this process can provide (no error for those it cannot).
    ``project_secrets``: the decrypted secrets of the run's project, by name (the store and
    the key are the caller's: this module never reads them)."""
    project_secrets = project_secrets or {}
    values: dict[str, str] = {}
    for name, secret in spec.secrets.items():
        if secret.value is not None:
            values[name] = secret.value
        elif secret.from_env is not None and secret.from_env in environ:
            values[name] = environ[secret.from_env]
        elif secret.from_secret is not None and secret.from_secret in project_secrets:
            values[name] = project_secrets[secret.from_secret]
    return values


def resolve_secrets(
    spec: PipelineSpec,
    environ: Mapping[str, str],
    project_secrets: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The values of the pipeline's secret env vars, read when the run is created."""
    values = available_secrets(spec, environ, project_secrets)
    missing: list[FieldError] = []
    for name, secret in spec.secrets.items():
        if name in values:
            continue
        if secret.from_secret is not None:
            message = (
                f"project secret {secret.from_secret} is not set in the run's project: "
                f"set it with `cube secret set {secret.from_secret} --value-stdin` "
                "before the run"
            )
        else:
            message = (
                f"secret from_env {secret.from_env} is not set in this environment: "
                f"export {secret.from_env}=... before the run"
            )
        missing.append(FieldError(f"env.{name}", message))
    if missing:
        raise SpecError(missing)
    return values
