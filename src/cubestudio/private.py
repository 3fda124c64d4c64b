"""Folders and files only their owner can reach: ``$CUBE_HOME`` and what the platform keeps in it.

Task logs, value outputs and the SQLite database can hold a run's secrets, so the CLI sets a
0o077 umask at start (every file it or its tasks create is 0600, every folder 0700) and the
library, which cannot rely on the caller's umask, makes the folders and the database it
creates private here, and tightens a ``$CUBE_HOME`` left open by an older version: a 0700
home keeps everything below it out of other users' reach, whatever the modes inside.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cubestudio.errors import CubeError

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path, *, label: str, fix: str, tighten: bool = True) -> None:
    """Create ``path`` (and missing parents) as 0700, or tighten it to 0700 when it exists
    and is ours (unless ``tighten`` is False: a folder cube does not own, such as the one a
    database URL names). ``label`` names the path as the user chose it (``CUBE_HOME=/x``) and
    ``fix`` says what to do, for the one-line error when it cannot be a folder."""
    try:
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except FileExistsError:  # exist_ok covers folders only: something else is there
        raise CubeError(f"{label} is a file, not a folder: {fix}") from None
    except NotADirectoryError:
        raise CubeError(f"{label} is inside a file, not a folder: {fix}") from None
    except OSError as err:
        raise CubeError(f"cannot create {label}: {err.strerror}: {fix}") from None
    if tighten:
        _tighten(path, FOLDER_MODE)


def private_file(path: Path, *, fix: str) -> None:
    """Create ``path`` empty as 0600 when missing (before anyone else creates it with the
    process's umask), or tighten it to 0600 when it is ours and more open. ``fix``: what to
    do when it cannot be a file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
        return
    except FileExistsError:
        pass
    except OSError as err:
        raise CubeError(f"cannot create {path}: {err.strerror}: {fix}") from None
    if path.is_dir():
        raise CubeError(f"{path} is a folder, not a file: {fix}")
    _tighten(path, FILE_MODE)


def tighten_if_present(path: Path, mode: int = FILE_MODE) -> None:
    """Tighten a file that may or may not exist (SQLite's -wal and -shm files)."""
    if path.exists():
        _tighten(path, mode)


def _tighten(path: Path, mode: int) -> None:
    """chmod to ``mode`` when group or others have any access. Only the owner may chmod: a
    folder someone else owns (a shared mount) is left as it is."""
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.geteuid():
        path.chmod((stat.S_IMODE(info.st_mode) & ~0o077) | mode)
