"""cube-studio's exports (tencentmusic/cube-studio ``myapp/init/``): how to tell them apart, how
their names become ours, how their string values become typed ones, and the ledger that
accounts for every source field.

- a template export (``init-job-template.json``): ``{name: {job_template_name, image_name,
  job_template_args, ...}}``, mapped by ``cubestudio_templates``;
- a pipeline export (``init-pipeline.json``): ``{name: {"pipeline": {...}, "tasks": [...]}}``,
  mapped by ``cubestudio_pipelines``.

Names are derived from the cube-studio name alone, so that a task's ``job_templete`` finds the
template imported earlier from another file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from cubestudio.errors import CubeError
from cubestudio.spec.model import IDENTIFIER, PIPELINE_NAME, TASK_NAME
from cubestudio.spec.template import ParameterType, TemplateSpec

ExportKind = Literal["templates", "pipelines"]
EXTRA_ARGS = "extra_args"  # the parameter that carries args a template does not declare
_SUMMARY_WIDTH = 80


class ExportFormatError(CubeError):
    """The file is not a cube-studio template or pipeline export."""


@dataclass(frozen=True)
class Unmapped:
    """A source field with no home here: where it was, its value in short, and why."""

    field: str
    value: str
    reason: str

    def to_data(self) -> dict[str, str]:
        return {"field": self.field, "value": self.value, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.field} = {self.value}: {self.reason}"


@dataclass
class ImportResult:
    """One imported item. ``mapped``: source field path -> where it went; ``template`` or
    ``pipeline`` (the pipeline file's data) is set when the mapping succeeded."""

    kind: Literal["template", "pipeline"]
    source: str
    name: str
    mapped: dict[str, str] = field(default_factory=dict)
    unmapped: list[Unmapped] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    template: TemplateSpec | None = None
    pipeline: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


class Ledger:
    """Records where each source field went. ``rest`` lists every field of a source mapping
    that nothing accounted for as unmapped, so that no field can be dropped unnoticed."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self._seen: set[str] = set()

    def mapped(self, path: str, target: str) -> None:
        self._seen.add(path)
        self.result.mapped[path] = target

    def unmapped(self, path: str, value: Any, reason: str) -> None:
        self._seen.add(path)
        self.result.unmapped.append(Unmapped(path, summarize(value), reason))

    def seen(self, path: str) -> bool:
        return path in self._seen or any(s.startswith((f"{path}.", f"{path}[")) for s in self._seen)

    def rest(self, source: Mapping[str, Any], prefix: str, reasons: Mapping[str, str]) -> None:
        for key, value in source.items():
            path = f"{prefix}{key}"
            if self.seen(path):
                continue
            if is_empty(value):
                self.mapped(path, "(empty: nothing to carry)")
            else:
                why = reasons.get(key, "a field the importer does not know: nothing here uses it")
                self.unmapped(path, value, why)


def parse_env(text: Any, path: str, ledger: Ledger) -> dict[str, str]:
    """cube-studio's env text: KEY=VALUE lines. A line without '=' (cube-studio skips those
    too) or whose key is not a variable name is listed as unmapped."""
    if text is None:
        return {}
    if not isinstance(text, str):
        ledger.unmapped(path, text, "not KEY=VALUE lines")
        return {}
    ledger.mapped(path, "env" if text.strip() else "(empty)")
    env: dict[str, str] = {}
    for line in (x.strip() for x in re.split(r"\r|\n", text)):
        key, sep, value = line.partition("=")
        if line and (not sep or not re.fullmatch(IDENTIFIER, key.strip())):
            ledger.unmapped(f"{path}.{key.strip()}", line, "not a KEY=VALUE line with a valid key")
        elif line:
            env[key.strip()] = value.strip()
    return env


def summarize(value: Any) -> str:
    """A value in one short line, for the unmapped list."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SUMMARY_WIDTH else text[: _SUMMARY_WIDTH - 1] + "…"


def is_empty(value: Any) -> bool:
    """cube-studio's "not given": it passes no flag for these (and stores '' for blanks)."""
    return value is None or value == "" or value == [] or value == {}


