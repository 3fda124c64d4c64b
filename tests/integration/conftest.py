"""Fixtures of the engine-service tests: replicas of `cube engine` over the test's database,
and that database read directly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cubestudio.store.db import Database
from tests.conftest import Cube
from tests.integration.engine_helpers import Replicas, replicas_for, store_for


@pytest.fixture
def replicas(cube: Cube, tmp_path: Path) -> Iterator[Replicas]:
    yield from replicas_for(cube, tmp_path)


@pytest.fixture
def store(cube: Cube) -> Iterator[Database]:
    yield from store_for(cube)
