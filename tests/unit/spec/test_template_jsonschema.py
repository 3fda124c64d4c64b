"""A template's parameters as JSON Schema: every parameter type, its choices, default,
description and group, file order kept; valid draft 2020-12; and it accepts exactly the plain
values `check_args` accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cubestudio.spec.jsonschema import DIALECT, parameters_schema
from cubestudio.spec.template import TemplateSpec, check_args
from cubestudio.templates import BUILTIN_DIR

EXAMPLES = Path(__file__).parents[3] / "examples" / "templates"

EVERY_KIND = TemplateSpec.model_validate(
    {
        "name": "every-kind",
        "version": 3,
        "description": "one parameter of each type",
        "command": "run",
        "parameters": [
            {"name": "title", "type": "str", "required": True, "description": "Shown"},
            {"name": "script", "type": "text", "default": "print(1)", "group": "code"},
            {"name": "epochs", "type": "int", "default": 10, "group": "training"},
            {"name": "lr", "type": "float", "default": 0.01, "group": "training"},
            {"name": "verbose", "type": "bool", "default": False},
            {"name": "optimizer", "type": "enum", "choices": ["sgd", "adam"], "default": "sgd"},
            {"name": "layers", "type": "list", "default": [64, 32], "group": "code"},
            {"name": "config", "type": "json", "default": {"a": [1, 2]}},
            {"name": "size", "type": "int", "choices": [1, 2, 4], "required": True},
            {"name": "mode", "type": "str", "choices": ["fast", "slow"]},
            {"name": "ratio", "type": "float", "choices": [0.5, 1]},
            {"name": "level", "type": "enum", "choices": [0, "max", None, [1]]},
            {"name": "shape", "type": "list", "choices": [[1, 2], [3]]},
            {"name": "blob", "type": "json", "required": True, "default": 5},
            {"name": "bucket", "type": "str", "pattern": "s3://[a-z]+"},
            {"name": "device", "type": "enum", "choices": ["cpu", 0], "allow_other": True},
        ],
    }
)


def test_every_parameter_type_maps_to_its_json_schema() -> None:
    schema = parameters_schema(EVERY_KIND)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert (schema["title"], schema["x-template"]) == ("every-kind", "every-kind@3")
    assert schema["description"] == "one parameter of each type"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    # Required: a default makes `required` moot, as in check_args.
    assert schema["required"] == ["title", "size"]
    assert schema["x-groups"] == ["code", "training"]
    props = schema["properties"]
    assert list(props) == [p.name for p in EVERY_KIND.parameters]
    assert [p["x-order"] for p in props.values()] == list(range(len(EVERY_KIND.parameters)))
    assert props["title"] == {
        "type": "string",
        "description": "Shown",
        "x-type": "str",
        "x-order": 0,
    }
    assert props["script"] == {
        "type": "string",
        "default": "print(1)",
        "x-type": "text",
        "x-group": "code",
        "x-order": 1,
    }
    assert (props["epochs"]["type"], props["epochs"]["default"]) == ("integer", 10)
    assert (props["lr"]["type"], props["lr"]["x-group"]) == ("number", "training")
    assert (props["verbose"]["type"], props["verbose"]["default"]) == ("boolean", False)
    assert props["optimizer"]["enum"] == ["sgd", "adam"] and "type" not in props["optimizer"]
    assert (props["layers"]["type"], props["layers"]["default"]) == ("array", [64, 32])
    assert "type" not in props["config"] and props["config"]["x-type"] == "json"
    assert (props["size"]["type"], props["size"]["enum"]) == ("integer", [1, 2, 4])
    assert (props["mode"]["type"], props["mode"]["enum"]) == ("string", ["fast", "slow"])
    assert props["level"]["enum"] == [0, "max", None, [1]]
    # A list's choices are offered, not enforced (check_args does not): examples, not enum.
    assert props["shape"]["examples"] == [[1, 2], [3]] and "enum" not in props["shape"]


def test_a_template_without_parameters_takes_an_empty_args_object() -> None:
    schema = parameters_schema(TemplateSpec.model_validate({"name": "bare", "command": "true"}))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"] == {} and schema["required"] == []
    assert "description" not in schema
    jsonschema.validate({}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"x": 1}, schema)


SAMPLES: list[Any] = [
    0,
    1,
    4,
    -3,
    2.5,
    0.5,
    True,
    False,
    "",
    "sgd",
    "fast",
    "max",
    "s3://data",
    "s3://data/x",
    "xs3://data",
    "cuda:1",
    None,
    [],
    [1],
    [1, 2],
    [64, "a"],
    {},
    {"a": 1},
]


REQUIRED = {"title": "t", "size": 2}  # EVERY_KIND's required parameters, filled in


@pytest.mark.parametrize("param", EVERY_KIND.parameters, ids=lambda p: p.name)
def test_the_schema_accepts_what_check_args_accepts(param: Any) -> None:
    schema = parameters_schema(EVERY_KIND)
    whole = jsonschema.Draft202012Validator(schema)
    one = jsonschema.Draft202012Validator(schema["properties"][param.name])
    for value in SAMPLES:  # True is not the choice 1 for either (nor False 0)
        args = {**REQUIRED, param.name: value}
        accepted = not check_args(EVERY_KIND, args, "args")
        assert one.is_valid(value) == accepted, (param.name, value)
        assert whole.is_valid(args) == accepted, (param.name, value)


def test_missing_required_and_unknown_args_are_refused_by_both() -> None:
    schema = parameters_schema(EVERY_KIND)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(REQUIRED) and not check_args(EVERY_KIND, REQUIRED, "args")
    for bad in ({"title": "t"}, {**REQUIRED, "nope": 1}):
        assert not validator.is_valid(bad)
        assert check_args(EVERY_KIND, bad, "args")


def _shipped() -> list[Path]:
    return sorted(BUILTIN_DIR.glob("*.yaml")) + sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("file", _shipped(), ids=lambda f: f.name)
def test_the_shipped_templates_give_valid_schemas_their_defaults_satisfy(file: Path) -> None:
    template = TemplateSpec.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
    schema = parameters_schema(template)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert list(schema["properties"]) == [p.name for p in template.parameters]
    form = {p.name: p.default for p in template.parameters if p.default is not None}
    form.update(dict.fromkeys(schema["required"], "echo hi"))
    assert jsonschema.Draft202012Validator(schema).is_valid(form)
    assert not check_args(template, form, "args")
