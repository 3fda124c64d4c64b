"""The Python SDK builds the same PipelineSpec as YAML (cubestudio.spec.sdk)."""

from __future__ import annotations

import pytest

from cubestudio.errors import SpecError
from cubestudio.spec.loader import load_pipeline_text
from cubestudio.spec.model import Trigger
from cubestudio.spec.sdk import Pipeline, Task

DIAMOND_YAML = """\
name: diamond
params:
  lr: 0.01
tasks:
  - name: prepare
    command: echo prep
    outputs: [rows]
  - name: train
    command: echo {{ params.lr }}
    depends: [prepare]
    retries: 2
    retry_delay: 10s
  - name: baseline
    command: echo base
    depends: [prepare]
  - name: report
    command: echo "{{ tasks.prepare.outputs.rows }}"
    depends: [train, baseline]
    trigger: all_done
on_exit:
  name: notify
  command: echo {{ run_status }}
"""


def build_diamond() -> Pipeline:
    with Pipeline("diamond", params={"lr": 0.01}) as p:
        prepare = Task("prepare", command="echo prep", outputs=["rows"])
        train = Task(
            "train", command="echo {{ params.lr }}", depends=[prepare], retries=2, retry_delay="10s"
        )
        baseline = Task("baseline", command="echo base")
        report = Task(
            "report", command=f'echo "{prepare.output("rows")}"', trigger=Trigger.ALL_DONE
        )
        prepare >> baseline
        train >> report
        baseline >> report
        Task("notify", command="echo {{ run_status }}", on_exit=True)
    return p


def test_sdk_builds_the_same_spec_as_yaml() -> None:
    assert build_diamond().build() == load_pipeline_text(DIAMOND_YAML)


def test_rshift_variants() -> None:
    with Pipeline("p") as p:
        a = Task("a", command="echo")
        b = Task("b", command="echo")
        c = Task("c", command="echo")
        d = Task("d", command="echo")
        assert (a >> [b, c]) == [b, c]
        assert (b >> d) is d
        c >> d
        a >> b  # already there: not added twice
    assert [t.depends for t in p.tasks] == [[], ["a"], ["a"], ["b", "c"]]
    spec = p.build()
    assert [t.depends for t in spec.tasks] == [[], ["a"], ["a"], ["b", "c"]]


def test_depends_by_name_and_task() -> None:
    with Pipeline("p") as p:
        a = Task("a", command="echo")
        Task("b", command="echo", depends=[a, "a"])
        Task("c", command="echo", depends=["b"])
    assert [t.depends for t in p.build().tasks] == [[], ["a", "a"], ["b"]]


def test_duplicate_task_name_raises_at_once() -> None:
    with Pipeline("p") as p:
        Task("a", command="echo")
        with pytest.raises(SpecError) as info:
            Task("a", command="echo again")
    assert str(info.value) == "tasks: duplicate task name 'a' in pipeline p"
    assert [t.name for t in p.tasks] == ["a"]


def test_on_exit_name_clash_raises_at_once() -> None:
    with Pipeline("p"):
        Task("notify", command="echo", on_exit=True)
        with pytest.raises(SpecError) as info:
            Task("notify", command="echo")
    assert str(info.value) == "tasks: duplicate task name 'notify' in pipeline p"


def test_second_on_exit_task_raises() -> None:
    with Pipeline("p") as p:
        Task("a", command="echo")
        Task("z", command="echo", on_exit=True)
        with pytest.raises(SpecError) as info:
            Task("z2", command="echo", on_exit=True)
    assert str(info.value) == "on_exit: a pipeline has one on_exit task"
    assert p.exit_task is not None and p.exit_task.name == "z"


def test_task_outside_a_pipeline_raises() -> None:
    with pytest.raises(SpecError) as info:
        Task("x", command="echo")
    assert str(info.value) == "Task('x') must be created inside a Pipeline"


def test_task_after_the_with_block_raises() -> None:
    with Pipeline("p"):
        Task("a", command="echo")
    with pytest.raises(SpecError, match=r"^Task\('b'\) must be created inside a Pipeline$"):
        Task("b", command="echo")


def test_nested_pipelines_restore_the_outer_one() -> None:
    with Pipeline("outer") as outer:
        Task("a", command="echo")
        with Pipeline("inner") as inner:
            Task("b", command="echo")
        Task("c", command="echo")
    assert [t.name for t in outer.tasks] == ["a", "c"]
    assert [t.name for t in inner.tasks] == ["b"]


def test_output_reference() -> None:
    with Pipeline("p"):
        count = Task("count", command="echo", outputs=["rows"])
    assert count.output("rows") == "{{ tasks.count.outputs.rows }}"


def test_output_reference_validates() -> None:
    with Pipeline("p") as p:
        count = Task("count", command="echo", outputs=["rows"])
        Task("report", command="echo " + count.output("rows"))
    with pytest.raises(SpecError) as info:
        p.build()
    assert str(info.value) == (
        "tasks[1].command: 'tasks.count.outputs.rows': task 'count' is not upstream of "
        "'report'; add 'count' to its depends"
    )


def test_on_exit_task() -> None:
    with Pipeline("p") as p:
        Task("a", command="echo")
        notify = Task("notify", command="echo {{ run_status }}", on_exit=True)
    assert p.exit_task is notify
    assert [t.name for t in p.tasks] == ["a"]
    spec = p.build()
    assert spec.on_exit is not None
    assert spec.on_exit.name == "notify"
    assert spec.on_exit.command == "echo {{ run_status }}"
    assert [t.name for t in spec.all_tasks()] == ["a", "notify"]


def test_to_data() -> None:
    with Pipeline("p", description="d", parallelism=2) as p:
        a = Task("a", command=["echo", "hi"], retries=1)
        a >> Task("b", command="echo")
    assert p.to_data() == {
        "name": "p",
        "description": "d",
        "parallelism": 2,
        "tasks": [
            {"name": "a", "command": ["echo", "hi"], "retries": 1},
            {"name": "b", "command": "echo", "depends": ["a"]},
        ],
    }


def test_to_yaml_round_trips() -> None:
    p = build_diamond()
    text = p.to_yaml()
    assert text.startswith("name: diamond\n")
    assert load_pipeline_text(text) == p.build()
    assert load_pipeline_text(text) == load_pipeline_text(DIAMOND_YAML)


def test_build_reports_field_errors() -> None:
    with Pipeline("Bad_Name") as p:
        Task("a", command="echo", retires=1)
    with pytest.raises(SpecError) as info:
        p.build()
    assert [str(e) for e in info.value.errors] == [
        "name: 'Bad_Name' is not a valid name: "
        "use lowercase letters, digits and '-' (e.g. 'daily-train')",
        "tasks[0]: unknown field 'retires' (did you mean 'retries'?)",
    ]


def test_build_reports_cycles() -> None:
    with Pipeline("p") as p:
        a = Task("a", command="echo")
        b = Task("b", command="echo")
        a >> b
        b >> a
    with pytest.raises(SpecError) as info:
        p.build()
    assert str(info.value) == (
        "tasks[1].depends: dependency cycle: b -> a -> b; remove one of these dependencies"
    )


def test_empty_pipeline_cannot_build() -> None:
    with Pipeline("p") as p:
        pass
    with pytest.raises(SpecError) as info:
        p.build()
    assert str(info.value) == "tasks: a pipeline needs at least one task"
