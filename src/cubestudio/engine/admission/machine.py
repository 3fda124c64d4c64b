"""This machine's pool: its cores, memory and NVIDIA GPUs, unless settings say otherwise.

The only part of admission that looks at the machine; ``Admission`` itself takes a ``Pool``.
CUBE_POOL_CPU ("16", "500m"), CUBE_POOL_MEMORY ("64Gi") and CUBE_POOL_GPU (a count: "4"
declares four GPUs, indices 0..3, real or not, which is how tests get virtual GPUs).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, TypeVar

import psutil

from cubestudio.engine.admission.model import AdmissionError, Pool
from cubestudio.settings import Settings, get_settings
from cubestudio.spec.quantities import parse_cpu, parse_memory

T = TypeVar("T")


def machine_pool(settings: Settings | None = None) -> Pool:
    settings = settings or get_settings()
    cpu = _parsed("CUBE_POOL_CPU", settings.pool_cpu, parse_cpu) or float(machine_cpus())
    memory = _parsed("CUBE_POOL_MEMORY", settings.pool_memory, parse_memory)
    gpus = _parsed("CUBE_POOL_GPU", settings.pool_gpu, _gpu_count)
    return Pool(
        cpu=cpu,
        memory=memory or psutil.virtual_memory().total,
        gpus=tuple(range(machine_gpus() if gpus is None else gpus)),
    )


def machine_cpus() -> int:
    """Cores this process may run on (its affinity), else all of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine_gpus() -> int:
    """NVIDIA GPUs seen through nvidia-ml-py when it is installed; 0 without it or a driver."""
    try:
        nvml: Any = importlib.import_module("pynvml")
    except ImportError:
        return 0
    try:
        nvml.nvmlInit()
    except Exception:  # no driver, no device: no GPUs
        return 0
    try:
        return int(nvml.nvmlDeviceGetCount())
    except Exception:
        return 0
    finally:
        nvml.nvmlShutdown()


def _parsed(name: str, text: str | None, parse: Callable[[str], T]) -> T | None:
    if text is None or not text.strip():
        return None
    try:
        return parse(text.strip())
    except ValueError as err:
        raise AdmissionError(f"{name}: {err}") from None


def _gpu_count(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a count of GPUs (use e.g. 4, or 0 for none)")
    return int(text)
