"""Job templates, artifacts and single-task debug through the real CLI, on SQLite and
PostgreSQL, with real processes."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from cubestudio.templates import builtin_templates
from tests.conftest import Cube
from tests.integration.helpers import count, pipeline

EXAMPLES = Path(__file__).parents[2] / "examples"

GREET = """
name: greet
description: Say hello several times
category: demo
command: for i in $(seq {{ args.times }}); do echo "{{ args.greeting }} {{ args.who }}"; done
parameters:
  - {name: who, type: str, required: true}
  - {name: greeting, type: enum, choices: [hello, hi], default: hello}
  - {name: times, type: int, default: 1}
"""


def test_template_versions_list_show_and_export(cube_sql: Cube, tmp_path: Path) -> None:
    file = pipeline(tmp_path, GREET, "greet.yaml")
    assert cube_sql("template", "register", str(file)).stdout == "registered greet@1\n"
    assert (
        cube_sql("template", "register", str(file)).stdout
        == "greet@1 unchanged: it has the same content\n"
    )
    file.write_text(GREET.replace("default: 1", "default: 2"))
    assert cube_sql("template", "register", str(file)).stdout == "registered greet@2\n"
    listed = {t["name"]: t["version"] for t in cube_sql.json("template", "list", "--json")}
    assert listed == {"greet": 2, **{t.name: 1 for t in builtin_templates()}}
    shown = yaml.safe_load(cube_sql("template", "show", "greet@1").stdout)
    assert shown["version"] == 1 and shown["parameters"][2]["default"] == 1
    exported = cube_sql("template", "export", "greet").stdout
    assert "version" not in yaml.safe_load(exported)
    missing = cube_sql("template", "show", "gret")
    assert missing.returncode == 2
    assert missing.stderr == "error: unknown template 'gret' (did you mean 'greet'?)\n"


def test_a_pipeline_of_templates_validates_args_and_runs(cube_sql: Cube, tmp_path: Path) -> None:
    cube_sql("template", "register", str(pipeline(tmp_path, GREET, "greet.yaml")))
    file = pipeline(
        tmp_path,
        """
name: greetings
params: {n: 2}
tasks:
  - {name: plain, command: echo plain}
  - {name: twice, template: greet, args: {who: "{{ params.n }} people", times: "{{ params.n }}"}}
  - {name: pinned, template: greet@1, args: {who: you, greeting: hi}}
  - name: script
    template: python
    args: {script: "import sys; print('argv', sys.argv[1:])", arguments: [a, b c]}
""",
    )
    assert cube_sql("validate", str(file)).stdout == "ok\n"
    result = cube_sql.json("run", str(file), "--json", expect=0)
    logs = {task: cube_sql("logs", result["run_id"], task).stdout for task in result["tasks"]}
    assert logs["twice"] == "hello 2 people\nhello 2 people\n"
    assert logs["pinned"] == "hi you\n"
    assert logs["script"] == "argv ['a', 'b c']\n"
    bad = pipeline(
        tmp_path,
        """
name: bad
tasks:
  - {name: a, command: "true"}
  - {name: b, template: greet, args: {times: many, greting: hi}}
  - {name: c, template: gret}
""",
        "bad.yaml",
    )
    result = cube_sql("validate", str(bad))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "tasks[1].args.times: 'many' is not an int",
        "tasks[1].args.greting: template greet@1 has no parameter (did you mean 'greeting'?)",
        "tasks[1].args.who: required by template greet@1: give args.who",
        "tasks[2].template: unknown template 'gret' (did you mean 'greet'?)",
    ]


def test_artifacts_pass_and_are_renamed_across_a_diamond(cube_sql: Cube) -> None:
    result = cube_sql.json("run", str(EXAMPLES / "params-and-artifacts.yaml"), "--json", expect=0)
    run_id = result["run_id"]
    assert (
        cube_sql("logs", run_id, "merge").stdout
        == "3 shards, 6 words:\nSHARD 1\nSHARD 2\nSHARD 3\n"
    )
    listed = cube_sql.json("artifacts", run_id, "--json", expect=0)
    assert [(a["task"], a["name"], a["kind"], a["size"]) for a in listed] == [
        ("count-words", "result", "file", 2),
        ("split", "shards", "folder", 24),
        ("upper", "result", "file", 24),
    ]


def test_artifacts_can_be_fetched(cube_sql: Cube, tmp_path: Path) -> None:
    run_id = cube_sql.json("run", str(EXAMPLES / "params-and-artifacts.yaml"), "--json")["run_id"]
    got = cube_sql("artifacts", "get", run_id, "split", "shards", "-o", str(tmp_path / "s"))
    assert got.returncode == 0, got.stderr
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["1.txt", "2.txt", "3.txt"]
    inside = cube_sql("artifacts", "get", run_id, "split", "shards", "-o", str(tmp_path / "s"))
    assert inside.returncode == 0  # an existing folder: put inside it, as cp does
    assert (tmp_path / "s" / "shards" / "3.txt").is_file()
    missing = cube_sql("artifacts", "get", run_id, "split", "shard", "-o", str(tmp_path / "t"))
    assert missing.returncode == 2
    assert "has no artifact 'shard' (shards)" in missing.stderr


def test_artifacts_survive_retry(cube_sql: Cube, tmp_path: Path) -> None:
    flag = tmp_path / "fixed"
    file = pipeline(
        tmp_path,
        f"""
name: survive
tasks:
  - name: make
    outputs: [{{name: data, type: file}}]
    command: echo x >> {tmp_path}/make.count; echo payload > $CUBE_OUTPUTS/data
  - name: use
    depends: [make]
    inputs: [make.data]
    command: test -f {flag} && cat $CUBE_INPUTS/data
