"""Stored artifacts are immutable (issue 10, item 1): tasks get copies, the store keeps
private copies with their sha256, and what was changed on disk is refused when handed out.
Real pipelines through the CLI, on every backend."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from tests.conftest import Cube
from tests.integration.helpers import pipeline

REWRITE = """
name: rewrite
tasks:
  - name: t
    outputs: [{name: model, type: file}, {name: plots, type: folder}]
    command: >-
      echo original > $CUBE_OUTPUTS/model;
      mkdir -p $CUBE_OUTPUTS/plots/a; echo 1 > $CUBE_OUTPUTS/plots/a/p.txt
  - name: u
    depends: [t]
    inputs: [t.model, t.plots]
    command: >-
      echo x >> $CUBE_INPUTS/model; echo y >> $CUBE_INPUTS/plots/a/p.txt;
      cat $CUBE_INPUTS/model
"""


def _stored(cube: Cube, run_id: str, task: str, name: str) -> Path:
    return cube.home / "artifacts" / run_id / task / "1" / name


def test_a_task_rewriting_its_input_leaves_the_artifact_as_stored(
    cube: Cube, tmp_path: Path
) -> None:
    run_id = cube.json("run", str(pipeline(tmp_path, REWRITE)), "--json", expect=0)["run_id"]
    assert cube("logs", run_id, "u").stdout == "original\nx\n"
    got = cube("artifacts", "get", run_id, "t", "model", "-o", str(tmp_path / "model"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "model").read_text() == "original\n"
    cube("artifacts", "get", run_id, "t", "plots", "-o", str(tmp_path / "plots"))
    assert (tmp_path / "plots" / "a" / "p.txt").read_text() == "1\n"
    again = cube.json("rerun", run_id, "--from", "u", "--json", expect=0)
    assert again["tasks"]["u"]["attempts"] == 2
    assert cube("logs", run_id, "u", "--attempt", "2").stdout == "original\nx\n"


def test_an_output_linked_to_another_file_is_kept_as_a_private_copy(
    cube: Cube, tmp_path: Path
) -> None:
    somefile = tmp_path / "somefile"
    somefile.write_text("before\n")
    file = pipeline(
        tmp_path,
        f"""
name: smuggle
tasks:
  - name: t
    outputs: [{{name: model, type: file}}]
    command: ln {somefile} $CUBE_OUTPUTS/model
""",
    )
    run_id = cube.json("run", str(file), "--json", expect=0)["run_id"]
    with open(somefile, "r+") as edit:  # in place: a hard link would show it
        edit.write("AFTER!\n")
    kept = _stored(cube, run_id, "t", "model")
    assert kept.stat().st_nlink == 1 and kept.stat().st_ino != somefile.stat().st_ino
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    for folder in (kept.parent, kept.parents[1], kept.parents[2], cube.home / "artifacts"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    cube("artifacts", "get", run_id, "t", "model", "-o", str(tmp_path / "got"))
    assert (tmp_path / "got").read_text() == "before\n"
    listed = cube.json("artifacts", run_id, "--json", expect=0)
    assert listed[0]["sha256"] == hashlib.sha256(b"before\n").hexdigest()


def test_an_artifact_changed_in_the_store_is_refused_when_handed_out(
    cube: Cube, tmp_path: Path
) -> None:
    run_id = cube.json("run", str(pipeline(tmp_path, REWRITE)), "--json", expect=0)["run_id"]
    kept = _stored(cube, run_id, "t", "model")
    kept.write_text("ORIGINAL\n")  # the same size: only the digest tells
    expected = hashlib.sha256(b"original\n").hexdigest()
    found = hashlib.sha256(b"ORIGINAL\n").hexdigest()
    message = (
        f"artifact t.model was changed after it was stored: expected sha256 {expected}, "
        f"found {found}; run the task that made it again to store a new copy"
    )
    got = cube("artifacts", "get", run_id, "t", "model", "-o", str(tmp_path / "got"))
    assert (got.returncode, got.stderr) == (2, f"error: {message}\n")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".got", "got"))]
    rerun = cube.json("rerun", run_id, "--from", "u", "--json", expect=1)
    assert rerun["tasks"]["u"]["status"] == "failed"
    log = cube("logs", run_id, "u", "--attempt", "2").stdout
    assert f"input 'model' from t.model: {message}" in log
    assert "ORIGINAL" not in log  # the command never ran


def test_get_puts_into_an_existing_folder_and_refuses_a_missing_one(
    cube: Cube, tmp_path: Path
) -> None:
    run_id = cube.json("run", str(pipeline(tmp_path, REWRITE)), "--json", expect=0)["run_id"]
    missing = tmp_path / "no" / "such"
    refused = cube("artifacts", "get", run_id, "t", "model", "-o", str(missing / "model"))
    assert refused.returncode == 2
    assert refused.stderr == f"error: -o: no such folder: {missing} (create it first)\n"
    assert not (tmp_path / "no").exists()
    into = tmp_path / "into"
    into.mkdir()
    for name in ("model", "plots"):
        got = cube("artifacts", "get", run_id, "t", name, "-o", str(into))
        assert got.returncode == 0, got.stderr
        assert got.stderr.endswith(f"-> {into / name}\n")
    assert (into / "model").read_text() == "original\n"
    assert (into / "plots" / "a" / "p.txt").read_text() == "1\n"
    twice = cube("artifacts", "get", run_id, "t", "model", "-o", str(into))
    assert twice.returncode == 2
    assert twice.stderr == f"error: -o: {into / 'model'} exists: give a path that does not\n"
    over_a_file = cube("artifacts", "get", run_id, "t", "plots", "-o", str(into / "model"))
    assert over_a_file.returncode == 2 and "exists: give a path that does not" in over_a_file.stderr
    assert (into / "model").read_text() == "original\n"
