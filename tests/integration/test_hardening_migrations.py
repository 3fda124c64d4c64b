"""Engine replicas, schedulers and servers start together: real `cube` processes opening one
fresh database at the same moment must all find (or make) the schema, never die on a
migration another process is running (issue 10, item 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cube

PROCESSES = 6
ROUNDS = 3  # fresh databases in a row: one collision is likely, three nearly certain


@pytest.mark.slow
def test_commands_racing_on_a_fresh_database_all_succeed(
    tmp_path: Path, db_url: str, request: pytest.FixtureRequest
) -> None:
    from tests.conftest import make_db_url

    backend = request.node.callspec.params["db_url"]
    urls = [db_url]
    extra = [make_db_url(backend, tmp_path / f"round{n}") for n in range(1, ROUNDS)]
    try:
        urls += [next(gen) for gen in extra]
        for n, url in enumerate(urls):
            _race(Cube(tmp_path / f"home{n}", url))
    finally:
        for gen in extra:
            gen.close()  # drops the extra schema or database


def _race(cube: Cube) -> None:
    racers = [cube.popen("runs", "--json") for _ in range(PROCESSES)]
    outcomes = [(*p.communicate(timeout=120), p.returncode) for p in racers]
    for stdout, stderr, code in outcomes:
        assert code == 0, stderr
        assert json.loads(stdout) == []
        assert stderr == ""
