"""Helpers for tests that run real pipelines through the CLI."""

from __future__ import annotations

import time
from pathlib import Path


def pipeline(tmp_path: Path, text: str, name: str = "pipeline.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def count(path: Path) -> int:
    """How many times a task ran: each run appends one line to its counter file."""
    return len(path.read_text().splitlines()) if path.exists() else 0


def wait_for(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        time.sleep(0.02)
