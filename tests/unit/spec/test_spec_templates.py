"""Job templates in the spec layer: the template model, args against its schema, inputs."""

from __future__ import annotations

from typing import Any

import pytest

from cubestudio.errors import SpecError
from cubestudio.spec.loader import load_template_text, pipeline_from_data
from cubestudio.spec.template import TemplateSpec, parse_ref

TRAINER = {
    "name": "trainer",
    "version": 2,
    "command": "train --epochs {{ args.epochs }} --opt {{ args.optimizer }}",
    "parameters": [
        {"name": "epochs", "type": "int", "required": True},
        {"name": "optimizer", "type": "enum", "choices": ["sgd", "adam"], "default": "sgd"},
        {"name": "layers", "type": "list", "default": []},
        {"name": "config", "type": "json", "default": {}},
    ],
}


class Catalog:
    def __init__(self, *templates: dict[str, Any]) -> None:
        self.templates = [TemplateSpec.model_validate(t) for t in templates]

    def resolve(self, name: str, version: int | None) -> TemplateSpec:
        for template in self.templates:
            if template.name == name and version in (None, template.version):
                return template
        raise LookupError(f"unknown template '{name}'")


def _errors(data: dict[str, Any], catalog: Catalog | None = None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        pipeline_from_data(data, catalog=catalog or Catalog(TRAINER))
    return [str(e) for e in caught.value.errors]


def _pipeline(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {"name": "p", "tasks": list(tasks)}


def test_args_are_checked_against_the_schema() -> None:
    data = _pipeline(
        {"name": "prep", "command": "true"},
        {"name": "fit", "template": "trainer", "args": {"epochs": "ten", "optimiser": "adam"}},
    )
    assert _errors(data) == [
        "tasks[1].args.epochs: 'ten' is not an int",
        "tasks[1].args.optimiser: template trainer@2 has no parameter (did you mean 'optimizer'?)",
    ]


def test_missing_required_arg_and_bad_choice() -> None:
    data = _pipeline({"name": "fit", "template": "trainer@2", "args": {"optimizer": "rmsprop"}})
    assert _errors(data) == [
        "tasks[0].args.optimizer: 'rmsprop' is not one of the choices: 'sgd', 'adam'",
        "tasks[0].args.epochs: required by template trainer@2: give args.epochs",
    ]


def test_template_expressions_in_args_are_checked_when_the_task_runs() -> None:
    spec = pipeline_from_data(
        {
            "name": "p",
            "params": {"epochs": 3},
            "tasks": [
                {"name": "fit", "template": "trainer", "args": {"epochs": "{{ params.epochs }}"}}
            ],
        },
        catalog=Catalog(TRAINER),
    )
    assert spec.tasks[0].args == {"epochs": "{{ params.epochs }}"}
    bad = _pipeline({"name": "fit", "template": "trainer", "args": {"epochs": "{{ param.e }}"}})
    assert _errors(bad) == [
        "tasks[0].args.epochs: unknown template variable 'param' (did you mean 'params'?)"
    ]


def test_unknown_template_or_version() -> None:
    data = _pipeline({"name": "fit", "template": "trainer@9", "args": {"epochs": 1}})
    assert _errors(data) == ["tasks[0].template: unknown template 'trainer'"]


def test_command_or_template_not_both() -> None:
    both = _pipeline({"name": "a", "command": "x", "template": "trainer"})
    assert _errors(both) == [
        "tasks[0]: give either command or template, not both (put the command in args)"
    ]
    args_only = _pipeline({"name": "a", "command": "x", "args": {"epochs": 1}})
    assert _errors(args_only) == ["tasks[0]: args go with a template; a command task has none"]


def test_inputs_refer_to_upstream_artifacts() -> None:
    producer = {
        "name": "train",
        "command": "true",
        "outputs": [{"name": "model", "type": "file"}, "score"],
    }
    assert _errors(
        _pipeline(producer, {"name": "ev", "command": "true", "inputs": ["train.model"]})
    ) == ["tasks[1].inputs[0]: task 'train' is not upstream of 'ev'; add 'train' to its depends"]
    consumer = {"name": "ev", "command": "true", "depends": ["train"]}
    assert _errors(_pipeline(producer, {**consumer, "inputs": ["train.modle"]})) == [
        "tasks[1].inputs[0]: task 'train' declares no output 'modle' (did you mean 'model'?) "
        "(its outputs: model, score)"
    ]
    assert _errors(_pipeline(producer, {**consumer, "inputs": ["train.score"]})) == [
        "tasks[1].inputs[0]: 'train.score' is a parameter output: use "
        "{{ tasks.train.outputs.score }} instead of inputs"
    ]
    assert _errors(_pipeline(producer, {**consumer, "inputs": ["trian.model"]})) == [
        "tasks[1].inputs[0]: unknown task 'trian' (did you mean 'train'?)"
    ]
    renamed = {**consumer, "inputs": [{"from": "train.model", "name": "weights"}]}
    spec = pipeline_from_data(_pipeline(producer, renamed))
    assert spec.tasks[1].inputs[0].as_name == "weights"
    assert spec.to_data()["tasks"][1]["inputs"] == [{"from": "train.model", "name": "weights"}]


def test_input_names_cannot_climb_out() -> None:
    producer = {"name": "a", "command": "true", "outputs": [{"name": "f", "type": "file"}]}
    bad = {
        "name": "b",
        "command": "true",
        "depends": ["a"],
        "inputs": [{"from": "a.f", "name": "../x"}],
    }
    (error,) = _errors(_pipeline(producer, bad))
    assert error.startswith("tasks[1].inputs[0].name: '../x' is not a valid name")


def test_a_file_artifact_is_not_a_template_value() -> None:
    producer = {"name": "a", "command": "true", "outputs": [{"name": "f", "type": "file"}]}
    user = {"name": "b", "command": "cat {{ tasks.a.outputs.f }}", "depends": ["a"]}
    assert _errors(_pipeline(producer, user)) == [
        "tasks[1].command: 'tasks.a.outputs.f' is a file artifact: receive it with inputs: [a.f]"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"command": "x {{ args.epoch }}", "parameters": [{"name": "epochs"}]},
            "'args.epoch', which is not a parameter (did you mean 'epochs'?)",
        ),
        (
            {"parameters": [{"name": "e", "type": "enum"}]},
            "parameter 'e' is an enum: give its choices",
        ),
        (
            {"parameters": [{"name": "e", "type": "int", "default": "x"}]},
            "default of 'e': 'x' is not an int",
        ),
        ({"parameters": [{"name": "e", "type": "float64"}]}, "'float64' is not a parameter type"),
        ({"parameters": [{"name": "e"}, {"name": "e"}]}, "parameter 'e' is declared twice"),
        ({"distributed": "spark"}, "distributed"),
        ({"volumes": [{"source": "/d", "target": "data"}]}, "volumes[0].target"),
    ],
)
def test_bad_template_files_name_the_field(change: dict[str, Any], message: str) -> None:
    import yaml

    data = {"name": "t", "command": "x", **change}
    with pytest.raises(SpecError) as caught:
        load_template_text(yaml.safe_dump(data), source="t.yaml")
    assert message in str(caught.value)


def test_template_refs() -> None:
    assert parse_ref("trainer") == ("trainer", None)
    assert parse_ref("trainer@12") == ("trainer", 12)
    with pytest.raises(ValueError, match="NAME@VERSION"):
        parse_ref("Trainer@x")


def test_the_sdk_uses_templates_too() -> None:
    from cubestudio import Pipeline, Task

    with Pipeline("sdk", params={"e": 3}) as p:
        prep = Task("prep", command="true", outputs=[{"name": "data", "type": "folder"}])
        fit = Task(
            "fit", template="trainer@2", args={"epochs": "{{ params.e }}"}, inputs=["prep.data"]
        )
        prep >> fit
    spec = p.build(Catalog(TRAINER))
    assert spec.tasks[1].template == "trainer@2"
    assert spec.tasks[1].args == {"epochs": "{{ params.e }}"}
    assert spec.tasks[1].inputs[0].source == "prep.data"
    with Pipeline("sdk-bad") as bad:
        Task("fit", template="trainer", args={"epochs": "x"})
    with pytest.raises(SpecError, match=r"tasks\[0\].args.epochs: 'x' is not an int"):
        bad.build(Catalog(TRAINER))
