"""A template's parameters as a JSON Schema (draft 2020-12), so that the editor builds a task's
form from it and any JSON Schema validator checks a task's ``args``.

The schema accepts what ``spec.template.check_args`` accepts for plain values: the same types,
choices, required parameters, and no unknown names. Two things are left to ``check_args``:
a string holding a template expression (``{{ params.lr }}``) is accepted there for any
parameter and checked once rendered, and JSON Schema counts ``1.0`` as an integer.

Keywords outside the standard (JSON Schema ignores them when validating; a form reads them):
``x-type`` (the parameter's own type: ``text`` is a multi-line string, ``json`` any value),
``x-group`` (the group it is shown under), ``x-allow-other`` (an enum whose choices are
suggestions: any string is taken too), ``x-order`` (its place in the template file, as
JSON objects have no order) and, on the schema itself, ``x-groups`` (groups in file order)
and ``x-template`` (``name@version``).
"""

from __future__ import annotations

from typing import Any

from cubestudio.spec.template import ParameterSpec, ParameterType, TemplateSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# The JSON type of each parameter type; json and enum take any value (enum: one of its choices).
_JSON_TYPES: dict[ParameterType, str | None] = {
    ParameterType.STR: "string",
    ParameterType.TEXT: "string",
    ParameterType.INT: "integer",
    ParameterType.FLOAT: "number",
    ParameterType.BOOL: "boolean",
    ParameterType.LIST: "array",
    ParameterType.JSON: None,
    ParameterType.ENUM: None,
}


def parameters_schema(template: TemplateSpec) -> dict[str, Any]:
    """The JSON Schema of the ``args`` object a task gives the template."""
    properties = {
        param.name: parameter_schema(param, order=index)
        for index, param in enumerate(template.parameters)
    }
    groups = list(dict.fromkeys(p.group for p in template.parameters if p.group))
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "title": template.name,
        "type": "object",
        "properties": properties,
        "required": [p.name for p in template.parameters if is_required(p)],
        "additionalProperties": False,
        "x-template": template.ref,
        "x-groups": groups,
    }
    if template.description:
        schema["description"] = template.description
    return schema


def parameter_schema(param: ParameterSpec, *, order: int) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    json_type = _JSON_TYPES[param.type]
    if json_type is not None:
        schema["type"] = json_type
    if param.choices and param.allow_other:
        # Suggestions a form offers in a combobox; any other string is taken too.
        schema["examples"] = list(param.choices)
        schema["anyOf"] = [{"enum": list(param.choices)}, {"type": "string"}]
        schema["x-allow-other"] = True
    elif param.choices:
        # A list's choices are not enforced on its value (spec.template.type_problem): they
        # are values to offer, which is what `examples` means.
        key = "examples" if param.type is ParameterType.LIST else "enum"
        schema[key] = list(param.choices)
    if param.pattern is not None:
        schema["pattern"] = f"^(?:{param.pattern})$"  # JSON Schema searches; we match whole
    if param.default is not None:
        schema["default"] = param.default
    if param.description:
        schema["description"] = param.description
    schema["x-type"] = str(param.type)
    if param.group:
        schema["x-group"] = param.group
    schema["x-order"] = order
    return schema


def is_required(param: ParameterSpec) -> bool:
    """Whether a task must give it: as in check_args, a default makes `required` moot."""
    return param.required and param.default is None
