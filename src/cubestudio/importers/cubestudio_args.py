"""cube-studio template args -> our parameters.

An arg is ``{"--flag": {type, item_type, label, require, choice, range, default, placeholder,
describe, editable, regex}}`` inside a group. Every cube-studio type has one of ours; strings
(cube-studio keeps defaults as text) are converted; what a parameter here cannot hold
(patterns, ranges, read-only, the suggested choices of a non-enum) is listed as unmapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cubestudio.importers.cubestudio import (
    Ledger,
    convert,
    is_empty,
    item_kind,
    json_field,
    parameter_name,
)
from cubestudio.spec.render import is_template
from cubestudio.spec.template import ParameterType

TYPES = {
    "int": ParameterType.INT,
    "float": ParameterType.FLOAT,
    "bool": ParameterType.BOOL,
    "str": ParameterType.STR,
    "text": ParameterType.TEXT,
    "file": ParameterType.TEXT,  # a file's content, edited in a text box
    "enum": ParameterType.ENUM,
    "multiple": ParameterType.LIST,  # several of the choices
    "list": ParameterType.LIST,
    "dict": ParameterType.JSON,
    "json": ParameterType.JSON,
}

_ARG_REASONS = {
    "regex": "a pattern cube-studio's form checks: parameters here have no pattern",
    "range": "a range cube-studio's form checks: parameters here have no range",
    "editable": "read-only in cube-studio's form: parameters here have no read-only flag "
    "(its default is kept)",
}


@dataclass(frozen=True)
class Arg:
    flag: str
    param: str
    role: Literal["flag", "image", "workdir", "command", "unused"]


def arguments(item: Mapping[str, Any], ledger: Ledger) -> tuple[list[dict[str, Any]], list[Arg]]:
    raw = json_field(item.get("job_template_args", {}))
    if not isinstance(raw, dict):
        ledger.unmapped("job_template_args", raw, "not a mapping of groups to args")
        return [], []
    if not raw:
        ledger.mapped("job_template_args", "(empty)")
    custom = is_empty(item.get("job_template_command")) and any(
        isinstance(group, dict) and "command" in group for group in raw.values()
    )
    parameters: list[dict[str, Any]] = []
    args: list[Arg] = []
    taken: set[str] = set()
    for group, specs in raw.items():
        if not isinstance(specs, dict):
            ledger.unmapped(f"job_template_args.{group}", specs, "not a mapping of args")
            continue
        if not specs:
            ledger.mapped(f"job_template_args.{group}", "(a group without args)")
        for flag, spec in specs.items():
            path = f"job_template_args.{group}.{flag}"
            if not isinstance(spec, dict):
                ledger.unmapped(path, spec, "not an arg definition (type, default, ...)")
                continue
            arg = Arg(flag, parameter_name(flag, taken), _role(flag, custom))
            parameters.append(_parameter(str(group), arg, spec, path, ledger))
            args.append(arg)
    return parameters, args


def _role(flag: str, custom: bool) -> Literal["flag", "image", "workdir", "command", "unused"]:
    """cube-studio never passes ``images`` (the task's image) or ``workdir`` as flags; the
    custom-image template runs its ``command`` arg in its ``workdir`` arg."""
    if flag == "images":
        return "image"
    if flag == "workdir":
        return "workdir" if custom else "unused"
    if flag == "command" and custom:
        return "command"
    return "flag"


def _parameter(
    group: str, arg: Arg, spec: Mapping[str, Any], path: str, ledger: Ledger
) -> dict[str, Any]:
    kind = _kind(spec, path, ledger)
    item = item_kind(spec.get("item_type"))
    _item_type(spec, kind, path, ledger)
    param: dict[str, Any] = {"name": arg.param, "type": kind.value, "group": group}
    ledger.mapped(path, f"parameters.{arg.param}")
    suggested = _choices(spec, kind, item, param, path, ledger)
    _default(spec, param, item, path, ledger)
    # An empty default leaves none: a required parameter then needs a value from each task.
    param["required"] = bool(spec.get("require"))
    if "require" in spec:
        ledger.mapped(f"{path}.require", "required")
    param["description"] = _description(spec, suggested, path, ledger)
    for field, reason in _ARG_REASONS.items():
        value = spec.get(field)
        if field not in spec:
            continue
        if field == "editable" and value in (1, True, "1"):
            ledger.mapped(f"{path}.editable", "(editable: every parameter is)")
        elif is_empty(value):
            ledger.mapped(f"{path}.{field}", "(empty)")
        else:
            ledger.unmapped(f"{path}.{field}", value, reason)
    _note_role(arg, spec, path, ledger)
    ledger.rest(spec, f"{path}.", {})
    return param


def _kind(spec: Mapping[str, Any], path: str, ledger: Ledger) -> ParameterType:
    given = str(spec.get("type") or "str")
    kind = TYPES.get(given)
    if kind is None:
        ledger.unmapped(f"{path}.type", given, "not a cube-studio arg type: imported as str")
        return ParameterType.STR
    if kind is ParameterType.ENUM and not spec.get("choice"):
        ledger.unmapped(f"{path}.type", given, "an enum without choices: imported as str")
        return ParameterType.STR
    ledger.mapped(f"{path}.type", f"type {kind}")
    return kind


def _item_type(spec: Mapping[str, Any], kind: ParameterType, path: str, ledger: Ledger) -> None:
    if "item_type" not in spec:
        return
    value = spec["item_type"]
    if kind is ParameterType.LIST or kind is ParameterType.ENUM:
        ledger.mapped(f"{path}.item_type", "the type of the items")
    elif value in ("", "str", None) or value == spec.get("type"):
        ledger.mapped(f"{path}.item_type", "(the same as its type)")
    else:
        ledger.unmapped(f"{path}.item_type", value, f"an item type for a {kind} parameter")


def _choices(
    spec: Mapping[str, Any],
    kind: ParameterType,
    item: ParameterType,
    param: dict[str, Any],
    path: str,
    ledger: Ledger,
) -> list[Any]:
    raw = spec.get("choice") or []
    if not isinstance(raw, list):
        ledger.unmapped(f"{path}.choice", raw, "not a list of choices")
        return []
    if "choice" in spec and not raw:
        ledger.mapped(f"{path}.choice", "(empty)")
    if kind is ParameterType.ENUM:
        param["choices"] = [_try(convert, c, item) for c in raw]
        ledger.mapped(f"{path}.choice", "choices")
        return []
    if raw:
        ledger.unmapped(
            f"{path}.choice",
            raw,
            "cube-studio offers them in a select box and accepts other values (its own demo "
            "pipelines give some); choices here are strict, and list parameters have none: "
            "named in the description instead",
        )
    return list(raw)


def _default(
    spec: Mapping[str, Any], param: dict[str, Any], item: ParameterType, path: str, ledger: Ledger
) -> None:
    if "default" not in spec:
        return
    value = spec["default"]
    where = f"{path}.default"
    if is_empty(value):
        ledger.mapped(where, "(empty: no default)")
        return
    kind = ParameterType(param["type"])
    if isinstance(value, str) and is_template(value) and kind not in _TEXT_KINDS:
        ledger.unmapped(where, value, f"a template expression cannot be a {kind} default")
        return
    try:
        converted = convert(value, kind, item)
    except ValueError as err:
        ledger.unmapped(where, value, f"{err}: left out of a {kind} parameter")
        return
    if param.get("choices") and converted not in param["choices"]:
        ledger.unmapped(where, value, "not one of its choices: left out")
        return
    param["default"] = converted
    ledger.mapped(where, "default")


_TEXT_KINDS = (ParameterType.STR, ParameterType.TEXT, ParameterType.JSON)


def _description(spec: Mapping[str, Any], choices: list[Any], path: str, ledger: Ledger) -> str:
    label = str(spec.get("label") or "").strip()
    describe = str(spec.get("describe") or "").strip()
    placeholder = str(spec.get("placeholder") or "").strip()
    text = label if not describe or describe == label else f"{label}: {describe}".lstrip(": ")
    if placeholder:
        text += f" (e.g. {placeholder})"
    if choices:
        text += f" (choices: {', '.join(map(str, choices))})"
    for field in ("label", "describe", "placeholder"):
        if field in spec:
            ledger.mapped(f"{path}.{field}", "description")
    return text.strip()


def _note_role(arg: Arg, spec: Mapping[str, Any], path: str, ledger: Ledger) -> None:
    if arg.role == "image":
        ledger.unmapped(
            path,
            spec.get("default"),
            "cube-studio runs the task in this image; a task here has no image of its own: "
            f"kept as parameter '{arg.param}', which the command does not use",
        )
    elif arg.role == "unused":
        ledger.unmapped(
            path,
            spec.get("default"),
            f"cube-studio does not pass '{arg.flag}' on this template's command line: kept as "
            f"parameter '{arg.param}', which the command does not use",
        )


def _try(func: Any, value: Any, *args: Any) -> Any:
    try:
        return func(value, *args)
    except ValueError:
        return value
