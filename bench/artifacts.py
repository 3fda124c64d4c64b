"""Measure what immutable artifacts cost: keeping a task's output in the local store (`put`)
and placing it as a downstream task's input (`fetch`), for one large file and for a folder of
many small files, against `cp` of the same data in the same run.

Columns, best of `--repeat` (the data is in the page cache for every command alike: it has
just been written, and each command reads it in turn):
  * cp: `cp FILE DEST` / `cp -r DIR DEST`, the baseline any copy is measured against;
  * before: what the store did before (hard links in and out: no data moved, but the task
    shared the stored bytes and could rewrite them);
  * after: the store now (a reflink where the file system can, else a kernel copy; sha256
    recorded on the way in and checked on the way out);
  * after/cp: the ratio.
Extra rows: hashing the same data alone (hashlib, as the store does: the floor of any digest
check) and, for the file, a copy that hashes as it goes (read, hash, write in one loop), the
design copying.py measured and rejected.

Prints a table and exits 0 (figures, not asserts); exits 1 only when a command fails.
Usage: .venv/bin/python bench/artifacts.py [--size-mb 1024] [--files 10000] [--file-kb 4]
       [--repeat 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cubestudio.artifacts import copying
from cubestudio.artifacts.local import LocalStore
from cubestudio.artifacts.paths import walk_tree
from cubestudio.engine.artifacts import StoredArtifact

BLOCK = 8 << 20


def make_file(path: Path, size_mb: int) -> None:
    block = os.urandom(BLOCK)
    with open(path, "wb") as file:
        for _ in range(size_mb * (1 << 20) // BLOCK):
            file.write(block)


def make_folder(path: Path, files: int, file_kb: int) -> None:
    payload = os.urandom(file_kb << 10)
    for i in range(files):
        folder = path / f"shard-{i // 1000:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:05d}.bin").write_bytes(payload[i % 97 :] + payload[: i % 97])


def best(repeat: int, run: Callable[[], object], clean: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        clean()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    clean()
    return min(times)


def linked_put(source: Path, dest: Path) -> None:
    """The store before: hard links into it (copytree links every file of a folder)."""
    if source.is_dir():
        shutil.copytree(source, dest, copy_function=os.link)
    else:
        os.link(source, dest)


def sh(*command: str) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    return run


def measure(name: str, data: Path, kind: str, work: Path, repeat: int) -> list[list[str]]:
    store = LocalStore(work / "store")
    kept = work / "store" / "r" / "t" / "1" / data.name
    target = work / "target"

    def clean_kept() -> None:
        copying.remove(kept)

    def clean_target() -> None:
        copying.remove(target)

    def put() -> StoredArtifact:
        return store.put(run_id="r", task="t", attempt=1, name=data.name, source=data, kind=kind)

    cp = sh("cp", "-r", str(data), str(target))
    cp_time = best(repeat, cp, clean_target)
    put_before = best(repeat, lambda: linked_put(data, target), clean_target)
    put_after = best(repeat, put, clean_kept)
    stored = put()
    fetch_before = best(repeat, lambda: linked_put(kept, target), clean_target)
    fetch_after = best(
        repeat, lambda: store.fetch(stored, target, label=f"t.{data.name}"), clean_target
    )
    rows = [
        [f"{name}: put (keep the output)", cp_time, put_before, put_after],
        [f"{name}: fetch (place an input)", cp_time, fetch_before, fetch_after],
    ]
    files = [str(data)]
    if kind == "folder":
        files = [full for is_folder, _, full in walk_tree(data, None) if not is_folder]
    hashed = best(repeat, lambda: [copying.hash_file(f) for f in files], lambda: None)
    rows.append([f"{name}: sha256 alone (no copy)", cp_time, None, hashed])
    if kind == "file":
        rows.append(
            [f"{name}: put, hashing as it copies", cp_time, None, one_pass(data, work, repeat)]
        )
    copying.remove(work / "store")
    return [
        [label, *(_cell(v) for v in values), _ratio(values[-1], values[0])]
        for label, *values in rows
    ]


def one_pass(data: Path, work: Path, repeat: int) -> float:
    def run() -> None:
        src = os.open(data, os.O_RDONLY)
        dst = os.open(work / "one-pass", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            copying._copy_hashing(src, dst)
        finally:
            os.close(src)
            os.close(dst)

    return best(repeat, run, lambda: copying.remove(work / "one-pass"))


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _ratio(value: float | None, base: float) -> str:
    return "-" if value is None or base <= 0 else f"{value / base:.2f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--file-kb", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: /tmp)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cube-bench-artifacts-", dir=args.dir))
    try:
        big = work / "data" / "model.bin"
        big.parent.mkdir()
        make_file(big, args.size_mb)
        many = work / "data" / "shards"
        make_folder(many, args.files, args.file_kb)
        rows = measure(f"{args.size_mb} MiB file", big, "file", work, args.repeat)
        label = f"{args.files} files of {args.file_kb} KiB"
        rows += measure(label, many, "folder", work, args.repeat)
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"bench failed: {err}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = ["operation", "cp", "before (links)", "after (copy+sha256)", "after/cp"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"best of {args.repeat}, in {args.dir or tempfile.gettempdir()}")
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
