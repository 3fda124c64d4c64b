"""The built-in distributed templates (templates/pytorch-ddp, tf-dist, mpi and ray): each
loads, uses every parameter in its command or is read by the engine, renders the command
each member runs, has defaults the engine's launch plan takes, and refuses bad args with the
field's path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cubestudio.engine.context import render_task, run_variables
from cubestudio.engine.distributed import SequentialPorts, plan_for
from cubestudio.engine.nodes import TaskNode
from cubestudio.errors import SpecError
from cubestudio.spec.loader import load_pipeline, pipeline_from_data
from cubestudio.spec.model import Resources, TaskSpec
from cubestudio.spec.render import referenced_names
from cubestudio.spec.template import TemplateSpec
from cubestudio.templates import builtin_templates

KINDS = {"pytorch-ddp": "pytorch", "tf-dist": "tensorflow", "mpi": "mpi", "ray": "ray"}
# The args the engine reads from a distributed task, rather than the command
ENGINE_READS = {"workers", "ps", "nproc_per_worker", "slots", "on_failure", "max_restarts"}
PYTHON = "${CUBE_PYTHON:-python3}"
EXAMPLE = Path(__file__).parents[3] / "examples" / "ddp-train.yaml"


class Builtins:
    """The built-in templates as a catalog, as the store's registry resolves them."""

    def resolve(self, name: str, version: int | None) -> TemplateSpec:
        for template in builtin_templates():
            if template.name == name:
                return template
        raise LookupError(f"unknown template '{name}'")


def builtin(name: str) -> TemplateSpec:
    return Builtins().resolve(name, None)


def render(name: str, args: dict[str, Any]) -> str:
    base = run_variables(
        run_id="r1",
        pipeline_id=1,
        pipeline_name="p",
        creator="alice",
        runner="alice",
        cluster_name="local",
        execution_date="2026-01-01 00:00:00",
        params={"epochs": 3},
        pipeline_dir="/proj",
    )
    spec = TaskSpec.model_validate({"name": "train", "template": name, "args": args})
    node = TaskNode(spec=spec, position=0, is_exit=False)
    return render_task(node, base, {}, {"train": node}, None, builtin(name)).command


def errors_of(name: str, args: dict[str, Any]) -> list[str]:
    data = {"name": "p", "tasks": [{"name": "train", "template": name, "args": args}]}
    with pytest.raises(SpecError) as caught:
        pipeline_from_data(data, catalog=Builtins())
    return [str(e) for e in caught.value.errors]


def test_each_kind_has_its_builtin_in_the_distributed_category() -> None:
    found = {t.name: t for t in builtin_templates() if t.distributed != "none"}
    assert {name: t.distributed for name, t in found.items()} == KINDS
    for template in found.values():
        assert template.category == "distributed"
        assert template.description and template.image
        assert all(p.description for p in template.parameters), template.name


@pytest.mark.parametrize("name", KINDS)
def test_every_parameter_is_used_by_the_command_or_read_by_the_engine(name: str) -> None:
    template = builtin(name)
    _, chains = referenced_names(template.command)
    used = {chain[1] for chain in chains if chain[0] == "args" and len(chain) > 1}
    declared = {p.name for p in template.parameters}
    assert declared - ENGINE_READS == used
    assert "workers" in declared and "on_failure" in declared and "max_restarts" in declared


@pytest.mark.parametrize(
    ("name", "args", "command"),
    [
        (
            "pytorch-ddp",
            {"script": "{{ pipeline_dir }}/train.py", "script_args": ["--epochs", 3, "a b"]},
            f"{PYTHON} /proj/train.py --epochs 3 'a b'",
        ),
        ("pytorch-ddp", {"script": "train.py", "nproc_per_worker": 4}, f"{PYTHON} train.py"),
        (
            "tf-dist",
            {"script": "my model.py", "ps": 1, "script_args": ["--epochs", "{{ params.epochs }}"]},
            f"{PYTHON} 'my model.py' --epochs 3",
        ),
        ("mpi", {"command": "./allreduce --size 1024", "slots": 2}, "./allreduce --size 1024"),
        (
            "ray",
            {"script": "driver.py", "interpreter": "/opt/venv/bin/python", "workers": 3},
            "/opt/venv/bin/python driver.py",
        ),
    ],
)
def test_the_command_each_member_runs(name: str, args: dict[str, Any], command: str) -> None:
    assert render(name, args) == command


@pytest.mark.parametrize("name", KINDS)
def test_the_defaults_make_a_launch_plan(name: str) -> None:
    template = builtin(name)
    engine_args = {p.name: p.default for p in template.parameters if p.name in ENGINE_READS}
    plan = plan_for(
        template.distributed,
        task_name="train",
        command="true",
        resources=Resources(),
        ports=SequentialPorts(),
        **engine_args,
    )
    assert len(plan.booked()) == engine_args["workers"] == 2
    assert plan.failure.on_failure == "fail_fast" and plan.failure.max_restarts == 0


@pytest.mark.parametrize("name", KINDS)
def test_bad_args_are_refused_with_the_field(name: str) -> None:
    required = {"command": "true"} if name == "mpi" else {"script": "train.py"}
    bad = {**required, "workers": "x", "on_failure": "retry", "max_restarts": 1.5}
    assert errors_of(name, bad) == [
        "tasks[0].args.workers: 'x' is not an int",
        "tasks[0].args.on_failure: 'retry' is not one of the choices: 'fail_fast', 'restart_group'",
        "tasks[0].args.max_restarts: 1.5 is not an int",
    ]
    field = next(iter(required))
    assert errors_of(name, {}) == [
        f"tasks[0].args.{field}: required by template {name}: give args.{field}"
    ]


def test_an_arg_of_another_kind_is_refused() -> None:
    assert errors_of("pytorch-ddp", {"script": "t.py", "ps": 1}) == [
        "tasks[0].args.ps: template pytorch-ddp has no parameter (its parameters: script, "
        "script_args, workers, nproc_per_worker, on_failure, max_restarts, interpreter)"
    ]


def test_the_example_pipeline_runs_the_script_beside_it() -> None:
    spec = load_pipeline(EXAMPLE, Builtins())
    [task] = spec.tasks
    assert task.template == "pytorch-ddp" and task.args["workers"] == 2
    script = str(task.args["script"]).replace("{{ pipeline_dir }}", str(spec.pipeline_dir))
    assert Path(script).is_file()
