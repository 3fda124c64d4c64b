"""Artifacts over the API: the list of what a run's tasks kept, a file downloaded as it is, a
folder as a tar stream, each checked against its recorded digest (a changed one is refused and
nothing is sent), unknown tasks and names as 404s that name them; no scratch copy is left."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cubestudio.artifacts.local import LocalStore
from cubestudio.store import runs as runs_store
from tests.api.conftest import Api
from tests.api.live import DrivenRun

MODEL = b"weights" * 50_000  # 350 kB: a download in several chunks


@pytest.fixture
def run(api: Api, tmp_path: Path) -> DrivenRun:
    """A run whose task `a` kept a file `model` (attempts 1 and 2) and a folder `data`."""
    driven = DrivenRun(api, "default")
    out = tmp_path / "outputs"
    (out / "data" / "split").mkdir(parents=True)
    (out / "data" / "train.csv").write_text("1,2\n")
    (out / "data" / "split" / "test.csv").write_text("3,4\n5,6\n")
    (out / "data" / "run.sh").write_text("#!/bin/sh\n")
    (out / "data" / "run.sh").chmod(0o755)
    (out / "model").write_bytes(b"old")
    keep(api, driven, out / "model", name="model", kind="file", attempt=1)
    (out / "model").unlink()
    (out / "model").write_bytes(MODEL)
    keep(api, driven, out / "model", name="model", kind="file", attempt=2)
    keep(api, driven, out / "data", name="data", kind="folder", attempt=2)
    return driven


def keep(api: Api, run: DrivenRun, source: Path, *, name: str, kind: str, attempt: int) -> None:
    """What the engine does with a declared output: the store keeps it, a row records it."""
    store = LocalStore(api.settings.home_dir / "artifacts")
    stored = store.put(
        run_id=run.run_id, task="a", attempt=attempt, name=name, source=source, kind=kind
    )
    row = {
        "run_id": run.run_id,
        "task_name": "a",
        "attempt": attempt,
        "name": name,
        "kind": stored.kind,
        "size": stored.size,
        "sha256": stored.sha256,
        "uri": stored.uri,
        "created_at": datetime.now(UTC),
    }
    with api.db.begin() as conn:
        runs_store.save_changes(conn, run_id=run.run_id, new_artifacts=[row])


@pytest.fixture
def viewer(api: Api) -> str:
    return api.user("vic", project="default", role="viewer")


def base(run: DrivenRun) -> str:
    return f"/projects/default/runs/{run.run_id}/artifacts"


def scratch_left(api: Api) -> list[Path]:
    folder = api.settings.home_dir / "tmp" / "downloads"
    return list(folder.iterdir()) if folder.exists() else []


def test_the_list_says_what_each_task_kept(api: Api, run: DrivenRun, viewer: str) -> None:
    listed = api.call("GET", base(run), viewer)
    assert listed.status_code == 200
    items = listed.json()
    assert [(i["task"], i["attempt"], i["name"], i["kind"]) for i in items] == [
        ("a", 1, "model", "file"),
        ("a", 2, "data", "folder"),
        ("a", 2, "model", "file"),
    ]
    assert items[2]["size"] == len(MODEL) and len(items[2]["sha256"]) == 64
    assert items[2]["download"] == f"{base(run)}/a/model?attempt=2"
    assert all("uri" not in i for i in items)  # where the store keeps them stays private
    assert api.call("GET", f"{base(run)}?task=b", viewer).json() == []
    typo = api.call("GET", f"{base(run)}?task=aa", viewer)
    assert typo.status_code == 404 and "no task 'aa'" in typo.json()["error"]["message"]


def test_a_file_downloads_as_it_was_kept(api: Api, run: DrivenRun, viewer: str) -> None:
    latest = api.call("GET", f"{base(run)}/a/model", viewer)
    assert latest.status_code == 200
    assert latest.content == MODEL
    assert latest.headers["content-length"] == str(len(MODEL))
    assert latest.headers["content-disposition"] == "attachment; filename*=utf-8''model"
    first = api.call("GET", f"{base(run)}/a/model?attempt=1", viewer)
    assert first.content == b"old"
    assert scratch_left(api) == []


def test_a_folder_downloads_as_a_tar_stream(api: Api, run: DrivenRun, viewer: str) -> None:
    got = api.call("GET", f"{base(run)}/a/data", viewer)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/x-tar"
    assert "filename*=utf-8''data.tar" in got.headers["content-disposition"]
    with tarfile.open(fileobj=io.BytesIO(got.content)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == [
            "data",
            "data/run.sh",
            "data/split",
            "data/split/test.csv",
            "data/train.csv",
        ]
        assert members["data/split"].isdir()
        assert members["data/run.sh"].mode == 0o755
        test_csv = tar.extractfile("data/split/test.csv")
        assert test_csv is not None and test_csv.read() == b"3,4\n5,6\n"
    assert scratch_left(api) == []


def test_a_changed_artifact_is_refused_and_nothing_is_sent(
    api: Api, run: DrivenRun, viewer: str
) -> None:
    kept = api.settings.home_dir / "artifacts" / run.run_id / "a" / "2" / "model"
    kept.write_bytes(b"tampered" + MODEL[8:])  # the same size: only the digest can tell
    refused = api.call("GET", f"{base(run)}/a/model", viewer)
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "artifact a.model was changed after it was stored" in message
    assert scratch_left(api) == []


def test_unknown_names_attempts_and_projects_are_404s(
    api: Api, run: DrivenRun, viewer: str
) -> None:
    missing = api.call("GET", f"{base(run)}/a/weights", viewer)
    assert missing.status_code == 404
    assert "has no artifact 'weights' (it has: data, model)" in missing.json()["error"]["message"]
    older = api.call("GET", f"{base(run)}/a/data?attempt=1", viewer)
    assert older.status_code == 404
    assert "kept 'data' in attempt(s) 2, not in attempt 1" in older.json()["error"]["message"]
    climbing = api.call("GET", f"{base(run)}/a/..%2F..%2Fcube.db", viewer)
    assert climbing.status_code == 404
    assert api.call("GET", f"{base(run)}/zz/model", viewer).status_code == 404
    outsider = api.user("olga", project="team-b", role="admin")
    assert api.call("GET", base(run), outsider).status_code == 404
    assert api.call("GET", f"{base(run)}/a/model", outsider).status_code == 404
