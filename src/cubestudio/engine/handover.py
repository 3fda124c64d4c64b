"""Handing artifacts from task to task (F10): keep what an attempt produced, place what the
next one needs. Called by the controller; the stores themselves are in cubestudio.artifacts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cubestudio.engine.artifacts import ArtifactError, ArtifactStore, StoredArtifact
from cubestudio.engine.launcher import AttemptKey, Launcher
from cubestudio.engine.nodes import TaskNode
from cubestudio.engine.states import TaskState


def keep_artifacts(
    store: ArtifactStore | None, launcher: Launcher, node: TaskNode, key: AttemptKey
) -> dict[str, StoredArtifact]:
    """Put the attempt's file and folder outputs in the store; ArtifactError names the first
    one that cannot be kept."""
    kept: dict[str, StoredArtifact] = {}
    for output in node.spec.artifact_outputs:
        if store is None:
            raise ArtifactError("this engine has no artifact store for file and folder outputs")
        kept[output.name] = store.put(
            run_id=key.run_id,
            task=node.name,
            attempt=key.number,
            name=output.name,
            source=launcher.output_path(key, output.name),
            kind=output.type,
        )
    return kept


def artifact_rows(
    key: AttemptKey, kept: Mapping[str, StoredArtifact], now: datetime
) -> list[dict[str, Any]]:
    """The store rows recording what an attempt produced."""
    return [
        {
            "run_id": key.run_id,
            "task_name": key.task,
            "attempt": key.number,
            "name": name,
            "kind": stored.kind,
            "size": stored.size,
            "sha256": stored.sha256,
            "uri": stored.uri,
            "created_at": now,
        }
        for name, stored in kept.items()
    ]


def place_inputs(
    store: ArtifactStore | None,
    launcher: Launcher,
    by_name: Mapping[str, TaskNode],
    key: AttemptKey,
) -> str:
    """Place a checked copy of each of the task's inputs; a message when one cannot be
    placed (missing, or changed since it was stored)."""
    node = by_name[key.task]
    for given in node.spec.inputs:
        producer = by_name[given.task]
        artifact = (producer.artifacts or {}).get(given.output)
        if artifact is None or store is None:
            if producer.status is TaskState.SUCCEEDED:
                tried = f"attempt {producer.attempts} succeeded without it"
            else:
                tried = f"it is {producer.status}"
            return (
                f"input '{given.as_name}' was not produced: task '{given.task}' has no "
                f"artifact '{given.output}' ({tried})"
            )
        try:
            store.fetch(artifact, launcher.input_path(key, given.as_name), label=given.source)
        except (ArtifactError, OSError) as err:
            return f"input '{given.as_name}' from {given.source}: {err}"
    return ""
