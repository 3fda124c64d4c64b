"""Issue 10's spec items: strings inside args are templates at any depth (6), the pipeline's
folder and `workdir:` (9), and the rough edges of loading (every unknown field, hyphenated
task names, line numbers of Python pipeline files)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cubestudio.errors import SpecError
from cubestudio.spec.loader import load_pipeline, load_pipeline_text, pipeline_from_data
from cubestudio.spec.model import replace_strings, strings_in
from cubestudio.spec.template import TemplateSpec


class Catalog:
    def __init__(self, *templates: TemplateSpec) -> None:
        self.templates = {t.name: t for t in templates}

    def resolve(self, name: str, version: int | None) -> TemplateSpec:
        return self.templates[name]


SCRIPT = TemplateSpec.model_validate(
    {
        "name": "script",
        "version": 1,
        "command": "run {{ args.arguments | map('quote') | join(' ') }} {{ args.config }}",
        "parameters": [
            {"name": "arguments", "type": "list", "default": []},
            {"name": "config", "type": "json", "default": {}},
        ],
    }
)


def problems(text: str, **kw: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_pipeline_text(textwrap.dedent(text), **kw)
    return [str(e) for e in info.value.errors]


# --- strings inside args -----------------------------------------------------------------------


def test_strings_in_and_replace_strings_walk_every_depth() -> None:
    value = {"a": ["x", 1, {"b": "y", "c": [True, "z"]}], "d": "w", "e": None}
    assert list(strings_in(value)) == [
        (".a[0]", "x"),
        (".a[2].b", "y"),
        (".a[2].c[1]", "z"),
        (".d", "w"),
    ]
    replaced = replace_strings(value, iter(["X", "Y", "Z", "W"]))
    assert replaced == {"a": ["X", 1, {"b": "Y", "c": [True, "Z"]}], "d": "W", "e": None}


def test_names_inside_list_and_json_args_are_validated() -> None:
    text = """
        name: p
        params: {lr: 0.1}
        tasks:
          - {name: prep, command: "true", outputs: [rows]}
          - name: train
            template: script
            depends: [prep]
            args:
              arguments: ["--lr", "{{ params.lrr }}", "--rows", "{{ tasks.prep.outputs.rows }}"]
              config: {data: {path: "{{ tasks.prepp.outputs.rows }}"}, tags: ["{{ run_idd }}"]}
    """
    assert problems(text, catalog=Catalog(SCRIPT)) == [
        "tasks[1].args.arguments[1]: unknown parameter 'params.lrr' (did you mean 'lr'?)",
        "tasks[1].args.config.data.path: 'tasks.prepp.outputs.rows' refers to unknown task "
        "'prepp' (did you mean 'prep'?)",
        "tasks[1].args.config.tags[0]: unknown template variable 'run_idd' "
        "(did you mean 'run_id'?)",
    ]


def test_an_output_used_inside_list_args_needs_the_task_upstream() -> None:
    text = """
        name: p
        tasks:
          - {name: prep, command: "true", outputs: [rows]}
          - {name: train, template: script, args: {arguments: ["{{ tasks.prep.outputs.rows }}"]}}
    """
    assert problems(text, catalog=Catalog(SCRIPT)) == [
        "tasks[1].args.arguments[0]: 'tasks.prep.outputs.rows': task 'prep' is not upstream of "
        "'train'; add 'prep' to its depends"
    ]


# --- hyphenated task names ---------------------------------------------------------------------


def test_hyphenated_task_names_in_references_validate() -> None:
    spec = load_pipeline_text(
        textwrap.dedent(
            """
            name: p
            tasks:
              - {name: make-data, command: "true", outputs: [rows]}
              - name: use
                depends: [make-data]
                command: "echo {{ tasks.make-data.outputs.rows }}"
            """
        )
    )
    assert spec.tasks[1].name == "use"


def test_hyphenated_task_names_report_their_own_problems() -> None:
    text = """
        name: p
        tasks:
          - {name: make-data, command: "true", outputs: [rows]}
          - {name: use, depends: [make-data], command: "echo {{ tasks.make-data.outputs.row }}"}
          - {name: other, command: "echo {{ tasks.make-dat.outputs.rows }}"}
    """
    assert problems(text) == [
        "tasks[1].command: 'tasks.make-data.outputs.row': task 'make-data' declares no output "
        "'row' (did you mean 'rows'?) (its outputs: rows)",
        "tasks[2].command: 'tasks.make-dat.outputs.rows' refers to unknown task 'make-dat' "
        "(did you mean 'make-data'?)",
    ]


# --- every unknown field -------------------------------------------------------------------------


def test_every_unknown_field_of_a_task_is_reported() -> None:
    text = """
        name: p
        tasks:
          - {name: a, command: "true", colour: red, retrys: 2, sizes: 3}
          - {name: b, command: "true", dependz: [a]}
    """
    assert problems(text) == [
        "tasks[0]: unknown field 'colour'",
        "tasks[0]: unknown field 'retrys' (did you mean 'retries'?)",
        "tasks[0]: unknown field 'sizes'",
        "tasks[1]: unknown field 'dependz' (did you mean 'depends'?)",
    ]


# --- the pipeline's folder and workdir -----------------------------------------------------------

WORKDIRS = """
name: p
params: {split: train}
tasks:
  - {name: a, command: "true", workdir: scripts}
  - {name: b, command: "true", workdir: /srv/data}
  - {name: c, command: "true", workdir: "data/{{ params.split }}"}
  - {name: d, command: "echo {{ pipeline_dir }}"}
