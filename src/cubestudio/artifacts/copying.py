"""Copying artifacts with their sha256, for the local store (and the digest rules S3 shares).

Never a hard link: a hard link shares the data, so whoever holds the other name (the task that
wrote the output, a task reading it as an input) could rewrite the stored artifact. A copy is
a reflink where the file system can (btrfs, XFS: instant and shares blocks copy-on-write),
else a kernel copy (``copy_file_range``), else a plain read/write loop.

The digest is taken from the copy, not from the source: it describes exactly the bytes the
store keeps (or hands out). Measured here (bench/artifacts.py, 1 GiB on ext4), a kernel copy
followed by one read of the fresh copy from the page cache costs little more than the hash
alone, and less than a read-hash-write loop in Python (1.5-2.0 s against 2.0-3.7 s); so only
small files (one read, one write) and the last fallback hash while they copy.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cubestudio.artifacts.paths import walk_tree

CHUNK = 1 << 20
FICLONE = 0x40049409  # _IOW(0x94, 9, int), linux/fs.h
# Errors meaning "this file system cannot do that kind of copy": fall back to the next kind.
_UNSUPPORTED = {
    errno.EXDEV,
    errno.ENOSYS,
    errno.EINVAL,
    errno.EOPNOTSUPP,
    errno.ENOTTY,
    errno.EPERM,
}
PRIVATE = (0o600, 0o700)  # (file, executable file) modes in the store; folders 0700
SHARED = (0o666, 0o777)  # handed out: the user's umask decides, as for any new file


def copy_file(source: str | Path, dest: str | Path, *, modes: tuple[int, int]) -> tuple[int, str]:
    """Copy the regular file ``source`` to the new file ``dest``; returns the copy's size and
    sha256. ``source`` is opened without following a symlink; an executable keeps its x bit."""
    src = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(src)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(source))
        mode = modes[1] if info.st_mode & stat.S_IXUSR else modes[0]
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        dst = os.open(dest, flags, mode)
        try:
            # A small file is one read and one write: cheaper than trying the others first.
            if info.st_size > CHUNK and (_clone(src, dst) or _kernel_copy(src, dst, info.st_size)):
                return hash_fd(dst)
            return _copy_hashing(src, dst)  # nothing was copied by a failed try: no rewind
        finally:
            os.close(dst)
    finally:
        os.close(src)


def hash_fd(fd: int) -> tuple[int, str]:
    """Size and sha256 of an open file, read from its start."""
    os.lseek(fd, 0, os.SEEK_SET)
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(fd):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _chunks(fd: int) -> Iterator[memoryview]:
    """The file's content from the current offset, CHUNK bytes at a time, in one buffer."""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while count := os.readv(fd, [buffer]):
        yield view[:count]


def hash_file(path: str | Path) -> tuple[int, str]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        return hash_fd(fd)
    finally:
        os.close(fd)


def folder_digest(files: Iterable[tuple[str, str]]) -> str:
    """A folder's sha256: over its files' relative POSIX paths and digests, sorted by path.
    A NUL ends each path (no file name holds one); digests are fixed-length hex."""
    digest = hashlib.sha256()
    for relative, file_digest in sorted(files):
        digest.update(os.fsencode(relative) + b"\0" + file_digest.encode() + b"\n")
    return digest.hexdigest()


def copy_tree(
    entries: Iterable[tuple[bool, str, str]],
    dest: Path,
    *,
    modes: tuple[int, int],
    folder_mode: int,
) -> tuple[int, str]:
    """Copy a walked folder (``paths.walk_tree``) into the new folder ``dest``; returns the
    summed size of its files and the folder digest."""
    dest.mkdir(mode=folder_mode)
    base = os.fspath(dest)
    size = 0
    digests: list[tuple[str, str]] = []
    for is_folder, relative, full in entries:
        target = f"{base}/{relative}"
        if is_folder:
            os.mkdir(target, folder_mode)
            continue
        file_size, file_digest = copy_file(full, target, modes=modes)
        size += file_size
        digests.append((relative, file_digest))
    return size, folder_digest(digests)


def hash_tree(root: Path) -> tuple[int, str]:
    """Size and digest of a folder already in the store (an interrupted put kept it)."""
    size = 0
    digests: list[tuple[str, str]] = []
    for is_folder, relative, full in walk_tree(root, None):
        if not is_folder:
            file_size, file_digest = hash_file(full)
            size += file_size
            digests.append((relative, file_digest))
    return size, folder_digest(digests)


@contextmanager
def staged(dest: Path) -> Iterator[Path]:
    """A partial path beside ``dest``, renamed to ``dest`` when the block succeeds and removed
    when it fails: ``dest`` appears whole, or not at all."""
    partial = dest.with_name(f".{dest.name}.partial")
    remove(partial)  # left by a crash
    try:
        yield partial
    except BaseException:
        remove(partial)
        raise
    os.replace(partial, dest)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def private_folders(path: Path) -> None:
    """Create ``path`` and its missing parents, each 0700."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)


def _clone(src: int, dst: int) -> bool:
    try:
        fcntl.ioctl(dst, FICLONE, src)
    except OSError as err:
        if err.errno in _UNSUPPORTED:
            return False
        raise
    return True


def _kernel_copy(src: int, dst: int, size: int) -> bool:
    copied = 0
    while True:
        try:
            count = os.copy_file_range(src, dst, max(size - copied, CHUNK))
        except OSError as err:
            if copied == 0 and err.errno in _UNSUPPORTED:
                return False
            raise
        if count == 0:
            break
        copied += count
    if copied == 0 and size > 0:  # some file systems copy nothing and say so this way
        return False
    return True


def _copy_hashing(src: int, dst: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(src):
        digest.update(chunk)
        _write_all(dst, chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]
