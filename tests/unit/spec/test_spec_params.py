"""Resolving a run's parameter values (cubestudio.spec.params)."""

from __future__ import annotations

from typing import Any

import pytest

from cubestudio.errors import SpecError
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.params import parse_assignments, resolve_params


def spec_with(params: dict[str, Any]) -> PipelineSpec:
    return pipeline_from_data(
        {"name": "p", "params": params, "tasks": [{"name": "a", "command": "echo"}]}
    )


SPEC = spec_with(
    {
        "lr": 0.01,
        "epochs": 3,
        "debug": False,
        "tag": "v1",
        "ratio": {"type": "float", "default": 1},
    }
)


def resolve_errors(spec: PipelineSpec, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as info:
        resolve_params(spec, overrides)
    return [str(e) for e in info.value.errors]


def test_defaults() -> None:
    assert resolve_params(SPEC, {}) == {
        "lr": 0.01,
        "epochs": 3,
        "debug": False,
        "tag": "v1",
        "ratio": 1,
    }


def test_no_params() -> None:
    assert resolve_params(spec_with({}), {}) == {}


def test_overrides_are_coerced() -> None:
    values = resolve_params(
        SPEC, {"lr": "0.5", "epochs": " 7 ", "debug": "yes", "tag": "v2", "ratio": "2"}
    )
    assert values == {"lr": 0.5, "epochs": 7, "debug": True, "tag": "v2", "ratio": 2.0}
    assert type(values["lr"]) is float
    assert type(values["epochs"]) is int
    assert type(values["ratio"]) is float
    assert values["debug"] is True


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("off", False),
    ],
)
def test_bool_words(text: str, value: bool) -> None:
    assert resolve_params(SPEC, {"debug": text})["debug"] is value


def test_string_override_is_kept_verbatim() -> None:
    assert resolve_params(SPEC, {"tag": "  spaced  "})["tag"] == "  spaced  "


def test_float_accepts_scientific_notation() -> None:
    assert resolve_params(SPEC, {"lr": "1e-3"})["lr"] == 0.001


def test_bad_values() -> None:
    assert resolve_errors(SPEC, {"lr": "abc", "epochs": "1.5", "debug": "maybe"}) == [
        "params.lr: 'abc' is not a float",
        "params.epochs: '1.5' is not an int",
        "params.debug: 'maybe' is not a bool (use true or false)",
    ]


def test_unknown_param_with_suggestion() -> None:
    assert resolve_errors(SPEC, {"lrr": "0.1"}) == [
        "params.lrr: the pipeline has no parameter (did you mean 'lr'?)"
    ]


def test_unknown_param_lists_declared() -> None:
    assert resolve_errors(SPEC, {"zzz": "1"}) == [
        "params.zzz: the pipeline has no parameter (declared: lr, epochs, debug, tag, ratio)"
    ]


def test_unknown_param_when_none_declared() -> None:
    assert resolve_errors(spec_with({}), {"x": "1"}) == [
        "params.x: the pipeline has no parameter (it declares none)"
    ]


def test_required_param_missing() -> None:
    spec = spec_with({"data": {"type": "str"}, "n": {"type": "int", "description": "count"}})
    assert resolve_errors(spec, {}) == [
        "params.data: required: give it with --param data=VALUE",
        "params.n: required: give it with --param n=VALUE",
    ]
    assert resolve_params(spec, {"data": "s3://x", "n": "4"}) == {"data": "s3://x", "n": 4}


def test_short_form_null_is_required() -> None:
    spec = spec_with({"data": None})
    assert resolve_errors(spec, {}) == ["params.data: required: give it with --param data=VALUE"]


def test_all_errors_at_once() -> None:
    spec = spec_with({"need": {"type": "int"}, "lr": 0.1})
    assert resolve_errors(spec, {"lr": "x", "nede": "1"}) == [
        "params.lr: 'x' is not a float",
        "params.nede: the pipeline has no parameter (did you mean 'need'?)",
        "params.need: required: give it with --param need=VALUE",
    ]


def test_typed_values_pass_through() -> None:
    assert resolve_params(SPEC, {"epochs": 5, "debug": True})["epochs"] == 5


# --- parse_assignments -------------------------------------------------------------------------


def test_parse_assignments() -> None:
    assert parse_assignments(["lr=0.1", "epochs=3"]) == {"lr": "0.1", "epochs": "3"}


def test_parse_assignments_edge_cases() -> None:
    assert parse_assignments([]) == {}
    assert parse_assignments(["x=a=b"]) == {"x": "a=b"}
    assert parse_assignments([" lr =1"]) == {"lr": "1"}
    assert parse_assignments(["tag="]) == {"tag": ""}
    assert parse_assignments(["lr=1", "lr=2"]) == {"lr": "2"}


@pytest.mark.parametrize("item", ["lr", "=3", " =3", ""])
def test_parse_assignments_refuses_items_without_a_name(item: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_assignments(["ok=1", item])
    assert str(info.value) == f"--param: {item!r} is not NAME=VALUE (e.g. lr=0.1)"


def test_assignments_feed_resolve() -> None:
    values = resolve_params(SPEC, parse_assignments(["epochs=10", "debug=on"]))
    assert values["epochs"] == 10
    assert values["debug"] is True
