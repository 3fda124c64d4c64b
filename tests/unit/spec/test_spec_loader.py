"""Loading pipelines from YAML, JSON and Python files (cubestudio.spec.loader)."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from cubestudio.errors import SpecError
from cubestudio.spec import PipelineSpec, TaskSpec, load_pipeline, load_pipeline_text
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.model import Trigger

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

YAML_TEXT = """\
# a comment
name: train-daily
description: prepare, train, report
params:
  lr: 0.01
  epochs: 3
  tag: {type: str, default: v1, description: a label}
env:
  DATA_ROOT: data
  DEBUG: true
parallelism: 4
timeout: 1h
schedule:
  cron: "0 3 * * *"
  timezone: Asia/Shanghai
  start: 2026-01-01 00:00:00
  catchup: true
tasks:
  - name: prepare
    command: echo prep
    outputs: [rows]
    resources: {cpu: 500m, memory: 1Gi}
  - name: train
    depends: [prepare]
    retries: 2
    retry_delay: 30s
    retry_backoff: 2
    timeout: 1h30m
    env:
      ROWS: "{{ tasks.prepare.outputs.rows }}"
    command: ["python", "train.py", "--lr", "{{ params.lr }}"]
  - name: cleanup
    depends: [train]
    trigger: all_done
    command: echo clean
on_exit:
  name: notify
  command: echo "{{ run_status }}"
