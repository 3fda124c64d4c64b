"""The default artifact store: a folder, ``$CUBE_HOME/artifacts/<run>/<task>/<attempt>/``.

Files are hard-linked where the file system allows (no copy, however large), else copied.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cubestudio.artifacts.paths import check_output, walk_files
from cubestudio.engine.artifacts import ArtifactError, StoredArtifact


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(
        self, *, run_id: str, task: str, attempt: int, name: str, source: Path, kind: str
    ) -> StoredArtifact:
        size = check_output(source, kind, name)
        dest = self.root / run_id / task / str(attempt) / name
        if dest.exists():  # kept already, before an engine restart
            return StoredArtifact(dest.as_uri(), kind, size)
        partial = dest.with_name(f".{name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        if kind == "file":
            _link_or_copy(source, partial)
        else:
            for file in walk_files(source, name):
                target = partial / file.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(file, target)
            partial.mkdir(exist_ok=True)  # an empty folder is an artifact too
        os.replace(partial, dest)  # whole, or not at all
        return StoredArtifact(dest.as_uri(), kind, size)

    def fetch(self, artifact: StoredArtifact, dest: Path, *, copy: bool = False) -> None:
        source = self._path(artifact.uri)
        if not source.exists():
            raise ArtifactError(f"the artifact store has lost {artifact.uri}")
        place = shutil.copy2 if copy else _link_or_copy
        if artifact.kind == "file":
            place(source, dest)
            return
        shutil.copytree(source, dest, copy_function=place, symlinks=False)

    def _path(self, uri: str) -> Path:
        if not uri.startswith("file://"):
            raise ArtifactError(f"{uri} is not in the local artifact store")
        # URIs come from the store's own records (or a path the user gave `cube debug`).
        return Path(uri[len("file://") :])
