"""Load a pipeline from YAML, JSON or a Python file into a validated PipelineSpec.

Every problem becomes a FieldError with a path such as ``tasks[2].retries``; malformed YAML and
JSON report their line and column. Nothing here touches the store.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from cubestudio.errors import FieldError, SpecError
from cubestudio.spec.model import PipelineSpec, ResourceFields, ScheduleFields, TaskFields
from cubestudio.spec.render import suggest
from cubestudio.spec.template import TemplateCatalog, TemplateSpec
from cubestudio.spec.validate import check_pipeline

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_FIELDS_AT = {
    "tasks": TaskFields,
    "on_exit": TaskFields,
    "schedule": ScheduleFields,
    "resources": ResourceFields,
    "params": ("type", "default", "description"),
    "parameters": ("name", "type", "default", "required", "choices", "description", "group"),
    "outputs": ("name", "type"),
    "inputs": ("from", "name"),
}
_PATTERN_HINTS = {
    "name": "use lowercase letters, digits and '-' (e.g. 'daily-train')",
    "task": "use letters, digits, '_' and '-', starting with a letter",
    "key": "use letters, digits and '_', not starting with a digit",
}


def load_pipeline(path: str | Path, catalog: TemplateCatalog | None = None) -> PipelineSpec:
    """Read and validate a pipeline file (.yaml, .yml, .json or .py); with a catalog, the
    job templates its tasks use and their args too."""
    file = Path(path)
    if file.is_dir():
        raise SpecError([FieldError("", _folder_given(file))])
    if not file.is_file():
        raise SpecError([FieldError("", f"no such pipeline file: {file}")])
    folder = str(file.resolve().parent)
    if file.suffix == ".py":
        from cubestudio.spec.sdk import load_python_pipeline

        return load_python_pipeline(file, catalog, pipeline_dir=folder)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SpecError([FieldError("", f"cannot read {file}: {exc.strerror or exc}")]) from None
    return load_pipeline_text(
        decode_utf8(data, str(file)),
        source=str(file),
        is_json=file.suffix == ".json",
        catalog=catalog,
        pipeline_dir=folder,
    )


def _folder_given(folder: Path) -> str:
    found = sorted(
        p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json", ".py")
    )
    hint = f" (it holds {', '.join(found[:5])}{', ...' if len(found) > 5 else ''})" if found else ""
    return f"{folder} is a folder: give the pipeline file inside it{hint}"


def decode_utf8(data: bytes, source: str) -> str:
    """The file's text; a byte that is not UTF-8 is reported with its line and column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = (
            f"{source}:{line}:{column}: byte 0x{data[exc.start]:02x} is not UTF-8 text: "
            "save the file as UTF-8"
        )
        raise SpecError([FieldError("", message)]) from None


def load_pipeline_text(
    text: str,
    *,
    source: str = "<text>",
    is_json: bool = False,
    catalog: TemplateCatalog | None = None,
    pipeline_dir: str | None = None,
) -> PipelineSpec:
    """A pipeline from its text; ``pipeline_dir`` is the folder of the file it came from."""
    data = _parse(text, source, is_json)
    return pipeline_from_data(data, catalog=catalog, pipeline_dir=pipeline_dir)


def load_template_text(text: str, *, source: str = "<text>") -> TemplateSpec:
    """A job template file, validated; errors carry field paths like the pipeline's."""
    data = _parse(text, source, is_json=source.endswith(".json"))
    if not isinstance(data, dict):
        raise SpecError([FieldError("", "a template file holds a mapping")])
    try:
        return TemplateSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_field_errors(exc)) from None


