"""A parameter's `pattern` (a str or text value must match it whole) and `allow_other` (an
enum whose choices are suggestions): checked when a template is registered and on every args."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cubestudio.spec.template import TemplateSpec, check_args


def _template(*params: dict[str, Any]) -> TemplateSpec:
    return TemplateSpec.model_validate(
        {"name": "t", "version": 1, "command": "run", "parameters": list(params)}
    )


def test_a_value_must_match_the_pattern_whole() -> None:
    template = _template({"name": "bucket", "type": "str", "pattern": "s3://[a-z]+"})
    assert check_args(template, {"bucket": "s3://data"}, "args") == []
    for bad in ("s3://data/x", "xs3://data", "S3://DATA"):
        (problem,) = check_args(template, {"bucket": bad}, "args")
        assert problem.path == "args.bucket"
        assert "does not match the pattern s3://[a-z]+" in problem.message
    # a template expression is checked once rendered, as for every type
    assert check_args(template, {"bucket": "{{ params.bucket }}"}, "args") == []


def test_an_enum_that_allows_other_values_takes_any_string_but_keeps_its_choices() -> None:
    template = _template(
        {"name": "device", "type": "enum", "choices": ["cpu", 0], "allow_other": True}
    )
    for good in ("cpu", "cuda:1", 0):
        assert check_args(template, {"device": good}, "args") == [], good
    (problem,) = check_args(template, {"device": 3}, "args")
    assert "neither one of the choices nor a string" in problem.message


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ({"name": "p", "type": "str", "pattern": "(unclosed"}, "is not a regular expression"),
        ({"name": "p", "type": "int", "pattern": "[0-9]+"}, "a pattern is for str and text"),
        ({"name": "p", "type": "str", "allow_other": True}, "allow_other is for an enum"),
        ({"name": "p", "type": "str", "pattern": "[a-z]+", "default": "A1"}, "default of 'p'"),
    ],
)
def test_a_template_with_a_wrong_rule_is_refused_with_the_reason(
    param: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        _template(param)


def test_templates_without_the_new_keys_keep_their_data() -> None:
    data = _template({"name": "p", "type": "str"}).to_data()
    assert data["parameters"] == [{"name": "p"}]
