"""Deleting what a run kept in the artifact store (`cube runs delete`).

Only the run's own folder (local) or prefix (S3) goes, as ``put`` laid them out
(``<root>/<run>/...``, ``<prefix>/<run>/...``). Artifact rows are not followed: a debug run's
rows point at another run's artifacts, or at a file the user gave `cube debug --input`, and
those must never be deleted with it.
"""

from __future__ import annotations

import shutil

from cubestudio.artifacts.local import LocalStore
from cubestudio.artifacts.s3 import S3Store
from cubestudio.engine.artifacts import ArtifactError, ArtifactStore

_S3_DELETE_BATCH = 1000  # the most keys one DeleteObjects call takes


def delete_run_artifacts(store: ArtifactStore, run_id: str) -> None:
    """Delete everything ``store`` keeps for ``run_id``; nothing kept is not an error."""
    if not run_id or "/" in run_id or run_id in (".", ".."):
        raise ArtifactError(f"refused to delete the artifacts of run {run_id!r}: not a run id")
    if isinstance(store, LocalStore):
        shutil.rmtree(store.root / run_id, ignore_errors=True)
    elif isinstance(store, S3Store):
        _delete_prefix(store, "/".join(p for p in (store.prefix, run_id) if p) + "/")
    else:
        raise ArtifactError(f"cannot delete artifacts from a {type(store).__name__}")


def _delete_prefix(store: S3Store, prefix: str) -> None:
    paginator = store.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=store.bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        for at in range(0, len(keys), _S3_DELETE_BATCH):
            batch = keys[at : at + _S3_DELETE_BATCH]
            store.client.delete_objects(Bucket=store.bucket, Delete={"Objects": batch})
