"""What a run's tasks produced (files and folders kept in the artifact store): a list, and a
download of each.

A download is fetched from the store into a private scratch folder and checked against the
sha256 recorded when it was stored, as `cube artifacts get` does; only then is it streamed
(a changed artifact is a 409 and nothing is sent). A file goes as it is; a folder as an
uncompressed tar stream (``application/x-tar``, every entry under ``<name>/``), built while
it is sent. Nothing from the request reaches the file system: the task, the name and the
attempt only select a stored row, whose uri the store resolves.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import RowMapping

from cubestudio.api.deps import DbDep, ProjectDep, run_of
from cubestudio.api.errors import ApiError
from cubestudio.api.routes.logs import task_row
from cubestudio.artifacts import open_store
from cubestudio.artifacts.copying import CHUNK, private_folders, remove
from cubestudio.artifacts.paths import walk_tree
from cubestudio.engine.artifacts import ArtifactError, StoredArtifact
from cubestudio.errors import NotFoundError
from cubestudio.settings import Settings
from cubestudio.store import runs as store
from cubestudio.store.db import Database

router = APIRouter(tags=["artifacts"])
RUN_PATH = "/projects/{project}/runs/{run_id}/artifacts"
SCRATCH = "tmp/downloads"  # under $CUBE_HOME: beside the local store, so copies can reflink
STALE = 3600.0  # seconds after which a scratch folder left by a dead download is removed
NUL = b"\0"


class ArtifactOut(BaseModel):
    task: str
    attempt: int
    name: str
    kind: str  # file / folder
    size: int  # bytes; a folder's files summed
    sha256: str | None  # a file's, or a folder's digest over its paths and files' digests
    created_at: datetime
    download: str  # the path of the download under /api/v1


@router.get(RUN_PATH, response_model=list[ArtifactOut])
def list_artifacts(
    project: ProjectDep,
    db: DbDep,
    run_id: str,
    task: Annotated[str | None, Query(max_length=63, description="Only this task's.")] = None,
) -> list[ArtifactOut]:
    """The run's artifacts, by task, attempt and name (any member, viewers included)."""
    run = run_of(db, project, run_id)
    if task is not None:
        task_row(db, run["id"], task)
    with db.read() as conn:
        rows = store.load_artifacts(conn, run_id=run["id"], task_name=task)
    base = f"/projects/{project.name}/runs/{run['id']}/artifacts"
    return [
        ArtifactOut(
            task=r["task_name"],
            attempt=r["attempt"],
            name=r["name"],
            kind=r["kind"],
            size=r["size"],
            sha256=r["sha256"],
            created_at=r["created_at"],
            download=f"{base}/{quote(r['task_name'])}/{quote(r['name'])}?attempt={r['attempt']}",
        )
        for r in rows
    ]


@router.get(
    RUN_PATH + "/{task}/{name}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A file's bytes, or a folder as an uncompressed tar stream.",
            "content": {"application/octet-stream": {}, "application/x-tar": {}},
        }
    },
)
def download_artifact(
    request: Request,
    project: ProjectDep,
    db: DbDep,
    run_id: str,
    task: str,
    name: str,
    attempt: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> StreamingResponse:
    """One artifact, checked against its recorded digest (the latest attempt's unless
    ``attempt``); a folder comes as a tar stream."""
    run = run_of(db, project, run_id)
    row = _artifact_row(db, run["id"], task_row(db, run["id"], task)["name"], name, attempt)
    settings: Settings = request.app.state.settings
    folder = _scratch(settings.home_dir / SCRATCH)
    copy = folder / "artifact"
    stored = StoredArtifact(row["uri"], row["kind"], row["size"], row["sha256"])
    try:
        open_store(settings).fetch(stored, copy, label=f"{row['task_name']}.{row['name']}")
    except ArtifactError as err:
        remove(folder)
        raise ApiError(409, "conflict", str(err)) from None
    except BaseException:
        remove(folder)
        raise
    if row["kind"] == "file":
        handle = open(copy, "rb")  # closed by the stream, once sent
        remove(folder)  # the open handle keeps the bytes until it is closed
        return StreamingResponse(
            _file_chunks(handle),
            media_type="application/octet-stream",
            headers={
                "Content-Length": str(row["size"]),
                **_attachment(row["name"]),
                **_digest(row),
            },
        )
    mtime = row["created_at"].timestamp()
    return StreamingResponse(
        _tar_chunks(copy, row["name"], mtime, cleanup=folder),
        media_type="application/x-tar",
        headers={**_attachment(f"{row['name']}.tar"), **_digest(row)},
    )


def _artifact_row(
    db: Database, run_id: str, task: str, name: str, attempt: int | None
) -> RowMapping:
    with db.read() as conn:
        rows = store.load_artifacts(conn, run_id=run_id, task_name=task)
    found = [r for r in rows if r["name"] == name]
    chosen = [r for r in found if attempt in (None, r["attempt"])]
    if chosen:
        return chosen[-1]  # ordered by attempt: the latest
    if found:
        attempts = ", ".join(str(r["attempt"]) for r in found)
        raise NotFoundError(
            f"task '{task}' kept '{name}' in attempt(s) {attempts}, not in attempt {attempt}"
        )
    have = ", ".join(sorted({r["name"] for r in rows})) or "none"
    raise NotFoundError(f"task '{task}' of run {run_id} has no artifact '{name}' (it has: {have})")


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename*=utf-8''{quote(filename)}"}


def _digest(row: RowMapping) -> dict[str, str]:
    """The recorded sha256 (a folder's is over its files, not over the tar)."""
    return {"X-Artifact-Sha256": row["sha256"]} if row["sha256"] else {}


def _scratch(root: Path) -> Path:
    """A new private folder for one download; those a dead download left are removed."""
    private_folders(root)
    cutoff = time.time() - STALE
    for entry in os.scandir(root):
        try:
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                remove(Path(entry.path))
        except FileNotFoundError:
            continue  # another download removed it
    return Path(tempfile.mkdtemp(prefix="download-", dir=root))


def _file_chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _tar_chunks(root: Path, name: str, mtime: float, *, cleanup: Path) -> Iterator[bytes]:
    """``root`` as a tar stream, one file chunk at a time (never a whole file in memory)."""
    try:
        yield _header(name, mtime, folder=True)
        for is_folder, relative, full in walk_tree(root, None):
            path = f"{name}/{relative}"
            if is_folder:
                yield _header(path, mtime, folder=True)
                continue
            with open(full, "rb") as handle:
                info = os.fstat(handle.fileno())
                yield _header(path, mtime, size=info.st_size, executable=bool(info.st_mode & 0o100))
                # The copy is this download's alone: its size cannot change while it is read.
                while chunk := handle.read(CHUNK):
                    yield chunk
            if pad := -info.st_size % tarfile.BLOCKSIZE:
                yield NUL * pad
        yield NUL * (2 * tarfile.BLOCKSIZE)  # the end-of-archive marker
    finally:
        remove(cleanup)


def _header(
    path: str, mtime: float, *, folder: bool = False, size: int = 0, executable: bool = False
) -> bytes:
    info = tarfile.TarInfo(path + "/" if folder else path)
    info.type = tarfile.DIRTYPE if folder else tarfile.REGTYPE
    info.mode = 0o755 if folder or executable else 0o644
    info.size = size
    info.mtime = int(mtime)
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
