"""Shared fixtures: a fresh database per test on SQLite, PostgreSQL and MariaDB, and a helper
that runs the real `cube` CLI in a subprocess against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cubestudio.store.db import Database

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
MY_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
CUBE = str(Path(sys.executable).with_name("cube"))
BACKENDS = ["sqlite", "postgresql", "mariadb"]


def _postgres_schema() -> Iterator[str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _mariadb_database() -> Iterator[str]:
    import pymysql

    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = pymysql.connect(**MY_ADMIN, autocommit=True)
    try:
        conn.cursor().execute(f"CREATE DATABASE `{name}`")
    finally:
        conn.close()
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    finally:
        conn = pymysql.connect(**MY_ADMIN, autocommit=True)
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


def make_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'cube.db'}"
    elif backend == "postgresql":
        yield from _postgres_schema()
    else:
        yield from _mariadb_database()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    yield from make_db_url(request.param, tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cube.db'}"


def open_database(url: str) -> Iterator[Database]:
    """The store at ``url`` with the schema, disposed of after the test."""
    database = Database(url)
    database.ensure_schema()
    yield database
    database.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A fresh store with the schema on each backend."""
    yield from open_database(db_url)


class Cube:
    """Runs the real `cube` command with its own CUBE_HOME and database."""

    def __init__(self, home: Path, db_url: str) -> None:
        self.home = home
        self.env = {
            **os.environ,
            "CUBE_HOME": str(home),
            "CUBE_DATABASE_URL": db_url,
            "CUBE_KILL_GRACE": "2",
        }
        self.env.pop("CUBE_FAILPOINT", None)

    def __call__(
        self, *args: str, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CUBE, *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [CUBE, *args],
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    def json(self, *args: str, expect: int | None = None, **kw: Any) -> Any:
        result = self(*args, **kw)
        if expect is not None:
            assert result.returncode == expect, (result.returncode, result.stdout, result.stderr)
        assert result.stdout.count("\n") == 1, result.stdout  # exactly one JSON document
        return json.loads(result.stdout)

    def attempt_dir(self, run_id: str, task: str, attempt: int = 1) -> Path:
        return self.home / "runs" / run_id / task / str(attempt)


@pytest.fixture
def cube(tmp_path: Path, db_url: str) -> Cube:
    """The CLI on every backend."""
    return Cube(tmp_path / "home", db_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def cube_sql(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cube]:
    """The CLI on SQLite and PostgreSQL: for features whose storage is plain SQL."""
    for url in make_db_url(request.param, tmp_path):
        yield Cube(tmp_path / "home", url)


@pytest.fixture
def cube_sqlite(tmp_path: Path, sqlite_url: str) -> Cube:
    """The CLI on SQLite only, for tests whose subject is not the database."""
    return Cube(tmp_path / "home", sqlite_url)