"""


def test_a_file_gives_the_pipeline_its_folder(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(WORKDIRS)
    spec = load_pipeline(tmp_path / "p.yaml")
    assert spec.pipeline_dir == str(tmp_path.resolve())
    assert [t.workdir for t in spec.tasks] == [
        "scripts",
        "/srv/data",
        "data/{{ params.split }}",
        None,
    ]
    # Part of the snapshot: a run created from it finds the same folder.
    assert spec.to_data()["pipeline_dir"] == str(tmp_path.resolve())
    assert pipeline_from_data(spec.to_data(), check=False) == spec


def test_a_json_and_a_python_file_give_their_folder(tmp_path: Path) -> None:
    data = load_pipeline_text(WORKDIRS, pipeline_dir="/x").to_data()
    del data["pipeline_dir"]
    (tmp_path / "p.json").write_text(json.dumps(data))
    assert load_pipeline(tmp_path / "p.json").pipeline_dir == str(tmp_path.resolve())
    (tmp_path / "flow.py").write_text(
        "from cubestudio import Pipeline, Task\n"
        "with Pipeline('p'):\n"
        "    Task('a', command='true', workdir='scripts')\n"
    )
    assert load_pipeline(tmp_path / "flow.py").pipeline_dir == str(tmp_path.resolve())


def test_a_pipeline_given_as_data_has_no_folder_so_no_relative_workdir() -> None:
    assert problems(WORKDIRS) == [
        "tasks[0].workdir: 'scripts' is relative, and this pipeline has no file whose folder "
        "it could start from: give an absolute path"
    ]


def test_the_pipeline_folder_cannot_be_written_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("name: p\npipeline_dir: /etc\ntasks: [{name: a, command: x}]")
    with pytest.raises(SpecError) as info:
        load_pipeline(tmp_path / "p.yaml")
    assert str(info.value) == (
        "pipeline_dir: set by cube to the folder of the pipeline file: remove it "
        "(a task's `workdir:` chooses where its command runs)"
    )


def test_workdir_must_not_be_empty() -> None:
    text = """
        name: p
        tasks: [{name: a, command: "true", workdir: ""}]
    """
    assert problems(text, pipeline_dir="/x") == [
        "tasks[0].workdir: string should have at least 1 character, got ''"
    ]


def test_a_templated_workdir_is_checked() -> None:
    text = """
        name: p
        tasks: [{name: b, command: "true", workdir: "{{ pipeline_dr }}/x"}]
    """
    assert problems(text) == [
        "tasks[0].workdir: unknown template variable 'pipeline_dr' (did you mean 'pipeline_dir'?)",
    ]


# --- line numbers in Python pipeline files -------------------------------------------------------


def test_an_exception_in_a_python_pipeline_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    path.write_text(
        "from cubestudio import Pipeline, Task\n"
        "\n"
        "def helper():\n"
        "    return {}['missing']\n"
        "\n"
        "with Pipeline('p'):\n"
        "    Task('a', command=helper())\n"
    )
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert str(info.value) == f"{path}:4: KeyError: 'missing'"


def test_a_syntax_error_in_a_python_pipeline_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    path.write_text("x = 1\ny = (\n")
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert str(info.value) == f"{path}:2: SyntaxError: '(' was never closed"


def test_a_non_utf8_python_pipeline_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    path.write_bytes(b"x = 1\ny = '\xff'\n")
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert str(info.value).startswith(f"{path}:2: SyntaxError: ")
