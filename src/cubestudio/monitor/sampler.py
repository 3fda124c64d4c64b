"""What each running attempt uses now: CPU (percent of one core, summed over its process
tree), RSS of the tree, and GPU utilisation and memory where an NVIDIA GPU is present.

One ``TreeSampler.sample`` call measures every running attempt. The tree is walked from the
attempt's wrapper (its process group leader) through ``/proc/PID/task/TID/children``: a cost
that grows with the tree, not with every process on the machine as a scan of ``/proc`` would
(psutil's ``children()`` reads every process's stat file). ``psutil.Process`` objects are
kept per pid between calls, so each sample reads two small files per process of the tree.

CPU is the CPU time the tree used since the previous sample over the time between the two;
a process first seen counts with all its CPU time when it started since the previous sample,
else with its lifetime average (an attempt's first sample, an adopted attempt).

Limits: RSS summed over processes counts shared pages once per process (forked workers);
a daemon that re-parents itself away from the tree (double fork) is no longer counted;
NVML reports pids of the host's pid namespace, so GPU figures are missing in a container
that does not share it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import psutil

K = TypeVar("K", bound=Hashable)
_HAS_CHILDREN_FILE = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # unix time
    cpu: float  # percent of one core, the tree summed (200.0: two cores busy)
    rss: int  # bytes, the tree summed
    procs: int  # processes in the tree
    gpu_util: float | None = None  # percent; None: no NVIDIA GPU here
    gpu_mem: int | None = None  # bytes the tree holds on GPUs; None: no NVIDIA GPU here


@dataclass(slots=True)
class _Seen:
    proc: psutil.Process
    cpu: float  # its CPU seconds at the last sample


class TreeSampler:
    """Samples the process trees of running attempts; keeps what CPU percent needs."""

    def __init__(self, gpu: GpuProbe | None = None) -> None:
        self.gpu = gpu if gpu is not None else GpuProbe()
        self._seen: dict[int, _Seen] = {}
        self._last_at: dict[Hashable, float] = {}

    def sample(self, roots: Mapping[K, int], now: float) -> dict[K, Sample]:
        """A sample per attempt (``roots``: its wrapper's pid), taken at ``now`` (unix time).
        An attempt whose wrapper is gone is left out."""
        gpu = self.gpu.read()
        seen: dict[int, _Seen] = {}
        out: dict[K, Sample] = {}
        for key, root in roots.items():
            since = self._last_at.get(key)
            measured = self._measure(tree_pids(root), now, since, seen)
            if measured is None:
                continue
            cpu_seconds, window, rss, pids = measured
            self._last_at[key] = now
            out[key] = Sample(
                at=now,
                cpu=round(100.0 * cpu_seconds / window, 2) if window > 0 else 0.0,
                rss=rss,
                procs=len(pids),
                gpu_util=None if gpu is None else gpu.util_of(pids),
                gpu_mem=None if gpu is None else gpu.mem_of(pids),
            )
        self._seen = seen  # processes no longer in any tree are dropped
        for stale in [k for k in self._last_at if k not in roots]:
            del self._last_at[stale]
        return out

    def _measure(
        self, pids: list[int], now: float, since: float | None, seen: dict[int, _Seen]
    ) -> tuple[float, float, int, list[int]] | None:
        """(CPU seconds over the window, the window in seconds, RSS, the pids measured)."""
        cpu_seconds, rss, alive = 0.0, 0, []
        window = None if since is None else now - since
        for pid in pids:
            entry = self._seen.get(pid)
            try:
                proc = entry.proc if entry is not None else psutil.Process(pid)
                with proc.oneshot():
                    times = proc.cpu_times()
                    used = times.user + times.system
                    rss += proc.memory_info().rss
                    if entry is None or used < entry.cpu:  # new here (or the pid was reused)
                        age = max(now - proc.create_time(), 1e-3)
                        if window is None:
                            window = age  # the attempt's first sample: its lifetime
                        cpu_seconds += used if age <= window else used * window / age
                    else:
                        cpu_seconds += used - entry.cpu
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            seen[pid] = _Seen(proc, used)
            alive.append(pid)
        if not alive:
            return None
        return cpu_seconds, window or 0.0, rss, alive

    def forget(self, key: Hashable) -> None:
        self._last_at.pop(key, None)

    def close(self) -> None:
        self.gpu.close()


def tree_pids(root: int) -> list[int]:
    """``root`` and its descendants (empty when ``root`` is gone)."""
    if not _HAS_CHILDREN_FILE:  # a kernel without CONFIG_PROC_CHILDREN
        try:
            proc = psutil.Process(root)
            return [root, *(p.pid for p in proc.children(recursive=True))]
        except psutil.Error:
            return []
    pids, index = [root], 0
    while index < len(pids):
        pid = pids[index]
        index += 1
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as file:
                    pids.extend(int(child) for child in file.read().split())
            except (OSError, ValueError):
                continue
    return pids


@dataclass(slots=True)
class GpuReading:
    """Per pid: GPU memory held (bytes, over every GPU) and utilisation (percent)."""

    mem: dict[int, int]
    util: dict[int, float]

    def mem_of(self, pids: list[int]) -> int:
        return sum(self.mem.get(pid, 0) for pid in pids)

    def util_of(self, pids: list[int]) -> float:
        return round(max((self.util.get(pid, 0.0) for pid in pids), default=0.0), 1)


class GpuProbe:
    """NVML through nvidia-ml-py (the `gpu` extra), imported on first use. No library, no
    driver or no GPU: ``read`` returns None, for good, and nothing is an error."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[Any] = []
        self._tried = False
        self._last_seen: dict[int, int] = {}  # per GPU: NVML's timestamp of its last samples

    def read(self) -> GpuReading | None:
        if not self._tried:
            self._tried = True
            self._open()
        if self._nvml is None:
            return None
        reading = GpuReading({}, {})
        for index, handle in enumerate(self._handles):
            try:
                self._read_one(index, handle, reading)
            except self._nvml.NVMLError:
                continue
        return reading

    def _open(self) -> None:
        try:
            pynvml = importlib.import_module("pynvml")  # the `gpu` extra: nvidia-ml-py
            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception:  # not installed, no driver (NVMLError), a broken library
            return
        if handles:
            self._nvml, self._handles = pynvml, handles
        else:
            pynvml.nvmlShutdown()

    def _read_one(self, index: int, handle: Any, reading: GpuReading) -> None:
        nvml = self._nvml
        procs = nvml.nvmlDeviceGetComputeRunningProcesses(handle)
        for proc in procs:
            used = proc.usedGpuMemory or 0  # None where the driver does not say
            reading.mem[proc.pid] = reading.mem.get(proc.pid, 0) + int(used)
        if not procs:
            return
        util = self._process_util(index, handle)
        if util is None:  # per-process figures unsupported: the device's, for its processes
            device = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
            util = {proc.pid: device for proc in procs}
        for pid, percent in util.items():
            reading.util[pid] = max(reading.util.get(pid, 0.0), percent)

    def _process_util(self, index: int, handle: Any) -> dict[int, float] | None:
        nvml = self._nvml
        try:
            samples = nvml.nvmlDeviceGetProcessUtilization(handle, self._last_seen.get(index, 0))
        except nvml.NVMLError_NotFound:  # no sample since the last look: idle
            return {}
        except nvml.NVMLError:
            return None
        util: dict[int, float] = {}
        for sample in samples:
            util[sample.pid] = max(util.get(sample.pid, 0.0), float(sample.smUtil))
            self._last_seen[index] = max(self._last_seen.get(index, 0), int(sample.timeStamp))
        return util

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
            self._nvml = None
