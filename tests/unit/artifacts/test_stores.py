"""Artifact stores: the local folder, and S3 against a real local S3 server (moto's server
mode, over HTTP), never a mock object."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cubestudio.artifacts.local import LocalStore
from cubestudio.artifacts.paths import safe_relative
from cubestudio.engine.artifacts import ArtifactError, ArtifactStore


def _outputs(tmp_path: Path) -> Path:
    out = tmp_path / "outputs"
    (out / "model").parent.mkdir(parents=True)
    (out / "model").write_bytes(b"weights" * 100)
    (out / "data" / "split").mkdir(parents=True)
    (out / "data" / "train.csv").write_text("1,2\n")
    (out / "data" / "split" / "test.csv").write_text("3,4\n5,6\n")
    return out


def test_files_and_folders_round_trip(store: ArtifactStore, tmp_path: Path) -> None:
    out = _outputs(tmp_path)
    model = store.put(
        run_id="r", task="t", attempt=1, name="model", source=out / "model", kind="file"
    )
    data = store.put(
        run_id="r", task="t", attempt=1, name="data", source=out / "data", kind="folder"
    )
    assert (model.kind, model.size) == ("file", 700)
    assert (data.kind, data.size) == ("folder", 12)
    store.fetch(model, tmp_path / "in-model", label="t.model")
    store.fetch(data, tmp_path / "in-data", label="t.data")
    assert (tmp_path / "in-model").read_bytes() == b"weights" * 100
    assert (tmp_path / "in-data" / "split" / "test.csv").read_text() == "3,4\n5,6\n"
    assert sorted(p.name for p in (tmp_path / "in-data").rglob("*")) == [
        "split",
        "test.csv",
        "train.csv",
    ]


def test_put_refuses_symlinks_and_wrong_kinds(store: ArtifactStore, tmp_path: Path) -> None:
    out = _outputs(tmp_path)
    os.symlink("/etc/passwd", out / "data" / "leak")
    with pytest.raises(ArtifactError, match="output 'data' holds a symlink, leak"):
        store.put(run_id="r", task="t", attempt=1, name="data", source=out / "data", kind="folder")
    os.symlink("/etc/passwd", out / "link")
    with pytest.raises(ArtifactError, match="output 'link' is a symlink"):
        store.put(run_id="r", task="t", attempt=1, name="link", source=out / "link", kind="file")
    with pytest.raises(ArtifactError, match=r"\(file\) was not written.*found a folder"):
        store.put(run_id="r", task="t", attempt=1, name="data", source=out / "data", kind="file")
    with pytest.raises(ArtifactError, match=r"\(folder\) was not written.*found nothing"):
        store.put(run_id="r", task="t", attempt=1, name="x", source=out / "x", kind="folder")


def test_local_store_keeps_artifacts_whole_and_idempotently(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    out = _outputs(tmp_path)
    first = store.put(
        run_id="r", task="t", attempt=1, name="data", source=out / "data", kind="folder"
    )
    again = store.put(
        run_id="r", task="t", attempt=1, name="data", source=out / "data", kind="folder"
    )
    assert first == again
    assert not list((tmp_path / "store").rglob(".*partial"))


def test_paths_from_a_store_listing_cannot_climb_out() -> None:
    assert str(safe_relative("a/b.csv")) == "a/b.csv"
    for bad in ("../etc/passwd", "/etc/passwd", "a/../../b", ""):
        with pytest.raises(ArtifactError, match="would leave the artifact"):
            safe_relative(bad)
