"""Job templates (F11; the seeds' "plugins"): a reusable, versioned task type with a parameter
schema that other users fill in. A task refers to one with ``template: name`` or
``template: name@version`` and gives its ``args``; the template's command is rendered with
``{{ args.NAME }}`` in the same sandbox as every other template variable.

Pure: the registry lives in the store; validation here takes a ``TemplateCatalog``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cubestudio.errors import FieldError, RenderError
from cubestudio.spec.model import IDENTIFIER, PIPELINE_NAME, Env, Resources
from cubestudio.spec.render import is_template, referenced_names, suggest

TEMPLATE_REF = re.compile(r"^(?P<name>[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(@(?P<version>\d+))?$")


class ParameterType(StrEnum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    ENUM = "enum"
    JSON = "json"
    TEXT = "text"
    LIST = "list"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ParameterSpec(_Model):
    """One parameter of a template: what the editor's form shows and what args must obey."""

    name: Annotated[str, Field(pattern=IDENTIFIER)]
    type: ParameterType = ParameterType.STR
    default: Any = None
    required: bool = False
    choices: list[Any] = Field(default_factory=list)
    description: str = ""
    group: str = ""
    # A str or text value must match it whole (re.fullmatch), e.g. "[a-z]+://.*".
    pattern: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    # An enum whose choices are suggestions: any other string is taken too (a combobox).
    allow_other: bool = False

    @field_validator("type", mode="before")
    @classmethod
    def _type_from_text(cls, value: object) -> object:
        if isinstance(value, str) and value in ParameterType._value2member_map_:
            return ParameterType(value)
        kinds = ", ".join(ParameterType)
        raise ValueError(f"{value!r} is not a parameter type: use one of {kinds}")

    @model_validator(mode="after")
    def _consistent(self) -> ParameterSpec:
        if self.type is ParameterType.ENUM and not self.choices:
            raise ValueError(f"parameter '{self.name}' is an enum: give its choices")
        if self.allow_other and self.type is not ParameterType.ENUM:
            raise ValueError(f"parameter '{self.name}': allow_other is for an enum's choices")
        if self.pattern is not None:
            if self.type not in (ParameterType.STR, ParameterType.TEXT):
                raise ValueError(f"parameter '{self.name}': a pattern is for str and text only")
            try:
                re.compile(self.pattern)
            except re.error as err:
                raise ValueError(
                    f"pattern of '{self.name}' is not a regular expression: {err}"
                ) from None
        for choice in self.choices:
            problem = type_problem(self, choice)
            if problem:
                raise ValueError(f"choice {choice!r} of '{self.name}': {problem}")
        if self.default is not None:
            problem = type_problem(self, self.default)
            if problem:
                raise ValueError(f"default of '{self.name}': {problem}")
        return self


class VolumeMount(_Model):
    """A fixed mount the template always gets (a host path locally, a volume on Kubernetes)."""

    source: Annotated[str, Field(min_length=1)]
    target: Annotated[str, Field(pattern=r"^/")]
    read_only: bool = False


class TemplateSpec(_Model):
    name: Annotated[str, Field(pattern=PIPELINE_NAME)]
    version: Annotated[int, Field(ge=1)] | None = None  # given by the registry
    description: str = ""
    category: str = "general"
    image: str = ""  # recorded for the Kubernetes backend; the local driver ignores it
    command: Annotated[str, Field(min_length=1)]
    parameters: list[ParameterSpec] = Field(default_factory=list)
    env: Env = Field(default_factory=dict)
    volumes: list[VolumeMount] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    service_account: str = ""
    distributed: Literal["none", "pytorch", "tensorflow", "mpi", "ray"] = "none"

    @model_validator(mode="after")
    def _parameters_used_and_unique(self) -> TemplateSpec:
        seen: set[str] = set()
        for param in self.parameters:
            if param.name in seen:
                raise ValueError(f"parameter '{param.name}' is declared twice")
            seen.add(param.name)
        if is_template(self.command):
            try:
                _, chains = referenced_names(self.command)
            except RenderError as err:
                raise ValueError(f"command: {err}") from None
            for chain in chains:
                if chain[0] == "args" and len(chain) > 1 and chain[1] not in seen:
                    hint = suggest(chain[1], sorted(seen)) or " (declare it under parameters)"
                    raise ValueError(
                        f"command uses 'args.{chain[1]}', which is not a parameter{hint}"
                    )
        return self

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name

    def parameter(self, name: str) -> ParameterSpec | None:
        return next((p for p in self.parameters if p.name == name), None)

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