"""

JSON_DATA = {
    "name": "train-daily",
    "description": "prepare, train, report",
    "params": {
        "lr": 0.01,
        "epochs": 3,
        "tag": {"type": "str", "default": "v1", "description": "a label"},
    },
    "env": {"DATA_ROOT": "data", "DEBUG": True},
    "parallelism": 4,
    "timeout": "1h",
    "schedule": {
        "cron": "0 3 * * *",
        "timezone": "Asia/Shanghai",
        "start": "2026-01-01 00:00:00",
        "catchup": True,
    },
    "tasks": [
        {
            "name": "prepare",
            "command": "echo prep",
            "outputs": ["rows"],
            "resources": {"cpu": "500m", "memory": "1Gi"},
        },
        {
            "name": "train",
            "depends": ["prepare"],
            "retries": 2,
            "retry_delay": "30s",
            "retry_backoff": 2,
            "timeout": "1h30m",
            "env": {"ROWS": "{{ tasks.prepare.outputs.rows }}"},
            "command": ["python", "train.py", "--lr", "{{ params.lr }}"],
        },
        {"name": "cleanup", "depends": ["train"], "trigger": "all_done", "command": "echo clean"},
    ],
    "on_exit": {"name": "notify", "command": 'echo "{{ run_status }}"'},
}


def message(exc: pytest.ExceptionInfo[SpecError]) -> str:
    (error,) = exc.value.errors
    assert error.path == ""
    return error.message


def test_yaml_and_json_give_equal_specs() -> None:
    from_yaml = load_pipeline_text(YAML_TEXT, source="p.yaml")
    from_json = load_pipeline_text(json.dumps(JSON_DATA, indent=2), source="p.json", is_json=True)
    assert isinstance(from_yaml, PipelineSpec)
    assert from_yaml == from_json
    assert from_yaml.to_data() == from_json.to_data()


def test_loaded_values() -> None:
    spec = load_pipeline_text(YAML_TEXT)
    assert spec.name == "train-daily"
    assert spec.env == {"DATA_ROOT": "data", "DEBUG": "true"}
    assert spec.timeout == 3600.0
    assert spec.parallelism == 4
    assert spec.schedule is not None
    assert spec.schedule.start == datetime(2026, 1, 1, 0, 0, 0)
    assert [t.name for t in spec.tasks] == ["prepare", "train", "cleanup"]
    prepare, train, cleanup = spec.tasks
    assert isinstance(prepare, TaskSpec)
    assert prepare.resources.cpu == 0.5
    assert prepare.resources.memory == 2**30
    assert train.depends == ["prepare"]
    assert train.retry_delay == 30.0
    assert train.timeout == 5400.0
    assert train.command == ["python", "train.py", "--lr", "{{ params.lr }}"]
    assert cleanup.trigger is Trigger.ALL_DONE
    assert spec.on_exit is not None and spec.on_exit.name == "notify"
    assert [t.name for t in spec.all_tasks()] == ["prepare", "train", "cleanup", "notify"]


def test_to_data_round_trips() -> None:
    spec = load_pipeline_text(YAML_TEXT)
    data = spec.to_data()
    assert "resources" not in data["tasks"][2]  # defaults are left out
    assert data["tasks"][2]["trigger"] == "all_done"
    assert pipeline_from_data(data) == spec
    assert pipeline_from_data(json.loads(json.dumps(data))) == spec


def test_malformed_yaml_reports_line_and_column() -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_text("name: p\ntasks:\n    @x\n", source="source")
    assert re.fullmatch(
        r"source:3:5: invalid YAML: found character .*that cannot start any token", message(info)
    )


def test_malformed_yaml_unclosed_bracket() -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_text("a: [1, 2\nb: 3\n", source="f.yaml")
    assert message(info).startswith("f.yaml:2:")
    assert "invalid YAML: did not find expected ',' or ']'" in message(info)


def test_malformed_yaml_default_source() -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_text("name: p\n\ttasks: []\n")
    assert message(info).startswith("<text>:2:1: invalid YAML: ")
    assert "tab" in message(info)


def test_malformed_json_reports_line_and_column() -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_text('{"name": "p",\n "tasks": [,]}', source="f.json", is_json=True)
    assert message(info) == "f.json:2:12: invalid JSON: Expecting value"


def test_json_is_parsed_as_json_only_when_asked() -> None:
    # YAML is a superset of JSON: the same text loads either way.
    text = json.dumps({"name": "p", "tasks": [{"name": "a", "command": "echo"}]})
    assert load_pipeline_text(text) == load_pipeline_text(text, is_json=True)
    # ...but YAML-only syntax is refused as JSON.
    with pytest.raises(SpecError) as info:
        load_pipeline_text("name: p\n", source="x.json", is_json=True)
    assert message(info) == "x.json:1:1: invalid JSON: Expecting value"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "list"), ("just text\n", "str"), ("42\n", "int"), ("", "nothing")],
)
def test_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_text(text)
    assert message(info) == f"a pipeline file holds a mapping, got {kind}"


def test_top_level_json_list() -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_text("[1, 2]", is_json=True)
    assert message(info) == "a pipeline file holds a mapping, got list"


def test_yaml_is_safe_loaded() -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_text("name: !!python/object/apply:os.system ['true']\n", source="evil")
    assert message(info).startswith("evil:1:7: invalid YAML: ")


# --- files -------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as info:
        load_pipeline(missing)
    assert message(info) == f"no such pipeline file: {missing}"


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline(str(tmp_path))
    assert message(info) == f"{tmp_path} is a folder: give the pipeline file inside it"


def test_directory_names_the_pipeline_files_it_holds(tmp_path: Path) -> None:
    for name in ("train.yaml", "notes.txt", "flow.py"):
        (tmp_path / name).write_text("x")
    with pytest.raises(SpecError) as info:
        load_pipeline(str(tmp_path))
    assert message(info) == (
        f"{tmp_path} is a folder: give the pipeline file inside it (it holds flow.py, train.yaml)"
    )


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"pipe{suffix}"
    path.write_text(YAML_TEXT, encoding="utf-8")
    expected = load_pipeline_text(YAML_TEXT, pipeline_dir=str(tmp_path))
    assert load_pipeline(path) == expected
    assert load_pipeline(str(path)) == expected
    assert expected.pipeline_dir == str(tmp_path)


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "pipe.json"
    path.write_text(json.dumps(JSON_DATA), encoding="utf-8")
    assert load_pipeline(path) == load_pipeline_text(YAML_TEXT, pipeline_dir=str(tmp_path))


def test_bad_json_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pipe.json"
    path.write_text('{"name": "p",\n\n  oops}', encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert message(info) == (
        f"{path}:3:3: invalid JSON: Expecting property name enclosed in double quotes"
    )


def test_bad_yaml_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pipe.yaml"
    path.write_text("name: p\ntasks:\n    @x\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert message(info).startswith(f"{path}:3:5: invalid YAML: ")


def test_non_utf8_file_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "pipe.yaml"
    path.write_bytes(b"name: p\ndescription: caf\xe9\n")
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert message(info) == f"{path}:2:17: byte 0xe9 is not UTF-8 text: save the file as UTF-8"


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pipe.yaml"
    path.write_text("name: p\n")

    def refuse(self: Path) -> bytes:  # as a mode-0 file reads for anyone but root
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert message(info) == f"cannot read {path}: Permission denied"


PY_PIPELINE = """\
from cubestudio.spec.sdk import Pipeline, Task

