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
    check_kind(path, kind, name)
    if kind == "file":
        return path.stat().st_size
    return sum(f.stat().st_size for f in walk_files(path, name))


def check_kind(path: Path, kind: str, name: str) -> None:
    """ArtifactError when the output is missing, a symlink, or of the other kind (what a
    folder holds is checked as it is walked)."""
    if path.is_symlink():
        raise ArtifactError(f"output '{name}' is a symlink: write the {kind} itself")
    if kind == "file":
        if not path.is_file():
            found = "a folder" if path.is_dir() else "nothing"
            raise ArtifactError(
                f"declared output '{name}' (file) was not written: write it to "
                f"$CUBE_OUTPUTS/{name} (found {found})"
            )
        return
    if not path.is_dir():
        found = "a file" if path.exists() else "nothing"
        raise ArtifactError(
            f"declared output '{name}' (folder) was not written: create the folder "
            f"$CUBE_OUTPUTS/{name} (found {found})"
        )


def walk_files(root: Path, name: str) -> Iterator[Path]:
    """Every regular file under ``root``; ArtifactError on a symlink or a special file."""
    for is_folder, _, full in walk_tree(root, name):
        if not is_folder:
            yield Path(full)


def walk_tree(root: Path, name: str | None) -> Iterator[tuple[bool, str, str]]:
    """``(is_folder, relative POSIX path, full path)`` of everything under ``root``, each
    folder before what it holds, never through a symlink. With the output's ``name``, a
    symlink or a special file is an ArtifactError; without (a folder the store kept), they
    are passed over: the folder's digest tells whether they replaced a file.

    One ``scandir`` per folder and no ``stat`` per file (the entry's type comes with it):
    a folder of 10,000 small files is walked in milliseconds."""
    stack = [("", os.fspath(root))]
    while stack:
        relative, folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                inside = relative + entry.name
                if entry.is_dir(follow_symlinks=False):
                    yield True, inside, entry.path
                    stack.append((inside + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    yield False, inside, entry.path
                elif name is not None:
                    raise _odd_entry(entry, inside, name)


def _odd_entry(entry: os.DirEntry[str], inside: str, name: str) -> ArtifactError:
    if entry.is_symlink():
        return ArtifactError(
            f"output '{name}' holds a symlink, {inside}: artifacts are copied, "
            "so write the file itself"
        )
    return ArtifactError(f"output '{name}' holds {inside}, which is not a regular file")


def safe_relative(key: str) -> PurePosixPath:
    """A relative path inside an artifact that may not climb out of it (from a store listing,
    which a third party may have written)."""
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ArtifactError(f"refused artifact path {key!r}: it would leave the artifact")
    return path
