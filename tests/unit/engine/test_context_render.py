"""Rendering a task when it starts (engine/context.py): strings inside args at any depth
(issue 10, item 6), the workdir and the pipeline's folder (item 9), and the renderer process
only when something needs rendering (item 5)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from cubestudio.engine.context import RenderedTask, render_task, run_variables
from cubestudio.engine.lifecycle import create_run, load_controller
from cubestudio.engine.nodes import TaskNode
from cubestudio.errors import RenderError
from cubestudio.spec.loader import load_pipeline, load_pipeline_text
from cubestudio.spec.model import TaskSpec
from cubestudio.spec.renderer import Renderer
from cubestudio.spec.template import TemplateSpec
from tests.unit.engine.conftest import T0, Harness

NESTED_LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
SCRIPT = TemplateSpec.model_validate(
    {
        "name": "script",
        "version": 1,
        "command": "run {{ args.arguments | map('quote') | join(' ') }} {{ args.config | tojson }}"
        " {{ args.epochs + 1 }}",
        "parameters": [
            {"name": "arguments", "type": "list", "default": []},
            {"name": "config", "type": "json", "default": {}},
            {"name": "epochs", "type": "int", "default": 1},
        ],
    }
)


def base(pipeline_dir: str | None = "/proj") -> dict[str, Any]:
    return run_variables(
        run_id="r1",
        pipeline_id=1,
        pipeline_name="p",
        creator="alice",
        runner="alice",
        cluster_name="local",
        execution_date="2026-01-01 00:00:00",
        params={"lr": 0.5, "name": "a b"},
        pipeline_dir=pipeline_dir,
    )


def node(**fields: Any) -> TaskNode:
    return TaskNode(
        spec=TaskSpec.model_validate({"name": "t", **fields}), position=0, is_exit=False
    )


def rendered(task: TaskNode, template: TemplateSpec | None = None, **kw: Any) -> RenderedTask:
    return render_task(task, kw.pop("base", base()), {}, {"t": task}, None, template, **kw)


class NoRenderer(Renderer):
    """Fails if asked: a task without templates must never reach the renderer process."""

    def render_many(
        self, texts: Sequence[str], context: Mapping[str, Any], names: Sequence[str] | None = None
    ) -> list[str]:
        raise AssertionError(f"renderer used for {texts}")


def test_the_context_is_plain_json() -> None:
    assert json.loads(json.dumps(base())) == base()


def test_a_task_without_templates_never_starts_the_renderer() -> None:
    task = node(command="echo hi", env={"A": "1"}, workdir="sub")
    out = rendered(task, renderer=NoRenderer(1.0))
    assert out == RenderedTask("echo hi", {"A": "1"}, "/proj/sub")


def test_strings_inside_list_and_json_args_are_rendered() -> None:
    task = node(
        template="script",
        args={
            "arguments": ["--lr", "{{ params.lr }}", "--name", "{{ params.name }}"],
            "config": {"data": {"dir": "{{ pipeline_dir }}/data"}, "tags": ["{{ run_id }}", 3]},
            "epochs": "{{ 2 + 1 }}",
        },
    )
    out = rendered(task, SCRIPT)
    assert out.command == (
        "run --lr 0.5 --name 'a b' "
        '{"data": {"dir": "/proj/data"}, "tags": ["r1", 3]} 4'  # epochs became the int 3
    )


def test_an_arg_that_fails_names_its_path() -> None:
    task = node(template="script", args={"config": {"data": ["ok", "{{ nope }}"]}})
    with pytest.raises(RenderError) as info:
        rendered(task, SCRIPT)
    assert str(info.value) == "args.config.data[1]: unknown template variable 'nope'"


def test_a_rendered_arg_of_the_wrong_type_fails() -> None:
    task = node(template="script", args={"epochs": "{{ params.name }}"})
    with pytest.raises(RenderError) as info:
        rendered(task, SCRIPT)
    assert str(info.value) == "args.epochs: 'a b' is not a int"


@pytest.mark.parametrize(
    ("workdir", "expected"),
    [
        ("scripts", "/proj/scripts"),
        (".", "/proj"),
        ("../data/./x", "/data/x"),
        ("/srv/data", "/srv/data"),
        ("{{ pipeline_dir }}/{{ params.lr }}", "/proj/0.5"),
        ("runs/{{ run_id }}", "/proj/runs/r1"),
    ],
)
def test_the_workdir_is_absolute_and_starts_at_the_pipeline_folder(
    workdir: str, expected: str
) -> None:
    assert rendered(node(command="true", workdir=workdir)).workdir == expected


def test_no_workdir_means_the_attempts_own_folder() -> None:
    assert rendered(node(command="echo {{ pipeline_dir }}")) == RenderedTask("echo /proj", {}, None)


def test_a_relative_workdir_without_a_pipeline_folder_fails_the_task() -> None:
    task = node(command="true", workdir="{{ params.name }}")
    with pytest.raises(RenderError) as info:
        rendered(task, base=base(None))
    assert str(info.value) == (
        "workdir 'a b' is relative, and this run's pipeline has no file whose folder it could "
        "start from: give an absolute path"
    )


def test_a_workdir_that_renders_empty_fails_the_task() -> None:
    with pytest.raises(RenderError, match="^workdir rendered to an empty path: give a folder$"):
        rendered(node(command="true", workdir="{{ '' }}"))


# --- through the controller ----------------------------------------------------------------------


def test_the_run_remembers_the_pipeline_folder(harness: Harness, tmp_path: Path) -> None:
    file = tmp_path / "pipeline.yaml"
    file.write_text(
        textwrap.dedent(
            """
            name: w
            tasks:
              - {name: a, command: "echo {{ pipeline_dir }}", workdir: scripts}
              - {name: b, command: "true", depends: [a]}
            """
        )
    )
    spec = load_pipeline(file)
    run_id = create_run(harness.db, spec=spec, params={}, now=T0)
    # A fresh engine (as `cube resume` or `cube retry` makes) reads the folder back from the
    # run's snapshot, wherever it is started from.
    harness.ctl = load_controller(harness.db, harness.driver, run_id, kill_grace=5)
    harness.ctl.start(T0)
    folder = str(tmp_path.resolve())
    first = harness.driver.launched[0]
    assert first.command == f"echo {folder}"
    assert first.workdir == f"{folder}/scripts"
    assert first.env["CUBE_PIPELINE_DIR"] == folder
    harness.finish("a", 0)
    second = harness.driver.launched[1]
    assert second.workdir is None and second.env["CUBE_PIPELINE_DIR"] == folder


def test_a_pipeline_without_a_file_has_an_empty_folder(harness: Harness) -> None:
    harness.start("name: n\ntasks:\n  - {name: a, command: 'echo [{{ pipeline_dir }}]'}\n")
    request = harness.driver.launched[0]
    assert request.command == "echo []" and request.env["CUBE_PIPELINE_DIR"] == ""
    assert load_pipeline_text("name: n\ntasks: [{name: a, command: x}]").pipeline_dir is None


def test_a_template_over_budget_fails_its_task_and_not_the_engine(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cubestudio.engine.context as context

    quick = Renderer(timeout=0.5)
    monkeypatch.setattr(context, "_renderer", quick)
    try:
        harness.start(
            "name: b\ntasks:\n"
            f"  - {{name: bad, command: '{NESTED_LOOP}'}}\n"
            "  - {name: good, command: 'echo {{ run_id }}'}\n"
        )
    finally:
        quick.close()
    assert harness.launched() == ["good"]
    assert harness.status() == {"bad": "failed", "good": "running"}
    assert harness.ctl.by_name["bad"].message == (
        "cannot render the task's templates: rendering took longer than 0.5s (the template "
        "budget): simplify the template"
    )
