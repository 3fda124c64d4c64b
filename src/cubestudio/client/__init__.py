"""A Python client of a Cube Studio server (``Client``, ``Run``) and the remote side of the
CLI (`cube --server URL ...`). It speaks the REST API under /api/v1; the shapes it returns
are the local CLI's contract (README, "The contract scripts rely on"), so a script works the
same against the local store and a server."""

from cubestudio.client.api import Client
from cubestudio.client.http import (
    ClientError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unreachable,
)
from cubestudio.client.runs import Run, WaitTimeout

__all__ = [
    "Client",
    "ClientError",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Run",
    "Unauthorized",
    "Unreachable",
    "WaitTimeout",
]
