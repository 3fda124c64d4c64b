"""Fixtures for the artifact stores: the local folder, and S3 on a real local server (moto's
server mode, over HTTP), never a mock object."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cubestudio.artifacts.local import LocalStore
from cubestudio.engine.artifacts import ArtifactStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    new_bucket = request.getfixturevalue("new_bucket")
    return new_bucket(f"b-{tmp_path.name.lower().replace('_', '-')[-40:]}")


@pytest.fixture
def new_bucket(s3_endpoint: str) -> Callable[[str], ArtifactStore]:
    """A fresh bucket on the local S3 server, as an S3Store under the prefix ``cube``."""
    import boto3

    from cubestudio.artifacts.s3 import S3Store

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    def make(bucket: str) -> ArtifactStore:
        boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
        return S3Store.from_url(f"s3://{bucket}/cube", endpoint_url=s3_endpoint)

    return make