""",
    )
    first = cube_sql.json("run", str(file), "--json", expect=1)
    flag.touch()
    second = cube_sql.json("retry", first["run_id"], "--json", expect=0)
    assert count(tmp_path / "make.count") == 1
    assert second["tasks"]["use"]["attempts"] == 2
    assert cube_sql("logs", first["run_id"], "use").stdout == "payload\n"


def test_a_symlink_output_fails_the_task(cube_sql: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        """
name: leak
tasks:
  - name: a
    outputs: [{name: secret, type: file}]
    command: ln -s /etc/passwd $CUBE_OUTPUTS/secret
""",
    )
    result = cube_sql.json("run", str(file), "--json", expect=1)
    log = cube_sql("logs", result["run_id"], "a").stdout
    assert "output 'secret' is a symlink: write the file itself" in log
    assert cube_sql.json("artifacts", result["run_id"], "--json") == []


def test_an_input_that_was_not_produced_names_its_task(cube_sql: Cube, tmp_path: Path) -> None:
    file = pipeline(
        tmp_path,
        """
name: skipped-producer
tasks:
  - {name: a, command: "true", skip: true, outputs: [{name: f, type: file}]}
  - {name: b, command: "cat $CUBE_INPUTS/f", depends: [a], inputs: [a.f]}
""",
    )
    result = cube_sql.json("run", str(file), "--json", expect=1)
    assert result["tasks"]["b"]["status"] == "failed"
    log = cube_sql("logs", result["run_id"], "b").stdout
    assert "input 'f' was not produced: task 'a' has no artifact 'f' (it is skipped)" in log


def test_debug_runs_one_task_and_stays_out_of_history(cube_sql: Cube, tmp_path: Path) -> None:
    example = EXAMPLES / "params-and-artifacts.yaml"
    none_yet = cube_sql("debug", str(example), "merge")
    assert none_yet.returncode == 2
    assert "has no successful run to take it from" in none_yet.stderr
    full = cube_sql.json("run", str(example), "--json", expect=0)
    debugged = cube_sql("debug", str(example), "merge", "--param", "parts=5")
    assert debugged.returncode == 0, debugged.stderr
    # upstream results come from the last successful run (3 parts), not from --param
    assert debugged.stdout == "3 shards, 6 words:\nSHARD 1\nSHARD 2\nSHARD 3\n"
    own = tmp_path / "upper.txt"
    own.write_text("LOCAL INPUT\n")
    with_input = cube_sql("debug", str(example), "merge", "--input", f"upper={own}")
    assert with_input.stdout == "3 shards, 6 words:\nLOCAL INPUT\n"
    history = cube_sql.json("runs", "--json")
    assert [r["run_id"] for r in history] == [full["run_id"]]
    everything = cube_sql.json("runs", "--all", "--json")
    assert [r["trigger"] for r in everything] == ["debug", "debug", "manual"]
    wrong = cube_sql("debug", str(example), "merge", "--input", "uper=/tmp")
    assert wrong.returncode == 2 and "has no input 'uper' (did you mean 'upper'?)" in wrong.stderr


def test_the_ml_pipeline_example_runs(cube_sqlite: Cube) -> None:
    for template in sorted((EXAMPLES / "templates").glob("*.yaml")):
        assert cube_sqlite("template", "register", str(template)).returncode == 0
    result = cube_sqlite.json("run", str(EXAMPLES / "ml-pipeline.yaml"), "--json", expect=0)
    report = cube_sqlite("logs", result["run_id"], "report").stdout
    assert report.startswith("2000 rows, model logistic, test accuracy 0.")
    accuracy = float(report.rsplit(" ", 1)[1])
    assert 0.6 <= accuracy <= 1.0
    kinds = {
        a["name"]: a["kind"] for a in cube_sqlite.json("artifacts", result["run_id"], "--json")
    }
    assert kinds == {"dataset": "folder", "model": "file"}
    assert os.environ.get("CUBE_PYTHON") is None  # the engine set it for the tasks only


def test_artifacts_in_an_s3_store_end_to_end(cube_sqlite: Cube, tmp_path: Path) -> None:
    """The whole diamond with CUBE_ARTIFACT_STORE on a real local S3 server (moto, HTTP)."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        env = {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "CUBE_ARTIFACT_STORE": "s3://cube-artifacts/team-a",
            "CUBE_S3_ENDPOINT_URL": endpoint,
        }
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket="cube-artifacts")
        example = str(EXAMPLES / "params-and-artifacts.yaml")
        result = cube_sqlite.json("run", example, "--json", env=env, expect=0)
        run_id = result["run_id"]
        merged = cube_sqlite("logs", run_id, "merge", env=env).stdout
        assert merged == "3 shards, 6 words:\nSHARD 1\nSHARD 2\nSHARD 3\n"
        keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="cube-artifacts")["Contents"])
        assert f"team-a/{run_id}/split/1/shards/2.txt" in keys
        assert f"team-a/{run_id}/upper/1/result" in keys
        uris = {a["uri"] for a in cube_sqlite.json("artifacts", run_id, "--json", env=env)}
        assert f"s3://cube-artifacts/team-a/{run_id}/upper/1/result" in uris
        out = tmp_path / "result"
        cube_sqlite("artifacts", "get", run_id, "upper", "result", "-o", str(out), env=env)
        assert out.read_text() == "SHARD 1\nSHARD 2\nSHARD 3\n"
    finally:
        server.stop()
