"""Artifacts in an S3-compatible bucket (AWS S3, MinIO, Ceph...): the ``s3`` extra.

``CUBE_ARTIFACT_STORE=s3://bucket/prefix``; credentials come the usual boto3 ways
(``AWS_ACCESS_KEY_ID``...), and ``CUBE_S3_ENDPOINT_URL`` points at a non-AWS server. A file is
one object; a folder is one object per file under ``<key>/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cubestudio.artifacts.paths import check_output, safe_relative, walk_files
from cubestudio.engine.artifacts import ArtifactError, StoredArtifact


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
        size = check_output(source, kind, name)
        key = "/".join(p for p in (self.prefix, run_id, task, str(attempt), name) if p)
        if kind == "file":
            self.client.upload_file(str(source), self.bucket, key)
        else:
            for file in walk_files(source, name):
                relative = file.relative_to(source).as_posix()
                self.client.upload_file(str(file), self.bucket, f"{key}/{relative}")
        return StoredArtifact(f"s3://{self.bucket}/{key}", kind, size)

    def fetch(self, artifact: StoredArtifact, dest: Path, *, copy: bool = False) -> None:
        bucket, key = self._split(artifact.uri)
        if artifact.kind == "file":
            self._download(bucket, key, dest)
            return
        dest.mkdir(parents=True)
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key + "/"):
            for item in page.get("Contents", []):
                relative = safe_relative(item["Key"][len(key) + 1 :])
                target = dest.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                self._download(bucket, item["Key"], target)

    def _download(self, bucket: str, key: str, dest: Path) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.download_file(bucket, key, str(dest))
        except ClientError as err:
            raise ArtifactError(f"cannot fetch s3://{bucket}/{key}: {err}") from None

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        if not uri.startswith("s3://"):
            raise ArtifactError(f"{uri} is not in an S3 artifact store")
        bucket, _, key = uri[len("s3://") :].partition("/")
        return bucket, key