with Pipeline("train-daily", params={"lr": 0.01}) as p:
    prepare = Task("prepare", command="echo prep", outputs=["rows"])
    train = Task("train", command="echo {{ params.lr }} " + prepare.output("rows"))
    prepare >> train
"""


def test_python_file_defining_a_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "pipe.py"
    path.write_text(PY_PIPELINE, encoding="utf-8")
    spec = load_pipeline(path)
    expected = load_pipeline_text(
        textwrap.dedent(
            """\
            name: train-daily
            params: {lr: 0.01}
            tasks:
              - name: prepare
                command: echo prep
                outputs: [rows]
              - name: train
                depends: [prepare]
                command: "echo {{ params.lr }} {{ tasks.prepare.outputs.rows }}"
            """
        )
    )
    assert spec == expected.model_copy(update={"pipeline_dir": str(tmp_path)})


def test_python_file_with_two_pipelines_picks_the_one_named_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(
        textwrap.dedent(
            """\
            from cubestudio.spec.sdk import Pipeline, Task

            with Pipeline("first") as a:
                Task("x", command="echo 1")
            with Pipeline("second") as pipeline:
                Task("y", command="echo 2")
            """
        ),
        encoding="utf-8",
    )
    spec = load_pipeline(path)
    assert spec.name == "second"
    assert [t.name for t in spec.tasks] == ["y"]


def test_python_file_with_two_unnamed_pipelines(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(
        "from cubestudio.spec.sdk import Pipeline, Task\n"
        "with Pipeline('a'):\n    Task('x', command='echo')\n"
        "with Pipeline('b'):\n    Task('y', command='echo')\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert message(info) == (
        f"{path} defines 2 pipelines; define one, or name the one to run `pipeline`"
    )


def test_python_file_without_a_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert message(info) == (
        f"{path} defines 0 pipelines; define one, or name the one to run `pipeline`"
    )


def test_python_file_that_raises(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("x = 1 / 0\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert message(info) == f"{path}:1: ZeroDivisionError: division by zero"


def test_python_file_spec_errors_pass_through(tmp_path: Path) -> None:
    path = tmp_path / "invalid.py"
    path.write_text(
        "from cubestudio.spec.sdk import Pipeline, Task\n"
        "with Pipeline('p'):\n    Task('a', command='echo', retries=-1)\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as info:
        load_pipeline(path)
    assert str(info.value) == "tasks[0].retries: input should be greater than or equal to 0, got -1"


# --- the shipped examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["diamond", "hello", "outputs", "retries", "template-variables", "train-script"],
)
def test_examples_load(name: str) -> None:
    spec = load_pipeline(EXAMPLES / f"{name}.yaml")
    assert spec.name == name
    assert spec.tasks
    assert spec.pipeline_dir == str(EXAMPLES)


def test_the_script_example_has_its_script_next_to_it() -> None:
    spec = load_pipeline(EXAMPLES / "train-script.yaml")
    train = spec.tasks[0]
    assert train.workdir == "scripts"
    assert (EXAMPLES / train.workdir / train.args["file"]).is_file()
