"""Job templates through the real CLI: built-in names are reserved, versions no run uses can
be deleted, and show/export write multi-line commands as YAML block scalars."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from cubestudio.templates import builtin_templates
from tests.conftest import Cube
from tests.integration.helpers import pipeline

SHADOW = """
name: shell
command: "bash -c {{ args.c | quote }}"
parameters: [{name: c}]
"""

ECHO = """
name: echo
command: echo {{ args.word }}
parameters: [{name: word}]
"""

SCRIPT = """
name: report
description: A multi-line command
command: |
  set -e
  echo "start {{ args.n }}"
  for i in 1 2; do
    echo "line $i"
  done
parameters: [{name: n, type: int, default: 1}]
"""


def test_a_builtin_name_is_refused_and_shell_tasks_keep_working(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    refused = cube_sqlite("template", "register", str(pipeline(tmp_path, SHADOW, "shell.yaml")))
    assert refused.returncode == 2
    assert refused.stderr == (
        "error: name: 'shell' is the name of a built-in template and is reserved: give your "
        "template another name (e.g. name: my-shell)\n"
    )
    python = pipeline(tmp_path, SHADOW.replace("name: shell", "name: python"), "python.yaml")
    assert cube_sqlite("template", "register", str(python)).returncode == 2
    flow = pipeline(tmp_path, "name: p\ntasks:\n  - {name: a, command: echo ok}\n")
    result = cube_sqlite.json("run", str(flow), "--json", expect=0)
    assert result["tasks"]["a"]["status"] == "succeeded"
    listed = {t["name"]: t["version"] for t in cube_sqlite.json("template", "list", "--json")}
    assert listed == {t.name: 1 for t in builtin_templates()}


def test_delete_a_version_no_run_uses(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = pipeline(tmp_path, ECHO, "echo.yaml")
    assert cube_sqlite("template", "register", str(file)).stdout == "registered echo@1\n"
    file.write_text(ECHO.replace("echo {{", "echo again {{"))
    assert cube_sqlite("template", "register", str(file)).stdout == "registered echo@2\n"

    deleted = cube_sqlite("template", "delete", "echo@2")
    assert (deleted.returncode, deleted.stdout) == (0, "deleted echo@2\n"), deleted.stderr
    listed = {t["name"]: t["version"] for t in cube_sqlite.json("template", "list", "--json")}
    assert listed["echo"] == 1
    gone = cube_sqlite("template", "show", "echo@2")
    assert gone.returncode == 2
    assert gone.stderr.startswith("error: template echo@2 was deleted on ")
    assert gone.stderr.endswith(" (latest: 1)\n")
    # The number stays taken: the same content again is a new version, echo@3.
    assert cube_sqlite("template", "register", str(file)).stdout == "registered echo@3\n"
    assert cube_sqlite.json("template", "delete", "echo@3", "--json", expect=0) == {
        "name": "echo",
        "version": 3,
        "deleted": True,
    }


def test_delete_refuses_a_version_a_run_used_a_builtin_and_a_bare_name(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    cube_sqlite("template", "register", str(pipeline(tmp_path, ECHO, "echo.yaml")))
    flow = pipeline(
        tmp_path, "name: p\ntasks:\n  - {name: a, template: echo@1, args: {word: hi}}\n"
    )
    run_id = cube_sqlite.json("run", str(flow), "--json", expect=0)["run_id"]
    used = cube_sqlite("template", "delete", "echo@1", "--json")
    assert (used.returncode, used.stdout) == (2, "")
    assert used.stderr == (
        f"error: echo@1 is used by run(s) {run_id}: a version a run used is kept as the record "
        "of what ran (register a new version instead)\n"
    )
    builtin = cube_sqlite("template", "delete", "shell@1")
    assert builtin.returncode == 2
    assert builtin.stderr == "error: shell@1 is a built-in template: built-in versions are kept\n"
    bare = cube_sqlite("template", "delete", "echo")
    assert bare.returncode == 2
    assert "give the version to delete: echo@VERSION" in bare.stderr
    missing = cube_sqlite("template", "delete", "echo@7")
    assert missing.stderr == "error: template echo has no version 7 (latest: 1)\n"


def test_show_and_export_write_multiline_commands_as_block_scalars(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    file = pipeline(tmp_path, SCRIPT, "report.yaml")
    cube_sqlite("template", "register", str(file))
    shown = cube_sqlite("template", "show", "report@1").stdout
    assert 'command: |\n  set -e\n  echo "start {{ args.n }}"\n  for i in 1 2; do\n' in shown
    assert yaml.safe_load(shown)["command"] == yaml.safe_load(SCRIPT)["command"]
    python = cube_sqlite("template", "show", "python").stdout
    assert "command: |\n  {% if args.script %}" in python
    exported = cube_sqlite("template", "export", "report").stdout
    assert "version:" not in exported and "command: |\n" in exported
    again = pipeline(tmp_path, exported, "exported.yaml")
    assert cube_sqlite("template", "register", str(again)).stdout == (
        "report@1 unchanged: it has the same content\n"
    )
    assert json.dumps(yaml.safe_load(exported), sort_keys=True) == json.dumps(
        yaml.safe_load(SCRIPT), sort_keys=True
    )
