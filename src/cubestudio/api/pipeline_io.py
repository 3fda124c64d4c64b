"""Pipelines as the API receives them (data or YAML text), checked like `cube validate`, and
the trigger of a run on the engine service. A saved pipeline may take secrets only from the
project's secrets: an inline value would be stored and shown with the pipeline, and
``from_env`` would read the server's own environment."""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from typing import Any

import yaml

from cubestudio.api.deps import Project, now
from cubestudio.auth.project_secrets import for_spec
from cubestudio.auth.secretbox import SecretBox
from cubestudio.drivers.local import save_run_secrets
from cubestudio.engine.debug import create_debug_run
from cubestudio.engine.lease import Identity
from cubestudio.engine.lifecycle import resolve_secrets
from cubestudio.engine.submit import HOLD_SECONDS, submit_run, wake_engines
from cubestudio.errors import FieldError, SpecError
from cubestudio.settings import Settings
from cubestudio.spec.loader import load_pipeline_text, pipeline_from_data
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.params import resolve_params
from cubestudio.spec.template import TemplateCatalog
from cubestudio.spec.validate import resolve_templates
from cubestudio.store import leases as lease_store
from cubestudio.store.db import Database
from cubestudio.store.templates import StoreCatalog


def catalog_of(db: Database, project: Project) -> TemplateCatalog:
    """The templates a pipeline of the project may use."""
    return StoreCatalog(db.begin, project_id=project.id)


def load_body(
    db: Database,
    project: Project,
    data: dict[str, Any] | None,
    text: str | None,
    *,
    pipeline_dir: str | None = None,
) -> tuple[PipelineSpec, dict[str, Any]]:
    """The pipeline checked as `cube validate` checks a file (SpecError: 422 with every
    problem), and its data as stored: the canonical form, which loads back the same.
    ``pipeline_dir``: the folder of the file it was first saved from (`cube pipeline save`),
    kept from version to version; never part of what a user sends or is shown."""
    catalog = catalog_of(db, project)
    if text is not None:
        spec = load_pipeline_text(text, source="yaml", catalog=catalog, pipeline_dir=pipeline_dir)
    else:
        spec = pipeline_from_data(data, catalog=catalog, pipeline_dir=pipeline_dir)
    _check_server_secrets(spec)
    return spec, spec.to_data()


def stored_spec(db: Database, project: Project, data: dict[str, Any]) -> PipelineSpec:
    """A saved version's spec, checked again (templates may have changed since)."""
    shown, folder = split_dir(data)
    spec, _data = load_body(db, project, shown, None, pipeline_dir=folder)
    return spec


def split_dir(data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(the data a user sees and edits, the pipeline's folder if it has one)."""
    shown = {k: v for k, v in data.items() if k != "pipeline_dir"}
    return shown, data.get("pipeline_dir")


def _check_server_secrets(spec: PipelineSpec) -> None:
    problems = []
    for name, secret in spec.secrets.items():
        if secret.value is not None:
            problems.append(
                FieldError(
                    f"env.{name}",
                    "a secret's value does not belong in a saved pipeline (it would be stored "
                    "and shown with it): make it a project secret and write "
                    "{secret: true, from_secret: NAME}",
                )
            )
        elif secret.from_env is not None:
            problems.append(
                FieldError(
                    f"env.{name}",
                    "from_env reads the environment of the process that starts the run, here "
                    "the server's: use a project secret, {secret: true, from_secret: NAME}",
                )
            )
    if problems:
        raise SpecError(problems)


def spec_yaml(data: dict[str, Any]) -> str:
    """The pipeline as YAML text, in the order of its fields (round-trips with `data`)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@lru_cache(maxsize=1)
def server_identity() -> Identity:
    """Who holds a run for the moment between its creation and its hand-over."""
    return Identity(engine_id=f"api-{socket.gethostname()}-{os.getpid()}")


def trigger_run(
    db: Database,
    settings: Settings,
    project: Project,
    data: dict[str, Any],
    params: dict[str, Any],
    *,
    version: int,
    box: SecretBox,
) -> str:
    """A run of a saved version for the engine service; its id."""
    catalog = catalog_of(db, project)
    spec = stored_spec(db, project, data)
    resolved = resolve_params(spec, params)
    templates = resolve_templates(spec, catalog)
    secrets = resolve_secrets(spec, {}, for_spec(db, box=box, project_id=project.id, spec=spec))
    run_id = submit_run(
        db,
        spec=spec,
        params=resolved,
        templates=templates,
        secrets=secrets,
        save_secrets=lambda rid, values: save_run_secrets(settings.runs_dir, rid, values),
        now=now(),
        me=server_identity(),
        runner=project.user.name,
        project_id=project.id,
        pipeline_version=version,
    )
    wake_engines(db, settings.home_dir)
    return run_id


def debug_task(
    db: Database,
    settings: Settings,
    project: Project,
    data: dict[str, Any],
    task: str,
    params: dict[str, Any],
    *,
    box: SecretBox,
) -> str:
    """A debug run of one task of a saved pipeline for the engine service (as `cube debug`:
    the upstream outputs it needs come from the pipeline's last successful run in the
    project; the run stays out of the pipeline's history); its id."""
    catalog = catalog_of(db, project)
    spec = stored_spec(db, project, data)
    resolved = resolve_params(spec, params)
    secrets = resolve_secrets(spec, {}, for_spec(db, box=box, project_id=project.id, spec=spec))
    me = server_identity()
    at = now()
    run_id = create_debug_run(
        db,
        spec=spec,
        task=task,
        params=resolved,
        templates=resolve_templates(spec, catalog),
        inputs={},
        now=at,
        project_id=project.id,
        holder=me,
        lease_seconds=HOLD_SECONDS,
        runner=project.user.name,
    )
    if secrets:
        save_run_secrets(settings.runs_dir, run_id, secrets)
    with db.begin() as conn:
        lease_store.release(conn, owner=me.instance, run_ids=[run_id], now=at, reason="submitted")
    wake_engines(db, settings.home_dir)
    return run_id
