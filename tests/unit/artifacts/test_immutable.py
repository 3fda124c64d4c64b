"""Stored artifacts are copies, private to the store, and checked against their digest when
they are handed out: on the local folder and on S3 (a real local server, as in test_stores)."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cubestudio.artifacts import copying
from cubestudio.artifacts.copying import folder_digest
from cubestudio.artifacts.local import LocalStore
from cubestudio.engine.artifacts import ArtifactError, ArtifactStore, StoredArtifact

from .test_stores import _outputs

NewBucket = Callable[[str], Any]


def _put(store: ArtifactStore, source: Path, name: str, kind: str = "file") -> StoredArtifact:
    return store.put(run_id="r", task="t", attempt=1, name=name, source=source, kind=kind)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_digests_follow_one_rule_on_every_store(store: ArtifactStore, tmp_path: Path) -> None:
    out = _outputs(tmp_path)
    model = _put(store, out / "model", "model")
    data = _put(store, out / "data", "data", "folder")
    assert model.sha256 == hashlib.sha256(b"weights" * 100).hexdigest()
    files = {"train.csv": b"1,2\n", "split/test.csv": b"3,4\n5,6\n"}
    expected = folder_digest((p, hashlib.sha256(b).hexdigest()) for p, b in files.items())
    assert data.sha256 == expected
    # the path is part of the digest: the same bytes under another name are another folder
    moved = folder_digest((p.upper(), hashlib.sha256(b).hexdigest()) for p, b in files.items())
    assert moved != expected


def test_a_stored_file_is_a_copy_of_the_output_not_a_link(
    store: ArtifactStore, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "bashrc"
    elsewhere.write_text("alias ll='ls -l'\n")
    (tmp_path / "outputs").mkdir()
    os.link(elsewhere, tmp_path / "outputs" / "model")  # `ln ~/.bashrc $CUBE_OUTPUTS/model`
    model = _put(store, tmp_path / "outputs" / "model", "model")
    with open(elsewhere, "r+") as file:  # edited in place, as an editor or `>>` would
        file.write("ALIAS")
    store.fetch(model, tmp_path / "got", label="t.model")
    assert (tmp_path / "got").read_text() == "alias ll='ls -l'\n"


def test_a_fetched_copy_can_be_rewritten_without_touching_the_store(
    store: ArtifactStore, tmp_path: Path
) -> None:
    out = _outputs(tmp_path)
    model = _put(store, out / "model", "model")
    data = _put(store, out / "data", "data", "folder")
    store.fetch(model, tmp_path / "in-model", label="t.model")
    store.fetch(data, tmp_path / "in-data", label="t.data")
    with open(tmp_path / "in-model", "ab") as file:  # `echo x >> $CUBE_INPUTS/model`
        file.write(b"x\n")
    (tmp_path / "in-data" / "train.csv").write_text("rewritten\n")
    store.fetch(model, tmp_path / "again-model", label="t.model")
    store.fetch(data, tmp_path / "again-data", label="t.data")
    assert (tmp_path / "again-model").read_bytes() == b"weights" * 100
    assert (tmp_path / "again-data" / "train.csv").read_text() == "1,2\n"


def test_the_local_store_keeps_private_copies(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    out = _outputs(tmp_path)
    (out / "run.sh").write_text("#!/bin/sh\n")
    (out / "run.sh").chmod(0o755)
    _put(store, out / "model", "model")
    _put(store, out / "run.sh", "run.sh")
    _put(store, out / "data", "data", "folder")
    kept = tmp_path / "store" / "r" / "t" / "1"
    assert os.stat(kept / "model").st_nlink == 1
    assert os.stat(kept / "model").st_ino != os.stat(out / "model").st_ino
    assert _mode(kept / "model") == 0o600
    assert _mode(kept / "run.sh") == 0o700  # still executable, by the user alone
    assert _mode(kept / "data" / "split" / "test.csv") == 0o600
    for folder in (tmp_path / "store", tmp_path / "store" / "r", kept, kept / "data" / "split"):
        assert _mode(folder) == 0o700, folder
    store.fetch(StoredArtifact((kept / "run.sh").as_uri(), "file", 10), tmp_path / "x", label="x")
    assert os.access(tmp_path / "x", os.X_OK)


def test_a_file_changed_in_the_store_is_refused_by_its_digest(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    out = _outputs(tmp_path)
    model = _put(store, out / "model", "model")
    kept = tmp_path / "store" / "r" / "t" / "1" / "model"
    kept.write_bytes(b"WEIGHTS" + b"weights" * 99)  # the same size: only the digest tells
    found = hashlib.sha256(kept.read_bytes()).hexdigest()
    with pytest.raises(ArtifactError) as caught:
        store.fetch(model, tmp_path / "got", label="train.model")
    assert str(caught.value).startswith(
        f"artifact train.model was changed after it was stored: expected sha256 "
        f"{model.sha256}, found {found}; run the task that made it again"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outputs", "store"]  # nothing left


def test_a_folder_changed_in_the_store_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    data = _put(store, _outputs(tmp_path) / "data", "data", "folder")
    kept = tmp_path / "store" / "r" / "t" / "1" / "data"
    (kept / "split" / "test.csv").rename(kept / "split" / "moved.csv")  # same bytes, new path
    with pytest.raises(ArtifactError, match="artifact t.data was changed after it was stored"):
        store.fetch(data, tmp_path / "got", label="t.data")
    (kept / "split" / "moved.csv").rename(kept / "split" / "test.csv")
    (kept / "split" / "test.csv").unlink()
    os.symlink("/etc/passwd", kept / "split" / "test.csv")  # never followed
    with pytest.raises(ArtifactError, match="changed after it was stored: expected sha256"):
        store.fetch(data, tmp_path / "got", label="t.data")
    assert not (tmp_path / "got").exists()


def test_a_stored_file_replaced_by_a_symlink_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    model = _put(store, _outputs(tmp_path) / "model", "model")
    kept = tmp_path / "store" / "r" / "t" / "1" / "model"
    kept.unlink()
    os.symlink("/etc/passwd", kept)
    with pytest.raises(ArtifactError, match="t.model was changed after it was stored: it is a sym"):
        store.fetch(model, tmp_path / "got", label="t.model")


def test_rows_without_a_digest_have_their_size_checked(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    model = _put(store, _outputs(tmp_path) / "model", "model")
    legacy = StoredArtifact(model.uri, "file", model.size, None)  # stored before 0004
    kept = tmp_path / "store" / "r" / "t" / "1" / "model"
    kept.write_bytes(b"W" * model.size)
    store.fetch(legacy, tmp_path / "same-size", label="t.model")  # nothing else to go by
    kept.write_bytes(b"W" * (model.size + 1))
    with pytest.raises(ArtifactError, match="expected 700 bytes, found 701"):
        store.fetch(legacy, tmp_path / "longer", label="t.model")


def test_an_object_overwritten_in_the_bucket_is_refused(
    new_bucket: NewBucket, tmp_path: Path
) -> None:
    bucket = new_bucket("tamper")
    out = _outputs(tmp_path)
    model = _put(bucket, out / "model", "model")
    data = _put(bucket, out / "data", "data", "folder")
    client = bucket.client
    client.put_object(Bucket="tamper", Key="cube/r/t/1/model", Body=b"WEIGHTS" + b"w" * 693)
    client.put_object(Bucket="tamper", Key="cube/r/t/1/data/extra.csv", Body=b"")
    with pytest.raises(ArtifactError, match="t.model was changed after it was stored: expected"):
        bucket.fetch(model, tmp_path / "got-model", label="t.model")
    with pytest.raises(ArtifactError, match="t.data was changed after it was stored: expected"):
        bucket.fetch(data, tmp_path / "got-data", label="t.data")
    assert not (tmp_path / "got-model").exists() and not (tmp_path / "got-data").exists()


def test_a_large_file_goes_to_s3_in_parts_and_keeps_its_digest(
    new_bucket: NewBucket, tmp_path: Path
) -> None:
    bucket = new_bucket("large")
    big = tmp_path / "big"
    big.write_bytes(os.urandom(1 << 16) * 160)  # 10 MiB: over boto3's 8 MiB multipart size
    stored = _put(bucket, big, "big")
    assert (stored.size, stored.sha256) == (10 << 20, hashlib.sha256(big.read_bytes()).hexdigest())
    bucket.fetch(stored, tmp_path / "got", label="t.big")
    assert (tmp_path / "got").read_bytes() == big.read_bytes()


def test_every_kind_of_copy_gives_the_same_bytes_and_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    source.write_bytes(os.urandom(3 * copying.CHUNK + 17))
    expected = (source.stat().st_size, hashlib.sha256(source.read_bytes()).hexdigest())
    assert copying.copy_file(source, tmp_path / "kernel", modes=copying.PRIVATE) == expected

    def unsupported(*_args: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", unsupported)
    assert copying.copy_file(source, tmp_path / "loop", modes=copying.PRIVATE) == expected
    assert (tmp_path / "loop").read_bytes() == source.read_bytes()
    monkeypatch.setattr(copying, "_clone", lambda src, dst: True)  # as a reflink would be...
    monkeypatch.setattr(copying, "_kernel_copy", lambda src, dst, size: False)
    cloned = tmp_path / "cloned"
    # ...the digest is read from the copy itself: an empty clone is seen as empty
    assert copying.copy_file(source, cloned, modes=copying.PRIVATE)[0] == 0


def test_put_refuses_what_is_not_a_regular_file_when_it_opens_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OSError, match="not a regular file"):
        copying.copy_file(tmp_path / "fifo", tmp_path / "copy", modes=copying.PRIVATE)
