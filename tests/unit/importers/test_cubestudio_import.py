"""cube-studio's job templates and demo pipelines (the anchor files) mapped to ours: every
item imports, every pipeline validates against the imported templates, every type converts,
and every source field is either mapped or listed as unmapped."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from cubestudio.importers.cubestudio import (
    EXTRA_ARGS,
    ExportFormatError,
    ImportResult,
    detect_export,
    pipeline_name,
    summarize,
    task_name,
    template_name,
)
from cubestudio.importers.cubestudio_pipelines import import_pipelines
from cubestudio.importers.cubestudio_templates import import_templates, map_template
from cubestudio.spec.loader import load_pipeline_text, pipeline_from_data
from cubestudio.spec.model import PIPELINE_NAME, TASK_NAME
from cubestudio.spec.render import render
from cubestudio.spec.template import ParameterType, TemplateSpec
from cubestudio.templates import builtin_templates

ANCHORS = Path(__file__).resolve().parents[4] / "shared" / "anchors" / "cube-studio"
TEMPLATES = json.loads((ANCHORS / "init-job-template.json").read_text(encoding="utf-8"))
PIPELINES = json.loads((ANCHORS / "init-pipeline.json").read_text(encoding="utf-8"))


class Catalog:
    """The imported templates, as the validator looks them up."""

    def __init__(self, results: list[ImportResult]) -> None:
        self.templates = {r.name: r.template for r in results if r.template is not None}

    def resolve(self, name: str, version: int | None) -> TemplateSpec:
        if name in self.templates:
            return self.templates[name]
        raise LookupError(f"unknown template '{name}'")


@pytest.fixture(scope="module")
def templates() -> list[ImportResult]:
    return import_templates(TEMPLATES)


@pytest.fixture(scope="module")
def pipelines(templates: list[ImportResult]) -> list[ImportResult]:
    return import_pipelines(PIPELINES, Catalog(templates))


def _accounted(result: ImportResult, path: str) -> bool:
    fields = set(result.mapped) | {u.field for u in result.unmapped}
    return path in fields or any(f.startswith((f"{path}.", f"{path}[")) for f in fields)


def test_all_98_templates_import_with_valid_unique_names(templates: list[ImportResult]) -> None:
    assert len(TEMPLATES) == 98 and len(templates) == 98
    assert [r.errors for r in templates if not r.ok] == []
    names = [r.name for r in templates]
    assert len(set(names)) == 98
    assert all(re.fullmatch(PIPELINE_NAME, n) for n in names)
    builtins = {t.name for t in builtin_templates()}
    assert not builtins & set(names)  # cube-studio's `python` must not shadow ours
    by_source = {r.source: r for r in templates}
    assert by_source["yolov8"].name == "yolov8"  # a valid name is kept as it is
    custom = by_source["自定义镜像"]
    assert custom.name == template_name("自定义镜像") and custom.name.startswith("template-")
    assert custom.template is not None and "'自定义镜像'" in custom.template.description
    assert by_source["python"].name.startswith("python-")


def test_every_template_field_is_mapped_or_listed(templates: list[ImportResult]) -> None:
    by_source = {r.source: r for r in templates}
    for key, item in TEMPLATES.items():
        result = by_source[item["job_template_name"]]
        for field in item:
            assert _accounted(result, field), (key, field)
        for sub in item["job_template_expand"]:
            assert _accounted(result, f"job_template_expand.{sub}"), (key, sub)
        for group, args in item["job_template_args"].items():
            for flag, spec in args.items():
                for attr in spec:
                    path = f"job_template_args.{group}.{flag}.{attr}"
                    assert _accounted(result, path), (key, path)


def test_template_fields_land_where_they_belong(templates: list[ImportResult]) -> None:
    by_source = {r.source: r for r in templates}
    yolo = by_source["yolov8"].template
    assert yolo is not None
    assert yolo.image == "ccr.ccs.tencentyun.com/cube-studio/yolov8:20250801"
    assert yolo.category == "机器视觉"
    assert yolo.command.endswith(
        "{% for name, value in args.extra_args.items() %}{{ flag(name, value) }}{% endfor %}"
    )
    assert "cd /yolov8 && python train.py" in yolo.command  # job_template_workdir
    epoch = yolo.parameter("epoch")
    assert epoch is not None and epoch.group == "训练参数" and epoch.required
    volcano = by_source["volcanojob"].template
    assert volcano is not None and volcano.service_account == "kubeflow-pipeline"
    assert volcano.env["TASK_RESOURCE_MEMORY"] == "4G"
    assert (volcano.resources.cpu, volcano.resources.memory, volcano.resources.gpu) == (
        2.0,
        4 * 10**9,
        0.0,
    )
    hostpath = [r.template for r in templates if r.template and r.template.volumes]
    assert [(v.source, v.target) for t in hostpath for v in t.volumes] == [
        ("/data/k8s/kubeflow/pipeline/workspace/", "/mnt/")
    ]
    deploy = by_source["deploy-service"]
    unmapped = {u.field: u for u in deploy.unmapped}
    # A str arg's choices are suggestions in cube-studio ("ml-server" is not among them, yet
    # its own demo gives it): listed, and named in the description, never strict choices.
    assert "job_template_args.部署信息.--service_type.choice" in unmapped
    service = deploy.template.parameter("service_type") if deploy.template else None
    assert service is not None and service.choices == [] and "tfserving" in service.description
    assert "job_template_args.部署信息.--resource_memory.regex" in unmapped
    assert by_source["ray"].unmapped and any(
        u.field == "job_template_args.分布式任务.--num_worker.range"
        for u in by_source["ray"].unmapped
    )


def test_all_4_pipelines_import_and_validate(
    templates: list[ImportResult], pipelines: list[ImportResult]
) -> None:
    assert len(PIPELINES) == 4 and len(pipelines) == 4
    assert [r.errors for r in pipelines if not r.ok] == []
    catalog = Catalog(templates)
    for result in pipelines:
        assert result.pipeline is not None
        spec = pipeline_from_data(result.pipeline, catalog=catalog)  # our validator
        text = json.dumps(result.pipeline, ensure_ascii=False)
        assert load_pipeline_text(text, is_json=True, catalog=catalog) == spec
        source = PIPELINES[result.source]
        dag = source["pipeline"]["dag_json"]
        for task in spec.tasks:
            assert task.depends == dag[task.name].get("upstream", []), task.name
        assert len(spec.tasks) == len(source["tasks"])


def test_every_pipeline_field_is_mapped_or_listed(pipelines: list[ImportResult]) -> None:
    for result in pipelines:
        source = PIPELINES[result.source]
        for field in source:
            assert _accounted(result, field)
        for field in source["pipeline"]:
            assert _accounted(result, f"pipeline.{field}"), (result.source, field)
        for k, task in enumerate(source["tasks"]):
            for field in task:
                assert _accounted(result, f"tasks[{k}].{field}"), (result.source, k, field)
            for flag in task["args"]:
                assert _accounted(result, f"tasks[{k}].args.{flag}"), (result.source, flag)
        # Kubernetes-only fields are listed, with their value, for every task.
        listed = {u.field: u for u in result.unmapped}
        for k, task in enumerate(source["tasks"]):
            assert listed[f"tasks[{k}].volume_mount"].value == summarize(task["volume_mount"])
            if "resource_rdma" in task:
                assert f"tasks[{k}].resource_rdma" in listed
        assert "pipeline.project" in listed


def test_pipeline_tasks_map_resources_templates_and_args(pipelines: list[ImportResult]) -> None:
    yolo = next(r for r in pipelines if r.source == "yolov8").pipeline
    assert yolo is not None
    download, train, deploy = yolo["tasks"]
    assert download["template"] == template_name("自定义镜像")
    assert download["args"]["workdir"] == "/mnt/{{creator}}/"
    assert train["resources"] == {"cpu": 5, "memory": "5G"}
    assert train["args"]["epoch"] == "10"  # a str arg in cube-studio stays a str
    assert deploy["args"]["service_type"] == "serving"
    ml = next(r for r in pipelines if r.source == "ml").pipeline
    assert ml is not None
    train = ml["tasks"][0]
    # decision-tree declares no args: what the task gives goes to extra_args, typed as given
    extras = train["args"][EXTRA_ARGS]
    assert extras["--model_params"] == {"max_depth": 5, "min_samples_leaf": 10}
    assert extras["--label_columns"] == "y"
    bike = next(r for r in pipelines if r.source == "electric-bicycle").pipeline
    assert bike is not None
    assert bike["env"] == {"YYYYMMDD": "{{datetime.datetime.now().strftime('%Y-%m-%d')}}"}
    assert next(t for t in bike["tasks"] if t["name"] == "yolov8-object-recognition")[
        "resources"
    ] == {"cpu": 5, "memory": "5G", "gpu": 1.0}


EVERY_TYPE: dict[str, Any] = {
    "job_template_name": "每种类型",
    "image_name": "python:3.11",
    "job_template_command": "python3 launcher.py",
    "job_template_args": {
        "数字": {
            "--epoch": {"type": "int", "default": "10", "require": 1, "label": "轮数"},
            "--lr": {"type": "float", "default": "0.01", "range": "0,1", "describe": "学习率"},
            "--debug": {"type": "bool", "default": "false", "editable": 0},
        },
        "文本": {
            "--name": {"type": "str", "default": "demo", "regex": "^[a-z]+$"},
            "--note": {"type": "text", "default": "line1\nline2", "placeholder": "随便写"},
            "--script": {"type": "file", "default": "print(1)"},
        },
        "选择": {
            "--optimizer": {
                "type": "enum",
                "item_type": "str",
                "choice": ["sgd", "adam"],
                "default": "adam",
            },
            "--layers": {
                "type": "multiple",
                "item_type": "int",
                "choice": ["1", "2", "3"],
                "default": "1,2",
            },
            "--gpus": {"type": "list", "item_type": "int", "default": "0,1"},
            "--config": {"type": "dict", "default": '{"a": 1}'},
            "--extra": {"type": "json", "default": {"b": [1, 2]}},
        },
    },
}


def test_every_cube_studio_type_maps_with_typed_defaults() -> None:
    result = map_template("每种类型", EVERY_TYPE)
    assert result.ok, result.errors
    template = result.template
    assert template is not None

    def param(name: str) -> tuple[ParameterType, Any]:
        found = template.parameter(name)
        assert found is not None, name
        return found.type, found.default

    assert param("epoch") == (ParameterType.INT, 10)
    assert param("lr") == (ParameterType.FLOAT, 0.01)
    assert param("debug") == (ParameterType.BOOL, False)
    assert param("name") == (ParameterType.STR, "demo")
    assert param("note") == (ParameterType.TEXT, "line1\nline2")
    assert param("script") == (ParameterType.TEXT, "print(1)")
    assert param("optimizer") == (ParameterType.ENUM, "adam")
    assert param("layers") == (ParameterType.LIST, [1, 2])
    assert param("gpus") == (ParameterType.LIST, [0, 1])
    assert param("config") == (ParameterType.JSON, {"a": 1})
    assert param("extra") == (ParameterType.JSON, {"b": [1, 2]})
    optimizer = template.parameter("optimizer")
    assert optimizer is not None and optimizer.choices == ["sgd", "adam"]
    epoch = template.parameter("epoch")
    assert epoch is not None and epoch.required and epoch.description == "轮数"
    assert epoch.group == "数字"
    note = template.parameter("note")
    assert note is not None and note.description == "(e.g. 随便写)"
    unmapped = {u.field: u.reason for u in result.unmapped}
    assert "read-only" in unmapped["job_template_args.数字.--debug.editable"]
    assert "range" in unmapped["job_template_args.数字.--lr.range"]
    assert "pattern" in unmapped["job_template_args.文本.--name.regex"]
    assert "list parameters have none" in unmapped["job_template_args.选择.--layers.choice"]


def test_a_default_that_does_not_convert_is_listed_not_kept() -> None:
    item = copy.deepcopy(EVERY_TYPE)
    item["job_template_args"]["数字"]["--epoch"]["default"] = "ten"
    item["job_template_args"]["选择"]["--optimizer"]["default"] = "rmsprop"
    result = map_template("x", item)
    assert result.ok
    unmapped = {u.field: u.reason for u in result.unmapped}
    assert "'ten' is not an integer" in unmapped["job_template_args.数字.--epoch.default"]
    assert "not one of its choices" in unmapped["job_template_args.选择.--optimizer.default"]
    assert result.template is not None
    epoch = result.template.parameter("epoch")
    assert epoch is not None and epoch.default is None and epoch.required


def test_task_args_are_typed_by_the_template_parameters() -> None:
    template = map_template("每种类型", EVERY_TYPE)
    source = {
        "pipeline": {"name": "typed", "dag_json": {"t": {}}},
        "tasks": [
            {
                "job_templete": "每种类型",
                "name": "t",
                "args": {
                    "--epoch": "20",
                    "--lr": "0.5",
                    "--debug": "true",
                    "--optimizer": "sgd",
                    "--layers": "2,3",
                    "--gpus": "",
                    "--config": '{"c": 2}',
                    "--name": "{{ creator }}",
                    "--unknown": {"k": "v"},
                },
            }
        ],
    }
    [result] = import_pipelines({"typed": source}, Catalog([template]))
    assert result.ok, result.errors
    assert result.pipeline is not None
    args = result.pipeline["tasks"][0]["args"]
    assert args == {
        "epoch": 20,
        "lr": 0.5,
        "debug": True,
        "optimizer": "sgd",
        "layers": [2, 3],
        "config": {"c": 2},
        "name": "{{ creator }}",  # a template expression is checked when the task runs
        EXTRA_ARGS: {"--unknown": {"k": "v"}},
    }
    # An empty value: cube-studio passes no flag; here the default applies, which is listed.
    [gpus] = [u for u in result.unmapped if u.field == "tasks[0].args.--gpus"]
    assert "the default [0, 1] applies" in gpus.reason


def test_the_command_follows_cube_studio_flag_rules() -> None:
    template = map_template("每种类型", EVERY_TYPE).template
    assert template is not None
    args: dict[str, Any] = {p.name: p.default for p in template.parameters}
    args.update(debug=True, name="", config={"k": "it's"}, extra_args={"--x": 1, "--off": False})
    command = render(template.command, {"args": args})
    assert command.startswith("python3 launcher.py --epoch 10 --lr 0.01 --debug --note ")
    assert " --name " not in command  # an empty value gives no flag
    assert " --optimizer adam --layers '[1, 2]' --gpus '[0, 1]'" in command
    assert """ --config '{"k": "it\\u0027s"}'""" in command
    assert command.endswith(" --x 1")  # a false value gives nothing


def test_the_custom_image_template_runs_its_command_in_its_workdir(
    templates: list[ImportResult],
) -> None:
    custom = next(r.template for r in templates if r.source == "自定义镜像")
    assert custom is not None and custom.parameter(EXTRA_ARGS) is None
    args = {"images": "img", "workdir": "/tmp/a b", "command": "echo hi && ls"}
    assert render(custom.command, {"args": args}) == "cd '/tmp/a b' && echo hi && ls"


def _pipeline(meta: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"pipeline": {"name": "p", "dag_json": {}, **meta}, "tasks": tasks}


def test_cron_fields_become_the_schedule(templates: list[ImportResult]) -> None:
    meta = {
        "schedule_type": "crontab",
        "cron_time": "0 3 * * *",
        "depends_on_past": 1,
        "max_active_runs": "2",
        "expired_limit": 3,
        "parallelism": 4,
        "parameter": {"cronjob_start_time": "2026-01-01 00:00:00", "demo": "true"},
        "alert_user": "admin",
    }
    task: dict[str, Any] = {
        "job_templete": "logical",
        "name": "a",
        "timeout": 600,
        "retry": 2,
        "skip": True,
    }
    [result] = import_pipelines({"p": _pipeline(meta, [task])}, Catalog(templates))
    assert result.ok, result.errors
    assert result.pipeline is not None
    assert result.pipeline["schedule"] == {
        "cron": "0 3 * * *",
        "depends_on_past": True,
        "max_active_runs": 2,
        "expired_limit": 3,
        "start": "2026-01-01 00:00:00",
    }
    assert result.pipeline["parallelism"] == 4
    assert result.pipeline["tasks"][0] == {
        "name": "a",
        "template": "logical",
        "timeout": 600,
        "retries": 2,
        "skip": True,
    }
    listed = {u.field for u in result.unmapped}
    assert {"pipeline.alert_user", "pipeline.parameter.demo"} <= listed


def test_cron_fields_of_a_pipeline_run_once_are_listed(templates: list[ImportResult]) -> None:
    meta = {"schedule_type": "once", "cron_time": "0 3 * * *", "max_active_runs": 3}
    task = {"job_templete": "logical", "name": "a"}
    [result] = import_pipelines({"p": _pipeline(meta, [task])}, Catalog(templates))
    assert result.ok and result.pipeline is not None and "schedule" not in result.pipeline
    listed = {u.field: u.reason for u in result.unmapped}
    assert "has none" in listed["pipeline.cron_time"]
    assert "has none" in listed["pipeline.max_active_runs"]


def test_names_are_derived_the_same_way_for_templates_tasks_and_pipelines(
    templates: list[ImportResult],
) -> None:
    # Pinned: re-importing must give the names the first import registered.
    assert template_name("自定义镜像") == "template-fe7276"
    assert template_name("python") == "python-423522"
    assert re.fullmatch(PIPELINE_NAME, pipeline_name("我的 Pipeline_1"))
    assert pipeline_name("我的 Pipeline_1").startswith("pipeline-1-")  # a slug and a hash
    assert re.fullmatch(TASK_NAME, task_name("1-数据"))
    tasks: list[dict[str, Any]] = [
        {"job_templete": "自定义镜像", "name": "下载", "args": {"command": "true"}},
        {"job_templete": "logical", "name": "train_1"},
    ]
    meta = {"name": "演示", "dag_json": {"下载": {}, "train_1": {"upstream": ["下载"]}}}
    [result] = import_pipelines({"演示": _pipeline(meta, tasks)}, Catalog(templates))
    assert result.ok, result.errors
    assert result.pipeline is not None
    assert result.name == pipeline_name("演示") and "'演示'" in result.pipeline["description"]
    first, second = result.pipeline["tasks"]
    assert first["name"] == task_name("下载") and first["template"] == template_name("自定义镜像")
    assert second["depends"] == [first["name"]]


def test_a_task_whose_template_was_not_imported_fails_its_pipeline() -> None:
    tasks = [{"job_templete": "yolov8", "name": "a", "args": {"--epoch": "1"}}]
    [result] = import_pipelines({"p": _pipeline({}, tasks)}, Catalog([]))
    assert not result.ok
    assert "'yolov8'" in result.errors[0] and "import the template export first" in result.errors[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "holds a JSON list, not an object"),
        ({}, "empty object"),
        ({"x": {"foo": 1}}, "entry 'x' is neither a job template"),
        (
            {"t": {"job_template_args": {}}, "p": {"pipeline": {}, "tasks": []}},
            "mixes templates",
        ),
    ],
)
def test_a_file_that_is_no_export_is_refused(data: object, message: str) -> None:
    with pytest.raises(ExportFormatError, match=message):
        detect_export(data)


def test_the_anchor_files_are_told_apart() -> None:
    assert detect_export(TEMPLATES) == "templates"
    assert detect_export(PIPELINES) == "pipelines"


def test_task_resources_and_an_arg_spelled_unlike_the_flag() -> None:
    template = map_template("每种类型", EVERY_TYPE)
    task = {
        "job_templete": "每种类型",
        "name": "t",
        "resource_cpu": "0.5",
        "resource_memory": "4G",
        "resource_gpu": "1(V100)",
        "args": {"--epoch": "1", "epoch": "2"},
    }
    [result] = import_pipelines({"p": _pipeline({}, [task])}, Catalog([template]))
    assert result.ok, result.errors
    assert result.pipeline is not None
    [out] = result.pipeline["tasks"]
    assert out["resources"] == {"cpu": 0.5, "memory": "4G", "gpu": 1.0}
    # cube-studio passes `epoch 2` as it is: not the same as `--epoch`, so not args.epoch
    assert out["args"] == {"epoch": 1, EXTRA_ARGS: {"epoch": "2"}}
    [gpu] = [u for u in result.unmapped if u.field == "tasks[0].resource_gpu"]
    assert "GPU type" in gpu.reason
