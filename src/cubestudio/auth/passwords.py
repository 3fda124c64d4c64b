"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
parameter set): slow on purpose, so a stolen database does not give the passwords away."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cubestudio.errors import CubeError

_HASHER = PasswordHasher()
MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 takes any length; a megabyte "password" is a denial of service


def check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise CubeError(f"password: at least {MIN_LENGTH} characters, please")
    if len(password) > MAX_LENGTH:
        raise CubeError(f"password: at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


# Verified against when the user does not exist, so that a login for an unknown name takes
# as long as one with a wrong password (no user enumeration by timing).
_DUMMY = _HASHER.hash("not a password of anyone")


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