def json_field(value: Any) -> Any:
    """cube-studio keeps JSON columns (args, dag_json, expand, parameter) as text in its
    database; an export may hold either form."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def detect_export(data: object) -> ExportKind:
    """Which export ``data`` is; ExportFormatError naming the problem when it is neither."""
    usage = (
        "give cube-studio's job template export (init-job-template.json) "
        "or its pipeline export (init-pipeline.json)"
    )
    if not isinstance(data, dict):
        given = type(data).__name__ if data is not None else "nothing"
        raise ExportFormatError(f"the file holds a JSON {given}, not an object: {usage}")
    if not data:
        raise ExportFormatError(f"the file holds an empty object: {usage}")
    kinds: dict[ExportKind, str] = {}
    for key, item in data.items():
        kind = _kind_of(item)
        if kind is None:
            raise ExportFormatError(
                f"entry {key!r} is neither a job template (job_template_args, image_name) nor "
                f"a pipeline ({{pipeline, tasks}}): {usage}"
            )
        kinds.setdefault(kind, key)
    if len(kinds) > 1:
        raise ExportFormatError(
            f"the file mixes templates (e.g. {kinds['templates']!r}) and pipelines (e.g. "
            f"{kinds['pipelines']!r}): import each export from its own file"
        )
    return next(iter(kinds))


def _kind_of(item: object) -> ExportKind | None:
    if not isinstance(item, dict):
        return None
    if "pipeline" in item and "tasks" in item:
        return "pipelines"
    if "job_template_args" in item or "job_template_name" in item:
        return "templates"
    return None


@lru_cache(maxsize=1)
def reserved_names() -> frozenset[str]:
    """The built-in templates' names, which the registry keeps to itself."""
    from cubestudio.templates import builtin_templates

    return frozenset(t.name for t in builtin_templates())


def template_name(original: str) -> str:
    """Our name for a cube-studio template: its own name when it is valid here and not a
    built-in's, else a slug of it and a short hash of the original (``自定义镜像`` has no
    ASCII letters: ``template-<hash>``)."""
    return _derive(original, PIPELINE_NAME, "template", reserved_names())


def pipeline_name(original: str) -> str:
    return _derive(original, PIPELINE_NAME, "pipeline", frozenset())


def task_name(original: str) -> str:
    return _derive(original, TASK_NAME, "task", frozenset(), keep_case=True)


def _derive(
    original: str, pattern: str, fallback: str, reserved: frozenset[str], keep_case: bool = False
) -> str:
    if re.fullmatch(pattern, original) and original not in reserved:
        return original
    text = original if keep_case else original.lower()
    slug = re.sub(r"[^A-Za-z0-9]+" if keep_case else r"[^a-z0-9]+", "-", text).strip("-")
    if not slug or (keep_case and not slug[0].isalpha()):
        slug = f"{fallback}-{slug}".rstrip("-")
    digest = hashlib.sha1(original.encode("utf-8")).hexdigest()[:6]
    return f"{slug[:56].rstrip('-')}-{digest}"


def parameter_name(flag: str, taken: set[str]) -> str:
    """A parameter name from a flag (``--batch-size`` -> ``batch_size``), unique in ``taken``."""
    base = re.sub(r"\W", "_", flag.lstrip("-"), flags=re.ASCII).strip("_") or "arg"
    if base[0].isdigit():
        base = f"_{base}"
    base = base[:60]
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


_ITEM_TYPES = {"int": ParameterType.INT, "float": ParameterType.FLOAT, "bool": ParameterType.BOOL}


def item_kind(item_type: Any) -> ParameterType:
    """The type of a list's items (cube-studio's ``item_type``); strings otherwise."""
    return _ITEM_TYPES.get(str(item_type), ParameterType.STR)


def convert(value: Any, kind: ParameterType, item: ParameterType = ParameterType.STR) -> Any:
    """A cube-studio value (usually a string: "10", "true", "a,b") as our ``kind``; raises
    ValueError saying why it cannot be."""
    if kind in (ParameterType.STR, ParameterType.TEXT):
        return _to_text(value)
    if kind is ParameterType.INT:
        return _to_int(value)
    if kind is ParameterType.FLOAT:
        return _to_float(value)
    if kind is ParameterType.BOOL:
        return _to_bool(value)
    if kind is ParameterType.LIST:
        items = value if isinstance(value, list) else _split(value)
        return [convert(x, item) for x in items]
    if kind is ParameterType.JSON:
        return json_field(value)
    return convert(value, item)  # an enum's choice: its item type


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, not text")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)  # what cube-studio puts on the command
    return str(value)


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise ValueError(f"{value!r} is not an integer")


def _to_float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a number")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean (true/false)")


def _split(value: Any) -> list[Any]:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a list")
    text = value.strip()
    if text.startswith("["):
        parsed = json_field(text)
        if isinstance(parsed, list):
            return parsed
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]
