"""Artifacts in an S3-compatible bucket (AWS S3, MinIO, Ceph...): the ``s3`` extra.

``CUBE_ARTIFACT_STORE=s3://bucket/prefix``; credentials come the usual boto3 ways
(``AWS_ACCESS_KEY_ID``...), and ``CUBE_S3_ENDPOINT_URL`` points at a non-AWS server. A file is
one object; a folder is one object per file under ``<key>/``. The sha256 of what was uploaded
is recorded (a folder's by the local store's rule) and checked on every download: a bucket is
shared, and its objects can be overwritten.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, BinaryIO

from cubestudio.artifacts.copying import folder_digest, staged
from cubestudio.artifacts.paths import check_kind, safe_relative, walk_tree
from cubestudio.engine.artifacts import ArtifactError, StoredArtifact, check_unchanged


class S3Store:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None) -> S3Store:
        try:
            import boto3
        except ImportError:
            raise ArtifactError(
                "CUBE_ARTIFACT_STORE is an s3:// URL but boto3 is not installed: "
                "pip install 'cube-studio[s3]'"
            ) from None
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise ArtifactError(f"{url!r} names no bucket: use s3://BUCKET/PREFIX")
        return cls(boto3.client("s3", endpoint_url=endpoint_url), bucket, prefix)

    def put(
        self, *, run_id: str, task: str, attempt: int, name: str, source: Path, kind: str
    ) -> StoredArtifact:
        check_kind(source, kind, name)
        key = "/".join(p for p in (self.prefix, run_id, task, str(attempt), name) if p)
        try:
            if kind == "file":
                size, sha256 = self._upload(source, key)
            else:
                size, digests = 0, []
                for is_folder, relative, full in walk_tree(source, name):
                    if is_folder:
                        continue  # S3 has no folders: a key is the file's path
                    file_size, file_digest = self._upload(full, f"{key}/{relative}")
                    size += file_size
                    digests.append((relative, file_digest))
                sha256 = folder_digest(digests)
        except OSError as err:
            raise ArtifactError(f"cannot keep output '{name}': {err}") from None
        return StoredArtifact(f"s3://{self.bucket}/{key}", kind, size, sha256)

    def fetch(self, artifact: StoredArtifact, dest: Path, *, label: str) -> None:
        bucket, key = self._split(artifact.uri)
        try:
            with staged(dest) as partial:
                if artifact.kind == "file":
                    size, sha256 = self._download(bucket, key, partial)
                else:
                    size, sha256 = self._download_folder(bucket, key, partial)
                check_unchanged(artifact, size=size, sha256=sha256, label=label)
        except OSError as err:
            raise ArtifactError(f"cannot place artifact {label}: {err}") from None

    def _download_folder(self, bucket: str, key: str, dest: Path) -> tuple[int, str]:
        dest.mkdir()
        size, digests = 0, []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key + "/"):
            for item in page.get("Contents", []):
                relative = safe_relative(item["Key"][len(key) + 1 :])
                target = dest.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                file_size, file_digest = self._download(bucket, item["Key"], target)
                size += file_size
                digests.append((relative.as_posix(), file_digest))
        return size, folder_digest(digests)

    def _upload(self, source: str | Path, key: str) -> tuple[int, str]:
        """Upload one file, hashing the bytes as boto3 reads them: the digest is of exactly
        what was sent. (Not seekable, so boto3 reads it once, in order, buffering parts.)"""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        with open(source, "rb", opener=_no_follow) as file:
            reader = _Hashing(file)
            try:
                self.client.upload_fileobj(reader, self.bucket, key)
            except (S3UploadFailedError, BotoCoreError, ClientError) as err:
                raise ArtifactError(f"cannot upload to s3://{self.bucket}/{key}: {err}") from None
        return reader.size, reader.digest.hexdigest()

    def _download(self, bucket: str, key: str, dest: Path) -> tuple[int, str]:
        from botocore.exceptions import ClientError

        with open(dest, "xb") as file:
            writer = _Hashing(file)
            try:
                self.client.download_fileobj(bucket, key, writer)
            except ClientError as err:
                raise ArtifactError(f"cannot fetch s3://{bucket}/{key}: {err}") from None
        return writer.size, writer.digest.hexdigest()

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        if not uri.startswith("s3://"):
            raise ArtifactError(f"{uri} is not in an S3 artifact store")
        bucket, _, key = uri[len("s3://") :].partition("/")
        return bucket, key


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


class _Hashing:
    """A file seen by boto3 as a stream that is read (upload) or written (download) once, in
    order, while its bytes are counted and hashed."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self._saw(data)
        return data

    def write(self, data: bytes) -> int:
        self._saw(data)
        return self.file.write(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def _saw(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
