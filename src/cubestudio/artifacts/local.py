"""The default artifact store: a folder, ``$CUBE_HOME/artifacts/<run>/<task>/<attempt>/``.

What it keeps is a copy (a reflink where the file system can), private to the user (files
0600, folders 0700), with its sha256 recorded; what it hands out is a copy again, checked
against that digest. No task ever holds a name of a stored file.
"""

from __future__ import annotations

from pathlib import Path

from cubestudio.artifacts.copying import (
    PRIVATE,
    SHARED,
    copy_file,
    copy_tree,
    hash_file,
    hash_tree,
    private_folders,
    staged,
)
from cubestudio.artifacts.paths import check_kind, walk_tree
from cubestudio.engine.artifacts import ArtifactError, StoredArtifact, check_unchanged


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(
        self, *, run_id: str, task: str, attempt: int, name: str, source: Path, kind: str
    ) -> StoredArtifact:
        check_kind(source, kind, name)
        folder = self.root / run_id / task / str(attempt)
        dest = folder / name
        try:
            if dest.exists():  # kept already, before an engine restart
                size, sha256 = hash_file(dest) if kind == "file" else hash_tree(dest)
            else:
                private_folders(folder)
                with staged(dest) as partial:
                    size, sha256 = self._copy_in(source, partial, kind, name)
        except OSError as err:
            raise ArtifactError(f"cannot keep output '{name}': {err}") from None
        return StoredArtifact(dest.as_uri(), kind, size, sha256)

    def fetch(self, artifact: StoredArtifact, dest: Path, *, label: str) -> None:
        source = self._path(artifact.uri)
        if not source.exists() and not source.is_symlink():
            raise ArtifactError(f"the artifact store has lost {artifact.uri}")
        if source.is_symlink() or source.is_dir() != (artifact.kind == "folder"):
            found = "a symlink" if source.is_symlink() else "of another kind"
            raise ArtifactError(f"artifact {label} was changed after it was stored: it is {found}")
        try:
            with staged(dest) as partial:
                if artifact.kind == "file":
                    size, sha256 = copy_file(source, partial, modes=SHARED)
                else:
                    entries = walk_tree(source, None)
                    size, sha256 = copy_tree(entries, partial, modes=SHARED, folder_mode=0o777)
                check_unchanged(artifact, size=size, sha256=sha256, label=label)
        except OSError as err:
            raise ArtifactError(f"cannot place artifact {label}: {err}") from None

    @staticmethod
    def _copy_in(source: Path, partial: Path, kind: str, name: str) -> tuple[int, str]:
        if kind == "file":
            return copy_file(source, partial, modes=PRIVATE)
        entries = walk_tree(source, name)
        return copy_tree(entries, partial, modes=PRIVATE, folder_mode=0o700)

    def _path(self, uri: str) -> Path:
        if not uri.startswith("file://"):
            raise ArtifactError(f"{uri} is not in the local artifact store")
        # URIs come from the store's own records (or a path the user gave `cube debug`).
        return Path(uri[len("file://") :])
