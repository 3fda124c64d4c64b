"""Behaviours settled in review: advice that leads somewhere, and limits that hold."""

from __future__ import annotations

import pytest

from cubestudio.errors import RenderError, SpecError
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.params import resolve_params
from cubestudio.spec.quantities import parse_duration
from cubestudio.spec.render import render


def _errors(data: dict[str, object]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        pipeline_from_data(data)
    return [str(e) for e in caught.value.errors]


def test_a_task_using_its_own_output_is_told_so() -> None:
    data = {
        "name": "p",
        "tasks": [{"name": "a", "command": "echo {{ tasks.a.outputs.x }}", "outputs": ["x"]}],
    }
    assert _errors(data) == [
        "tasks[0].command: 'tasks.a.outputs.x': a task cannot use its own outputs"
    ]


def test_outputs_of_the_exit_task_are_not_available() -> None:
    data = {
        "name": "p",
        "tasks": [{"name": "a", "command": "echo {{ tasks.n.outputs.x }}"}],
        "on_exit": {"name": "n", "command": "true", "outputs": ["x"]},
    }
    assert _errors(data) == [
        "tasks[0].command: 'tasks.n.outputs.x': the on_exit task runs last; "
        "no task can use its outputs"
    ]


@pytest.mark.parametrize("cron", ["* * * * * *", "0 0 * * * * 2026", "* * * *"])
def test_cron_needs_exactly_five_fields(cron: str) -> None:
    data = {"name": "p", "schedule": {"cron": cron}, "tasks": [{"name": "a", "command": "x"}]}
    (error,) = _errors(data)
    assert error.startswith(f"schedule.cron: {cron!r} is not a cron expression: use 5 fields")


def test_a_quoted_number_of_seconds_is_a_duration() -> None:
    assert parse_duration("90") == 90.0
    assert parse_duration(" 1.5 ") == 1.5


def test_json_param_values_must_have_the_declared_type() -> None:
    spec = pipeline_from_data(
        {"name": "p", "params": {"epochs": 3, "lr": 1.0}, "tasks": [{"name": "a", "command": "x"}]}
    )
    assert resolve_params(spec, {"lr": 2}) == {"epochs": 3, "lr": 2.0}
    with pytest.raises(SpecError, match=r"params.epochs: 1.5 is not of type int"):
        resolve_params(spec, {"epochs": 1.5})
    with pytest.raises(SpecError, match=r"params.epochs: True is not of type int"):
        resolve_params(spec, {"epochs": True})


def test_rendered_output_is_capped_while_it_is_produced() -> None:
    with pytest.raises(RenderError, match="exceeds 1000000 characters"):
        render("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", {})
    assert render("{% for i in range(3) %}{{ i }}{% endfor %}", {}) == "012"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"secret": True}, "env.TOKEN: a secret has either a value or from_env"),
        ({"secret": True, "value": "x", "from_env": "Y"}, "env.TOKEN: a secret has either"),
        ({"value": "x"}, "env.TOKEN: a mapping in env is a secret: write {secret: true"),
        ({"secret": True, "vaule": "x"}, "env.TOKEN: a mapping in env is a secret"),
    ],
)
def test_bad_secrets_in_env_name_the_env_key(value: dict[str, object], message: str) -> None:
    data = {"name": "p", "env": {"TOKEN": value}, "tasks": [{"name": "a", "command": "x"}]}
    (error,) = _errors(data)
    assert error.startswith(message)


def test_secrets_round_trip_through_the_run_snapshot() -> None:
    data = {
        "name": "p",
        "env": {"A": "1", "T": {"secret": True, "from_env": "T"}},
        "tasks": [{"name": "a", "command": "x"}],
    }
    spec = pipeline_from_data(data)
    assert spec.env == {"A": "1"} and spec.secrets["T"].from_env == "T"
    assert pipeline_from_data(spec.to_data()) == spec
