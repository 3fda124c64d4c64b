"""Cube Studio: compose, debug, schedule and scale ML pipelines.

The Python SDK lives here: ``from cubestudio import Pipeline, Task``.
"""

from cubestudio.spec.sdk import Pipeline, Task

__all__ = ["Pipeline", "Task", "__version__"]
__version__ = "0.1.0"
