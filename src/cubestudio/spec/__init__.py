"""The pipeline spec: pure models, loaders (YAML, JSON, Python SDK) and validation.

Invariant: this package imports nothing from store, engine, drivers, api or cli. Everything
downstream consumes ``PipelineSpec``; every loader produces one.

The names below are imported on first use: the template renderer process
(``cubestudio.spec.renderer``) imports this package and must start without pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cubestudio.spec.loader import load_pipeline, load_pipeline_text
    from cubestudio.spec.model import PipelineSpec, TaskSpec

__all__ = ["PipelineSpec", "TaskSpec", "load_pipeline", "load_pipeline_text"]


def __getattr__(name: str) -> Any:
    if name in ("load_pipeline", "load_pipeline_text"):
        from cubestudio.spec import loader

        return getattr(loader, name)
    if name in ("PipelineSpec", "TaskSpec"):
        from cubestudio.spec import model

        return getattr(model, name)
    raise AttributeError(f"module 'cubestudio.spec' has no attribute {name!r}")
