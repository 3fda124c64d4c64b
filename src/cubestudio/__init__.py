"""Cube Studio: compose, debug, schedule and scale ML pipelines.

The Python SDK lives here: ``from cubestudio import Pipeline, Task``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cubestudio.spec.sdk import Pipeline, Task

__all__ = ["Pipeline", "Task", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `cube` commands that need no spec start faster.
    if name in ("Pipeline", "Task"):
        from cubestudio.spec import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'cubestudio' has no attribute {name!r}")
