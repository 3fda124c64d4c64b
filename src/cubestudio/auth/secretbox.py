"""The key that encrypts project secrets at rest (Fernet: AES-128-CBC with an HMAC-SHA256,
from the cryptography package). ``CUBE_SECRET_KEY`` when set (a urlsafe base64 key, as
``Fernet.generate_key()`` makes), else ``$CUBE_HOME/secret.key``, created 0600 on first use.
Several servers on one database must share the key: set CUBE_SECRET_KEY on each."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from cubestudio.errors import CubeError


class SecretBox:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as err:
            raise CubeError(
                "CUBE_SECRET_KEY is not a Fernet key: make one with "
                '`python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"`'
            ) from err

    @classmethod
    def load(cls, *, home: Path, key: str | None) -> SecretBox:
        if key:
            return cls(key.encode())
        path = home / "secret.key"
        try:
            return cls(path.read_bytes().strip())
        except FileNotFoundError:
            pass
        home.mkdir(parents=True, exist_ok=True)
        new = Fernet.generate_key()
        try:  # O_EXCL: two servers starting at once keep one key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls(path.read_bytes().strip())
        with os.fdopen(fd, "wb") as f:
            f.write(new + b"\n")
        return cls(new)

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as err:
            raise CubeError(
                "a project secret cannot be decrypted with this server's key: every server "
                "must use the same CUBE_SECRET_KEY (or $CUBE_HOME/secret.key)"
            ) from err
