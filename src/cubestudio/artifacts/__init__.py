"""Artifact stores: where task outputs (files, folders) are kept between tasks (F10).

``local`` keeps them under ``$CUBE_HOME/artifacts``; ``s3`` (the ``s3`` extra, boto3) in any
S3-compatible bucket. No privileged sidecar: the engine moves artifacts itself. Every path
comes from names validated as identifiers, and what a task wrote is checked before it is kept:
symlinks, and anything that would leave the store, are refused.
"""

from __future__ import annotations

from cubestudio.engine.artifacts import ArtifactStore
from cubestudio.settings import Settings


def open_store(settings: Settings) -> ArtifactStore:
    url = settings.artifact_store
    if url and url.startswith("s3://"):
        from cubestudio.artifacts.s3 import S3Store

        return S3Store.from_url(url, endpoint_url=settings.s3_endpoint_url)
    from cubestudio.artifacts.local import LocalStore

    return LocalStore(settings.home_dir / "artifacts")
