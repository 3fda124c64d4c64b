"""What the engine needs from an artifact store (F10): keep a task's file or folder output,
and place it where a downstream task reads it. Implementations live in
``cubestudio.artifacts`` (a local folder by default, S3-compatible storage as an extra)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cubestudio.errors import CubeError


class ArtifactError(CubeError):
    """An artifact that cannot be kept or placed: missing, of the wrong kind, a symlink."""


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    uri: str
    kind: str  # "file" or "folder"
    size: int  # bytes; a folder's files summed


class ArtifactStore(Protocol):
    def put(
        self, *, run_id: str, task: str, attempt: int, name: str, source: Path, kind: str
    ) -> StoredArtifact:
        """Keep ``source`` (checked to be a ``kind`` without symlinks); idempotent."""
        ...

    def fetch(self, artifact: StoredArtifact, dest: Path, *, copy: bool = False) -> None:
        """Place the artifact at ``dest`` (which does not exist yet). Without ``copy`` a
        store may share the data (hard links) with what it keeps: for inputs of tasks."""
        ...
