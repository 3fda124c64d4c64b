"""What the engine needs from an artifact store (F10): keep a task's file or folder output,
and place it where a downstream task reads it. Implementations live in
``cubestudio.artifacts`` (a local folder by default, S3-compatible storage as an extra).

Invariant: a stored artifact never changes. Stores copy on the way in and on the way out (no
shared data with a task, so a task running as root cannot rewrite what another task reads),
record a sha256 digest of what they kept, and check it on every hand-out.
"""

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
    # Hex sha256 of a file's bytes, or of a folder's sorted (path, file digest) list; None for
    # artifacts stored before digests were recorded (their size is still checked).
    sha256: str | None = None


class ArtifactStore(Protocol):
    def put(
        self, *, run_id: str, task: str, attempt: int, name: str, source: Path, kind: str
    ) -> StoredArtifact:
        """Keep a copy of ``source`` (checked to be a ``kind`` without symlinks), private to
        the store, with its size and digest; idempotent."""
        ...

    def fetch(self, artifact: StoredArtifact, dest: Path, *, label: str) -> None:
        """Place a copy of the artifact at ``dest`` (which does not exist yet) after checking
        it is what was stored; ArtifactError naming ``label`` (``task.name``) when it is not,
        and then nothing is left at ``dest``."""
        ...


def check_unchanged(artifact: StoredArtifact, *, size: int, sha256: str, label: str) -> None:
    """Refuse a copy whose size or digest differs from what was recorded when it was stored."""
    if artifact.sha256 is not None and artifact.sha256 != sha256:
        found = f"expected sha256 {artifact.sha256}, found {sha256}"
    elif artifact.size != size:
        found = f"expected {artifact.size} bytes, found {size}"
    else:
        return
    raise ArtifactError(
        f"artifact {label} was changed after it was stored: {found}; "
        f"run the task that made it again to store a new copy"
    )
