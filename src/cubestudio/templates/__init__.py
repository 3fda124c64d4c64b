"""Built-in job templates, shipped as YAML files beside this module and registered in the
store the first time the registry is used (see ``store.templates.ensure_builtins``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from cubestudio.spec.template import TemplateSpec

BUILTIN_DIR = Path(__file__).parent
SHELL = "shell"


@lru_cache(maxsize=1)
def builtin_templates() -> tuple[TemplateSpec, ...]:
    files = sorted(BUILTIN_DIR.glob("*.yaml"))
    return tuple(TemplateSpec.model_validate(yaml.safe_load(f.read_text())) for f in files)
