"""Project secrets through the real CLI: `cube secret set` takes a value from stdin or an env
var and never prints it; the store holds it sealed; a pipeline's env refers to it with
`from_secret`, its task gets the value and `cube logs` shows it masked; a missing or
undecryptable secret stops the run before anything is stored, in one line."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from cubestudio.auth.project_secrets import MAX_VALUE_BYTES
from cubestudio.store.db import Database
from cubestudio.store.tables import project_secrets
from tests.conftest import CUBE, Cube
from tests.integration.helpers import pipeline

VALUE = "s3cr3t value & $HOME 'quoted'"
USES_SECRET = """
name: uses-secret
env:
  TOKEN: {secret: true, from_secret: API_TOKEN}
tasks:
  - name: show
    command: |
      echo "token=$TOKEN"
      printf %s "$TOKEN" > SEEN
"""


def set_from_stdin(cube: Cube, name: str, value: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CUBE, "secret", "set", name, "--value-stdin"],
        input=value + "\n",
        env=cube.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    (line,) = result.stderr.splitlines()
    return line


def test_a_secret_set_from_stdin_reaches_the_task_and_is_masked_in_its_log(
    cube: Cube, store: Database, tmp_path: Path
) -> None:
    seen = tmp_path / "seen"
    file = pipeline(tmp_path, USES_SECRET.replace("SEEN", str(seen)))
    created = set_from_stdin(cube, "API_TOKEN", VALUE)
    assert created.returncode == 0, created.stderr
    assert created.stdout == "secret API_TOKEN created in project default\n"
    listed = cube.json("secret", "list", "--json", expect=0)
    assert [item["name"] for item in listed] == ["API_TOKEN"]
    assert set(listed[0]) == {"name", "created_by", "created_at", "updated_at"}
    with store.begin() as conn:
        (sealed,) = conn.execute(select(project_secrets.c.ciphertext)).scalars()
    assert "s3cr3t" not in sealed  # encrypted at rest, with a key only this user can read
    key = cube.home / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    result = cube.json("run", str(file), "--json", expect=0)
    assert seen.read_text() == VALUE  # the task had the value in its env, whole
    shown = cube("logs", result["run_id"], "show")
    assert shown.stdout == "token=******\n"
    shown_all = cube("show", result["run_id"], "--json").stdout + cube("runs", "--json").stdout
    assert "s3cr3t" not in shown_all + created.stderr + json.dumps(listed)

    updated = cube("secret", "set", "API_TOKEN", "--from-env", "NEW_TOKEN", env={"NEW_TOKEN": "v2"})
    assert updated.stdout == "secret API_TOKEN updated in project default\n"
    cube.json("run", str(file), "--json", expect=0)
    assert seen.read_text() == "v2"


def test_a_missing_or_unreadable_secret_stops_the_run_in_one_line(
    cube: Cube, tmp_path: Path
) -> None:
    file = pipeline(tmp_path, USES_SECRET.replace("SEEN", str(tmp_path / "seen")))
    for command in ("run", "submit"):
        line = one_error_line(cube(command, str(file)))
        assert line == (
            "error: env.TOKEN: project secret API_TOKEN is not set in the run's project: "
            "set it with `cube secret set API_TOKEN --value-stdin` before the run"
        )
    assert set_from_stdin(cube, "API_TOKEN", VALUE).returncode == 0
    other_key = Fernet.generate_key().decode()
    line = one_error_line(cube("run", str(file), env={"CUBE_SECRET_KEY": other_key}))
    assert line.startswith("error: project secret API_TOKEN cannot be decrypted with this key")
    assert "s3cr3t" not in line
    deleted = cube("secret", "delete", "API_TOKEN")
    assert deleted.stdout == "secret API_TOKEN deleted from project default\n"
    assert "project secret API_TOKEN is not set" in one_error_line(cube("run", str(file)))
    assert cube.json("runs", "--json", expect=0) == []  # nothing was run or stored
    assert "no project secret API_TOKEN" in one_error_line(cube("secret", "delete", "API_TOKEN"))


def test_secret_commands_refuse_bad_input_in_one_line(cube: Cube) -> None:
    neither = one_error_line(cube("secret", "set", "API_TOKEN"))
    assert "exactly one of --value-stdin or --from-env" in neither
    both = cube("secret", "set", "T", "--value-stdin", "--from-env", "X", env={"X": "x"})
    assert "exactly one of" in one_error_line(both)
    unset = one_error_line(cube("secret", "set", "T", "--from-env", "NOT_SET_ANYWHERE"))
    assert (
        unset == "error: --from-env: NOT_SET_ANYWHERE is not set: export NOT_SET_ANYWHERE=... first"
    )
    assert "is not a secret name" in one_error_line(
        cube("secret", "set", "bad-name", "--value-stdin")
    )
    assert "cannot be empty" in one_error_line(set_from_stdin(cube, "T", ""))
    too_big = set_from_stdin(cube, "T", "x" * (MAX_VALUE_BYTES + 100))
    assert f"over the limit of {MAX_VALUE_BYTES}" in one_error_line(too_big)
    missing = one_error_line(cube("secret", "list", "--project", "nope"))
    assert missing == "error: --project: no project nope (the local one is `default`)"
    assert cube.json("secret", "list", "--json", expect=0) == []
