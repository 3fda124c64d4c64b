"""Resolving a run's parameter values: the pipeline's defaults, overridden with
``--param name=value`` (coerced to the declared type)."""

from __future__ import annotations

from typing import Any

from cubestudio.errors import FieldError, SpecError
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.render import suggest

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["lr=0.1", "epochs=3"]`` → {"lr": "0.1", "epochs": "3"}."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SpecError([FieldError("--param", f"{item!r} is not NAME=VALUE (e.g. lr=0.1)")])
        values[name.strip()] = value
    return values


def resolve_params(spec: PipelineSpec, overrides: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in spec.params:
            hint = suggest(name, list(spec.params)) or (
                f" (declared: {', '.join(spec.params)})" if spec.params else " (it declares none)"
            )
            errors.append(FieldError(f"params.{name}", f"the pipeline has no parameter{hint}"))
            continue
        try:
            values[name] = _coerce(value, spec.params[name].type)
        except ValueError as err:
            errors.append(FieldError(f"params.{name}", str(err)))
    for name, param in spec.params.items():
        if name not in values:
            if param.default is None:
                errors.append(
                    FieldError(f"params.{name}", f"required: give it with --param {name}=VALUE")
                )
            values[name] = _check_type(param.default, param.type)
    if errors:
        raise SpecError(errors)
    return values


def _coerce(value: Any, kind: str) -> Any:
    if not isinstance(value, str):
        return _check_type(value, kind)
    text = value.strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not {'an' if kind == 'int' else 'a'} {kind}") from None
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{value!r} is not a bool (use true or false)")
    return value


def _check_type(value: Any, kind: str) -> Any:
    """A value given as JSON (from the API or the SDK) must already have the declared type."""
    if value is None:
        return None
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = {"str": str, "int": int, "float": float, "bool": bool}[kind]
    if not isinstance(value, expected) or (kind == "int" and isinstance(value, bool)):
        raise ValueError(f"{value!r} is not of type {kind}")
    return value
