"""The sampler on real process trees; NVML absent, and present (a fake module)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from cubestudio.monitor.sampler import GpuProbe, GpuReading, TreeSampler, tree_pids

# A parent holding 100 MB whose child spins a core; both print a line when ready.
TREE = """
import subprocess, sys, time
hold = bytearray(100 * 1024 * 1024)
child = subprocess.Popen([sys.executable, "-c",
    "import time\\nprint('spin', flush=True)\\nwhile True: pass"])
print('ready', flush=True)
time.sleep(60)
"""


class NoGpu(GpuProbe):
    def read(self) -> GpuReading | None:
        return None


@pytest.fixture
def tree() -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    assert {proc.stdout.readline().strip(), proc.stdout.readline().strip()} == {"ready", "spin"}
    yield proc
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_a_tree_is_measured_whole(tree: subprocess.Popen[str]) -> None:
    sampler = TreeSampler(NoGpu())
    assert len(tree_pids(tree.pid)) == 2
    first = sampler.sample({"a": tree.pid}, time.time())["a"]
    assert first.procs == 2 and first.rss >= 100 * 2**20
    time.sleep(1.0)
    second = sampler.sample({"a": tree.pid}, time.time())["a"]
    assert second.rss >= 100 * 2**20
    assert 40.0 <= second.cpu <= 210.0  # the child spins one core (a loaded machine: less)
    assert second.gpu_mem is None and second.gpu_util is None


def test_an_attempt_whose_processes_are_gone_is_left_out() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    sampler = TreeSampler(NoGpu())
    assert sampler.sample({"gone": proc.pid}, time.time()) == {}
    assert tree_pids(proc.pid) == [proc.pid]  # the root is listed; nothing could be read


def test_no_nvml_library_means_no_gpu_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails: not installed
    probe = GpuProbe()
    assert probe.read() is None
    assert probe.read() is None  # decided once
    sample = TreeSampler(probe).sample({"me": os.getpid()}, time.time())["me"]
    assert sample.gpu_mem is None and sample.gpu_util is None


class FakeNvml:
    """The few NVML calls the probe makes: two GPUs, our pid on the second."""

    class NVMLError(Exception):
        pass

    class NVMLError_NotFound(NVMLError):  # noqa: N801 (NVML's name)
        pass

    def __init__(self, pid: int, *, per_process: bool) -> None:
        self.pid, self.per_process, self.shut = pid, per_process, False

    def nvmlInit(self) -> None:  # noqa: N802
        pass

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shut = True

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:  # noqa: N802
        return index

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> list[Any]:  # noqa: N802
        if handle == 0:
            return []
        return [SimpleNamespace(pid=self.pid, usedGpuMemory=3 * 2**30)]

    def nvmlDeviceGetProcessUtilization(self, handle: int, since: int) -> list[Any]:  # noqa: N802
        if not self.per_process:
            raise self.NVMLError("not supported")
        return [SimpleNamespace(pid=self.pid, smUtil=42, timeStamp=since + 1)]

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:  # noqa: N802
        return SimpleNamespace(gpu=77)


@pytest.mark.parametrize(("per_process", "util"), [(True, 42.0), (False, 77.0)])
def test_gpu_memory_and_utilisation_of_the_tree(
    monkeypatch: pytest.MonkeyPatch, per_process: bool, util: float
) -> None:
    fake = FakeNvml(os.getpid(), per_process=per_process)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    probe = GpuProbe()
    sampler = TreeSampler(probe)
    other = subprocess.Popen(["sleep", "30"])
    try:
        mine = sampler.sample({"me": os.getpid(), "other": other.pid}, time.time())
    finally:
        other.kill()
        other.wait()
    assert mine["me"].gpu_mem == 3 * 2**30 and mine["me"].gpu_util == util
    assert mine["other"].gpu_mem == 0 and mine["other"].gpu_util == 0.0  # a GPU here, none used
    sampler.close()
    assert fake.shut
