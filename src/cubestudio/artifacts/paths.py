"""Checks on what a task wrote before it is kept: the right kind, and no symlinks (a symlink
could point anywhere on the machine and smuggle it into the store)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from cubestudio.engine.artifacts import ArtifactError


def check_output(path: Path, kind: str, name: str) -> int:
    """The size of a file or folder output; ArtifactError when it is missing, of the other
    kind, or holds a symlink."""
    if path.is_symlink():
        raise ArtifactError(f"output '{name}' is a symlink: write the {kind} itself")
    if kind == "file":
        if not path.is_file():
            found = "a folder" if path.is_dir() else "nothing"
            raise ArtifactError(
                f"declared output '{name}' (file) was not written: write it to "
                f"$CUBE_OUTPUTS/{name} (found {found})"
            )
        return path.stat().st_size
    if not path.is_dir():
        found = "a file" if path.exists() else "nothing"
        raise ArtifactError(
            f"declared output '{name}' (folder) was not written: create the folder "
            f"$CUBE_OUTPUTS/{name} (found {found})"
        )
    return sum(f.stat().st_size for f in walk_files(path, name))


def walk_files(root: Path, name: str) -> Iterator[Path]:
    """Every regular file under ``root``; ArtifactError on a symlink or a special file."""
    for folder, dirs, files in os.walk(root):
        for entry in [*dirs, *files]:
            full = Path(folder, entry)
            if full.is_symlink():
                inside = full.relative_to(root)
                raise ArtifactError(
                    f"output '{name}' holds a symlink, {inside}: artifacts are copied, "
                    "so write the file itself"
                )
        for entry in files:
            full = Path(folder, entry)
            if not full.is_file():
                raise ArtifactError(
                    f"output '{name}' holds {full.relative_to(root)}, which is not a regular file"
                )
            yield full


def safe_relative(key: str) -> PurePosixPath:
    """A relative path inside an artifact that may not climb out of it (from a store listing,
    which a third party may have written)."""
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ArtifactError(f"refused artifact path {key!r}: it would leave the artifact")
    return path
