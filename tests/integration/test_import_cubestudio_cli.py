"""`cube import cube-studio` through the real CLI: cube-studio's 98 job templates are
registered, its 4 demo pipelines written as files that `cube validate` accepts, an imported
template runs, and a file that is no export is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cubestudio.templates import builtin_templates
from tests.conftest import Cube
from tests.integration.helpers import pipeline

ANCHORS = Path(__file__).resolve().parents[3] / "shared" / "anchors" / "cube-studio"
TEMPLATES = str(ANCHORS / "init-job-template.json")
PIPELINES = str(ANCHORS / "init-pipeline.json")


def test_templates_then_pipelines_import_and_validate(cube: Cube, tmp_path: Path) -> None:
    report = cube.json("import", "cube-studio", TEMPLATES, "--json", expect=0)
    assert set(report) == {"templates", "pipelines", "errors"}
    assert report["pipelines"] == [] and report["errors"] == []
    assert len(report["templates"]) == 98
    assert {t["status"] for t in report["templates"]} == {"registered"}
    for item in report["templates"]:
        assert {"source", "name", "unmapped"} <= set(item)
        assert all(set(u) == {"field", "value", "reason"} for u in item["unmapped"])
    names = {t["name"] for t in report["templates"]}
    listed = {t["name"] for t in cube.json("template", "list", "--json", expect=0)}
    assert names <= listed
    custom = next(t for t in report["templates"] if t["source"] == "自定义镜像")
    assert custom["name"] in listed and custom["name"] != "自定义镜像"

    again = cube.json("import", "cube-studio", TEMPLATES, "--json", expect=0)
    assert {t["status"] for t in again["templates"]} == {"unchanged"}  # identical: no error

    out = tmp_path / "pipelines"
    report = cube.json("import", "cube-studio", PIPELINES, "--out", str(out), "--json", expect=0)
    assert report["templates"] == [] and report["errors"] == []
    assert sorted(p["name"] for p in report["pipelines"]) == [
        "deepseek",
        "electric-bicycle",
        "ml",
        "yolov8",
    ]
    for item in report["pipelines"]:
        assert item["status"] == "written" and Path(item["file"]).is_file()
        fields = {u["field"] for u in item["unmapped"]}
        assert "tasks[0].volume_mount" in fields and "pipeline.project" in fields
        checked = cube("validate", item["file"])
        assert (checked.returncode, checked.stdout) == (0, "ok\n"), checked.stdout


def test_pipelines_need_their_templates_first(cube_sqlite: Cube, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cube_sqlite("import", "cube-studio", PIPELINES, "--out", str(out), "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert {p["status"] for p in report["pipelines"]} == {"failed"}
    assert len(report["errors"]) >= 4
    assert all("import the template export first" in e["message"] for e in report["errors"])
    assert not out.exists()


def test_dry_run_registers_and_writes_nothing(cube_sqlite: Cube, tmp_path: Path) -> None:
    report = cube_sqlite.json("import", "cube-studio", TEMPLATES, "--dry-run", "--json", expect=0)
    assert {t["status"] for t in report["templates"]} == {"valid (dry run)"}
    listed = {t["name"] for t in cube_sqlite.json("template", "list", "--json", expect=0)}
    assert listed == {t.name for t in builtin_templates()}  # the built-ins only
    cube_sqlite("import", "cube-studio", TEMPLATES)
    out = tmp_path / "out"
    args = ("import", "cube-studio", PIPELINES, "--out", str(out), "--dry-run", "--json")
    report = cube_sqlite.json(*args, expect=0)
    assert {p["status"] for p in report["pipelines"]} == {"valid (dry run)"}
    assert not out.exists()


def test_the_report_is_a_table_and_the_unmapped_fields(cube_sqlite: Cube, tmp_path: Path) -> None:
    result = cube_sqlite("import", "cube-studio", TEMPLATES)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["kind", "original", "name", "new", "name", "status", "unmapped"]
    row = next(line for line in result.stdout.splitlines() if "自定义镜像" in line)
    assert "template-fe7276" in row and "registered template-fe7276@1" in row
    assert "template deploy-service (deploy-service): not imported" in result.stdout
    assert "  job_template_args.部署信息.--resource_memory.regex = " in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "holds a JSON list, not an object"),
        ('{"a": {"b": 1}}', "entry 'a' is neither a job template"),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(
    cube_sqlite: Cube, tmp_path: Path, content: str | None, problem: str
) -> None:
    file = tmp_path / "export.json"
    if content is not None:
        file.write_text(content)
    result = cube_sqlite("import", "cube-studio", str(file), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert problem in result.stderr and "Traceback" not in result.stderr


ECHO_EXPORT = {
    "echo-args": {
        "project_name": "测试",
        "image_name": "ubuntu:22.04",
        "job_template_name": "echo-args",
        "job_template_describe": "prints its args",
        "job_template_command": "echo",
        "job_template_args": {
            "参数": {
                "--epoch": {"type": "int", "default": "3", "label": "epoch", "require": 1},
                "--verbose": {"type": "bool", "default": "false"},
                "--conf": {"type": "json", "default": {"lr": 0.1}},
                "--note": {"type": "str", "default": ""},
            }
        },
    }
}


def test_an_imported_template_runs_with_cube_studio_flags(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    export = tmp_path / "templates.json"
    export.write_text(json.dumps(ECHO_EXPORT, ensure_ascii=False))
    report = cube_sqlite.json("import", "cube-studio", str(export), "--json", expect=0)
    assert report["templates"][0]["name"] == "echo-args"
    flow = pipeline(
        tmp_path,
        """
name: echo-flow
tasks:
  - name: say
    template: echo-args
    args: {epoch: 5, verbose: true, extra_args: {"--mode": "fast", "--off": false}}
""",
    )
    run = cube_sqlite.json("run", str(flow), "--json", expect=0)
    assert run["tasks"]["say"]["status"] == "succeeded"
    log = cube_sqlite("logs", run["run_id"], "say")
    assert log.stdout.strip() == '--epoch 5 --verbose --conf {"lr": 0.1} --mode fast'
