"""The pool: this machine's by default, or what CUBE_POOL_CPU / _MEMORY / _GPU declare."""

from __future__ import annotations

import os

import psutil
import pytest

from cubestudio.engine.admission import AdmissionError, Pool, machine_pool
from cubestudio.engine.admission.machine import machine_cpus
from cubestudio.settings import Settings


def test_overrides_declare_the_pool_with_virtual_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUBE_POOL_CPU", "16")
    monkeypatch.setenv("CUBE_POOL_MEMORY", "64Gi")
    monkeypatch.setenv("CUBE_POOL_GPU", "4")
    assert machine_pool(Settings()) == Pool(cpu=16.0, memory=64 * 2**30, gpus=(0, 1, 2, 3))
    assert machine_pool(Settings(pool_cpu="500m", pool_gpu="0")).cpu == 0.5


def test_default_is_this_machine() -> None:
    pool = machine_pool(Settings(pool_cpu=None, pool_memory=None, pool_gpu="0"))
    assert pool.cpu == machine_cpus() == len(os.sched_getaffinity(0))
    assert pool.memory == psutil.virtual_memory().total
    assert pool.gpus == ()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CUBE_POOL_MEMORY", "lots", "CUBE_POOL_MEMORY: 'lots' is not a memory size"),
        ("CUBE_POOL_CPU", "-2", "CUBE_POOL_CPU: '-2' is not a cpu amount"),
        ("CUBE_POOL_GPU", "two", "CUBE_POOL_GPU: 'two' is not a count of GPUs (use e.g. 4"),
    ],
)
def test_a_bad_override_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(AdmissionError) as err:
        machine_pool(Settings())
    assert str(err.value).startswith(message)
