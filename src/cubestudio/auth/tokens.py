"""Bearer tokens: 256 random bits, shown once, stored as their SHA-256. A token says what it
is (``cube_`` and the kind) so a leaked one is recognisable in a log or a secret scanner."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

PREFIXES = {"api": "cube_api_", "session": "cube_ses_"}


@dataclass(frozen=True)
class NewToken:
    token: str  # shown to its owner once, never stored
    token_hash: str
    prefix: str  # the first characters, kept to tell tokens apart in lists


def new_token(kind: str) -> NewToken:
    token = PREFIXES[kind] + secrets.token_urlsafe(32)
    return NewToken(token, hash_token(token), token[: len(PREFIXES[kind]) + 4])


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
