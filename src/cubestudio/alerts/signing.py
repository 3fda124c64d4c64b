"""The webhook secret and the signature of each delivery (see the package's docstring).

The signed string is ``<timestamp>.<body>``: binding the time to the body lets a receiver
refuse a request replayed later, which a signature of the body alone would not."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cubestudio.errors import CubeError

KEY_FILE = "webhook.key"


def load_key(*, home: Path, secret: str | None) -> bytes:
    """``CUBE_WEBHOOK_SECRET`` when set, else ``$CUBE_HOME/webhook.key``, created 0600 on
    first use (O_EXCL: two senders starting at once keep one key)."""
    if secret:
        return secret.encode()
    path = home / KEY_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    home.mkdir(parents=True, exist_ok=True)
    new = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "wb") as f:
        f.write(new + b"\n")
    return new


def _read(path: Path) -> bytes:
    key = path.read_bytes().strip()
    if not key:
        raise CubeError(
            f"the webhook key file {path} is empty: delete it (a new key is made) or set "
            "CUBE_WEBHOOK_SECRET"
        )
    return key


def sign(key: bytes, *, timestamp: str, body: bytes) -> str:
    """The X-Cube-Signature header's value."""
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    key: bytes, *, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300
) -> bool:
    """What a receiver written in Python does: the signature matches (compared in constant
    time) and the timestamp is within ``tolerance`` seconds of ``now``."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(key, timestamp=timestamp, body=body), signature)