class TemplateCatalog(Protocol):
    """Where templates are looked up: the store's registry, or a dict in tests."""

    def resolve(self, name: str, version: int | None) -> TemplateSpec:
        """The template, or LookupError with a message naming the close match."""
        ...


def parse_ref(ref: str) -> tuple[str, int | None]:
    match = TEMPLATE_REF.match(ref)
    if not match:
        raise ValueError(f"{ref!r} is not a template reference: use NAME or NAME@VERSION")
    version = match.group("version")
    return match.group("name"), int(version) if version else None


def type_problem(param: ParameterSpec, value: Any) -> str:
    """Why ``value`` does not fit the parameter ('' when it does)."""
    kind = param.type
    ok = {
        ParameterType.STR: isinstance(value, str),
        ParameterType.TEXT: isinstance(value, str),
        ParameterType.INT: isinstance(value, int) and not isinstance(value, bool),
        ParameterType.FLOAT: isinstance(value, int | float) and not isinstance(value, bool),
        ParameterType.BOOL: isinstance(value, bool),
        ParameterType.LIST: isinstance(value, list),
        ParameterType.JSON: True,
        ParameterType.ENUM: True,
    }[kind]
    if not ok:
        return f"{value!r} is not {'an' if kind is ParameterType.INT else 'a'} {kind}"
    if param.allow_other:
        if not (isinstance(value, str) or _among(value, param.choices)):
            return f"{value!r} is neither one of the choices nor a string"
    elif param.choices and kind is not ParameterType.LIST and not _among(value, param.choices):
        choices = ", ".join(repr(c) for c in param.choices)
        return f"{value!r} is not one of the choices: {choices}"
    if param.pattern is not None and re.fullmatch(param.pattern, value) is None:
        return f"{value!r} does not match the pattern {param.pattern}"
    return ""


def check_args(template: TemplateSpec, args: dict[str, Any], path: str) -> list[FieldError]:
    """Args against the template's schema. A string holding a template expression is checked
    when the task runs, once it is rendered."""
    errors: list[FieldError] = []
    names = [p.name for p in template.parameters]
    for name, value in args.items():
        param = template.parameter(name)
        if param is None:
            hint = suggest(name, names) or (
                f" (its parameters: {', '.join(names)})" if names else " (it takes none)"
            )
            errors.append(
                FieldError(f"{path}.{name}", f"template {template.ref} has no parameter{hint}")
            )
            continue
        if isinstance(value, str) and is_template(value):
            continue
        problem = type_problem(param, value)
        if problem:
            errors.append(FieldError(f"{path}.{name}", problem))
    for param in template.parameters:
        if param.required and param.default is None and param.name not in args:
            errors.append(
                FieldError(
                    f"{path}.{param.name}",
                    f"required by template {template.ref}: give args.{param.name}",
                )
            )
    return errors


def coerce_rendered(param: ParameterSpec, text: str) -> Any:
    """A rendered string arg converted to the parameter's type (at run time)."""
    import json

    kind = param.type
    try:
        if kind is ParameterType.INT:
            return int(text)
        if kind is ParameterType.FLOAT:
            return float(text)
        if kind is ParameterType.BOOL:
            lowered = text.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError
        if kind in (ParameterType.JSON, ParameterType.LIST):
            return json.loads(text)
    except ValueError:
        raise RenderError(f"args.{param.name}: {text!r} is not a {kind}") from None
    return text


def _among(value: Any, choices: list[Any]) -> bool:
    """``value in choices``, but True is not 1 and False is not 0 (Python's == says so)."""
    return any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in choices)
