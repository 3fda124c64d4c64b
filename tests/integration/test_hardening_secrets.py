"""Secret hygiene through the real CLI: `cube debug` masks what it shows, everything cube
writes under $CUBE_HOME is private to the user, value outputs are stored masked, and the
settings that point at the wrong thing (a file as CUBE_HOME, an '@' in a database password)
fail in one line without showing what they should not."""

from __future__ import annotations

import json
import os
import pty
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cubestudio.cli.setup import open_db, open_driver
from cubestudio.settings import Settings
from cubestudio.store import runs as store
from cubestudio.store.db import Database
from tests.conftest import CUBE, Cube
from tests.integration.helpers import pipeline

SECRET = "hunter2"

LEAKY = """
name: leaky
params: {word: hello}
env:
  TOKEN: {secret: true, value: hunter2}
tasks:
  - name: leak
    outputs: [tok]
    command: |
      echo "token=$TOKEN {{ params.word }}"
      echo "token=$TOKEN" > $CUBE_OUTPUTS/tok
  - name: downstream
    depends: [leak]
    command: echo "got {{ tasks.leak.outputs.tok }}" | tee RECEIVED
"""


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common 022 umask in the shell that starts cube: what cube writes is private
    anyway, not because the test's environment happens to be strict."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def leaky_pipeline(tmp_path: Path) -> Path:
    return pipeline(tmp_path, LEAKY.replace("RECEIVED", str(tmp_path / "received")))


def open_to_others(root: Path) -> list[str]:
    """Every file that group or others may read or write, and every folder they may enter,
    under ``root`` (itself included)."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if not path.is_symlink() and mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {mode:o}")
    return found


def test_debug_masks_its_live_log_and_prints_the_rendered_command_masked(
    cube: Cube, tmp_path: Path
) -> None:
    file = leaky_pipeline(tmp_path)
    result = cube("debug", str(file), "leak", "--param", f"word={SECRET}")
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert result.stdout == "token=****** ******\n"
    # The command as rendered for the run ({{ params.word }} filled in), before it runs.
    assert '$ echo "token=$TOKEN ******"\n> echo "token=$TOKEN" > $CUBE_OUTPUTS/tok\n' in (
        result.stderr
    )


def test_debug_on_a_terminal_masks_too(cube_sqlite: Cube, tmp_path: Path) -> None:
    file = leaky_pipeline(tmp_path)
    leader, follower = pty.openpty()
    try:
        with subprocess.Popen(
            [CUBE, "debug", str(file), "leak"],
            env=cube_sqlite.env,
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
        ) as process:
            os.close(follower)
            shown = _read_all(leader)
            assert process.wait(timeout=60) == 0, shown
    finally:
        os.close(leader)
    assert "token=****** hello" in shown and SECRET not in shown


def _read_all(fd: int) -> str:
    data = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def test_a_run_keeps_cube_home_private_and_its_value_outputs_masked(
    cube: Cube, tmp_path: Path, db_url: str, open_umask: None
) -> None:
    file = leaky_pipeline(tmp_path)
    result = cube.json("run", str(file), "--json", expect=0)
    assert open_to_others(cube.home) == []
    if db_url.startswith("sqlite"):
        database = tmp_path / "cube.db"
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
    # The downstream task got the output masked, as the database holds it.
    assert (tmp_path / "received").read_text() == "got token=******\n"
    db = Database(db_url)
    try:
        with db.begin() as conn:
            tasks = store.load_task_runs(conn, run_id=result["run_id"])
            attempts = store.load_attempts(conn, run_id=result["run_id"])
    finally:
        db.dispose()
    leak = next(row for row in tasks if row["name"] == "leak")
    assert json.loads(leak["outputs"]) == {"tok": "token=******"}
    stored = json.dumps([[dict(r) for r in tasks], [dict(r) for r in attempts]], default=str)
    assert SECRET not in stored
    logs = cube("logs", result["run_id"])
    assert logs.stdout.splitlines() == [
        "leak       | token=****** hello",
        "downstream | got token=******",
    ]


def test_the_database_file_holds_no_secret_a_task_wrote(cube_sqlite: Cube, tmp_path: Path) -> None:
    # from_env: an inline `value:` is part of the pipeline, stored with it like the file.
    file = pipeline(
        tmp_path,
        LEAKY.replace("value: hunter2", "from_env: MY_TOKEN").replace(
            "RECEIVED", str(tmp_path / "received")
        ),
    )
    cube_sqlite.json("run", str(file), "--json", expect=0, env={"MY_TOKEN": SECRET})
    cube_sqlite("debug", str(file), "downstream", env={"MY_TOKEN": SECRET})
    files = list(tmp_path.glob("cube.db*"))
    assert files and all(SECRET.encode() not in path.read_bytes() for path in files)


def test_cube_home_that_is_a_file_is_one_line_and_exit_2(cube_sqlite: Cube, tmp_path: Path) -> None:
    home = tmp_path / "not-a-folder"
    home.write_text("")
    for command in (["init"], ["runs"], ["run", str(leaky_pipeline(tmp_path))]):
        result = cube_sqlite(*command, env={"CUBE_HOME": str(home)})
        assert result.returncode == 2, result.stderr
        assert result.stderr == (
            f"error: CUBE_HOME={home} is a file, not a folder: point CUBE_HOME at a folder\n"
        )


def test_an_existing_cube_home_open_to_others_is_made_private(
    cube_sqlite: Cube, tmp_path: Path
) -> None:
    cube_sqlite.home.mkdir(mode=0o755)
    cube_sqlite.home.chmod(0o755)
    assert cube_sqlite("runs").returncode == 0
    assert stat.S_IMODE(cube_sqlite.home.stat().st_mode) == 0o700


def test_used_as_a_library_cube_makes_its_home_and_database_private(
    tmp_path: Path, open_umask: None
) -> None:
    """No CLI, so no umask of cube's own: the folders and the database file it creates are
    private all the same, and an old database left readable is tightened."""
    home = tmp_path / "home"
    old = tmp_path / "elsewhere" / "old.db"
    old.parent.mkdir()
    old.touch(mode=0o644)
    for url in (None, f"sqlite:///{old}"):
        settings = Settings(home=home, database_url=url)
        open_db(settings).dispose()
        open_driver(settings)
    assert open_to_others(home) == []
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_a_database_password_with_an_at_sign_is_not_shown(cube_sqlite: Cube) -> None:
    url = "postgresql://user:secret@pw@127.0.0.1:1/db"
    result = cube_sqlite("runs", env={"CUBE_DATABASE_URL": url})
    assert result.returncode == 2
    assert "secret" not in result.stderr and "pw" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "user:***@127.0.0.1:1/db" in result.stderr and "%40" in result.stderr
