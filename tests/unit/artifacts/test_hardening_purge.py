"""Deleting a run's artifacts (`cube runs delete`): the run's own folder or prefix goes, and
nothing of any other run, on the local store and on S3 (a real local server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cubestudio.artifacts.purge import delete_run_artifacts
from cubestudio.engine.artifacts import ArtifactError, ArtifactStore, StoredArtifact


def _keep(store: ArtifactStore, tmp_path: Path, run_id: str) -> tuple[StoredArtifact, ...]:
    source = tmp_path / f"{run_id}-out"
    (source / "plots").mkdir(parents=True)
    (source / "model").write_text(f"weights of {run_id}")
    (source / "plots" / "a.png").write_text("png")
    kept = []
    for task in ("train", "train-2"):
        kept.append(
            store.put(
                run_id=run_id,
                task=task,
                attempt=1,
                name="model",
                source=source / "model",
                kind="file",
            )
        )
        kept.append(
            store.put(
                run_id=run_id,
                task=task,
                attempt=1,
                name="plots",
                source=source / "plots",
                kind="folder",
            )
        )
    return tuple(kept)


def test_only_the_runs_own_artifacts_are_deleted(store: ArtifactStore, tmp_path: Path) -> None:
    gone = _keep(store, tmp_path, "r1")
    kept = _keep(store, tmp_path, "r10")  # a longer id sharing the prefix "r1"
    delete_run_artifacts(store, "r1")
    for n, artifact in enumerate(gone):
        with pytest.raises(ArtifactError):
            store.fetch(artifact, tmp_path / f"gone-{n}", label="train.x")
    for n, artifact in enumerate(kept):
        store.fetch(artifact, tmp_path / f"kept-{n}", label="train.x")
    assert (tmp_path / "kept-0").read_text() == "weights of r10"
    delete_run_artifacts(store, "r1")  # nothing left to delete is no error


@pytest.mark.parametrize("run_id", ["", ".", "..", "a/../b"])
def test_an_id_that_is_no_run_id_is_refused(store: ArtifactStore, run_id: str) -> None:
    with pytest.raises(ArtifactError, match="not a run id"):
        delete_run_artifacts(store, run_id)
