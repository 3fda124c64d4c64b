"""The pipeline spec: pure models, loaders (YAML, JSON, Python SDK) and validation.

Invariant: this package imports nothing from store, engine, drivers, api or cli. Everything
downstream consumes ``PipelineSpec``; every loader produces one.
"""

from cubestudio.spec.loader import load_pipeline, load_pipeline_text
from cubestudio.spec.model import PipelineSpec, TaskSpec

__all__ = ["PipelineSpec", "TaskSpec", "load_pipeline", "load_pipeline_text"]