def pipeline_from_data(
    data: object,
    *,
    check: bool = True,
    catalog: TemplateCatalog | None = None,
    pipeline_dir: str | None = None,
) -> PipelineSpec:
    """Validate plain data (a dict as YAML or JSON gives it) into a PipelineSpec.
    ``check=False`` skips the cross-field rules, for snapshots validated when stored (and
    keeps their ``pipeline_dir``); otherwise ``pipeline_dir`` is the folder of the file the
    data came from, never the data's own."""
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        raise SpecError([FieldError("", f"a pipeline file holds a mapping, got {kind}")])
    if check and "pipeline_dir" in data:
        message = (
            "set by cube to the folder of the pipeline file: remove it "
            "(a task's `workdir:` chooses where its command runs)"
        )
        raise SpecError([FieldError("pipeline_dir", message)])
    if pipeline_dir is not None:
        data = {**data, "pipeline_dir": pipeline_dir}
    try:
        with _no_gc():
            spec = PipelineSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_field_errors(exc)) from None
    if not check:
        return spec
    errors = check_pipeline(spec, catalog)
    if errors:
        raise SpecError(errors)
    return spec


def _parse(text: str, source: str, is_json: bool) -> object:
    if is_json:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
            raise SpecError([FieldError("", msg)]) from None
    try:
        with _no_gc():
            return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise SpecError([FieldError("", f"{where}: invalid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([FieldError("", f"{source}: invalid YAML: {exc}")]) from None


@contextmanager
def _no_gc() -> Iterator[None]:
    """Building a large document allocates many containers and nothing cyclic; the cyclic
    garbage collector would rescan them all again and again (a 10,000-task file parses in
    a third of the time without it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def format_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _field_errors(exc: ValidationError) -> list[FieldError]:
    found: dict[tuple[str, str], FieldError] = {}
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err)
        error = _explain(err, loc)
        # A union reports each branch: keep the first per field. Unknown fields are reported
        # at their parent's path, each one of them.
        field = str(loc[-1]) if err["type"] == "extra_forbidden" and loc else ""
        found.setdefault((error.path, field), error)
    return list(found.values())


def _clean_loc(err: ErrorDetails) -> tuple[int | str, ...]:
    """Drop pydantic's union-branch and validator tags so the path is the user's field path."""
    loc: list[int | str] = []
    for part in err["loc"]:
        if isinstance(part, str) and (
            "[" in part or part in ("str", "int", "float", "bool", "none", "list", "dict")
        ):
            if part == "[key]":
                loc.append("<key>")
            continue
        loc.append(part)
    return tuple(loc)


def _explain(err: ErrorDetails, loc: tuple[int | str, ...]) -> FieldError:
    kind, message = err["type"], err["msg"]
    if kind == "extra_forbidden":
        parent, field = loc[:-1], str(loc[-1])
        known = _known_fields(parent)
        hint = suggest(field, known) if known else ""
        return FieldError(format_path(parent), f"unknown field '{field}'{hint}")
    if loc and loc[-1] == "<key>":
        loc = loc[:-1]
        bad = repr(err.get("input"))
        return FieldError(format_path(loc), f"{bad} is not a valid name: {_PATTERN_HINTS['key']}")
    path = format_path(loc)
    if kind == "missing":
        return FieldError(path, "required field is missing")
    if kind == "string_pattern_mismatch":
        is_task = loc == ("on_exit", "name") or (len(loc) == 3 and loc[::2] == ("tasks", "name"))
        which = "name" if loc == ("name",) else "task" if is_task else "key"
        bad = repr(err.get("input"))
        return FieldError(path, f"{bad} is not a valid name: {_PATTERN_HINTS[which]}")
    if kind in ("value_error", "assertion_error"):
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    elif kind == "too_short" and loc == ("tasks",):
        message = "a pipeline needs at least one task"
    else:
        message = message[0].lower() + message[1:]
        if "input" in err and not isinstance(err["input"], dict | list):
            message += f", got {err['input']!r}"
    return FieldError(path, message)


def _known_fields(parent: tuple[int | str, ...]) -> tuple[str, ...]:
    named = [p for p in parent if isinstance(p, str)]
    if not named:
        return tuple(PipelineSpec.model_fields)
    key = named[-1]
    if len(named) >= 2 and named[-2] == "params":
        key = "params"
    fields = _FIELDS_AT.get(key)
    return tuple(fields) if fields else ()
