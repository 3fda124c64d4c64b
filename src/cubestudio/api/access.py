"""Who the caller is and what it may see, remembered for a moment: every request names a
token and most a project, and looking both up cost as much as the rest of a read. Entries
live ACCESS_TTL seconds; a change made through this server (a revoked token, a member added
or removed, a new project) clears them at once, one made elsewhere (another server, `cube
token revoke`) takes effect within ACCESS_TTL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

ACCESS_TTL = 2.0  # seconds
MAX_ENTRIES = 10_000


class AccessCache:
    def __init__(
        self, ttl: float = ACCESS_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            found = self._entries.get(key)
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()  # bounded: a burst of tokens costs lookups, not memory
            self._entries[key] = (self.clock() + self.ttl, value)

    def clear(self) -> None:
        """After a change of tokens, users, projects or members made here."""
        with self._lock:
            self._entries.clear()
