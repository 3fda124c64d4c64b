"""Right-sizing, pure: the cpu and memory requests suggested for a task from the peaks of
its last runs, with the evidence, and the pipeline data with them applied.

cube-studio rewrites a task's requests on its own after ten runs, to ceil(max x 1.4) + 2
(cores, GiB). Here a suggestion is shown with the peaks it comes from and applied only when
asked. Two policies:

- ``headroom`` (the default): peak x 1.4, rounded up to 0.1 core and to 64 MiB (at least
  that much);
- ``cube-studio``: ceil(peak x 1.4) + 2, in cores and GiB, as cube-studio does.

The peak is the largest over the runs given (a task's CPU peak is its busiest second, its
memory peak the largest RSS of its whole process tree).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MI = 2**20
GI = 2**30


@dataclass(frozen=True)
class Policy:
    name: str
    factor: float
    cpu_step: float  # cores: the suggestion is rounded up to a multiple of this
    cpu_extra: float  # cores added after rounding
    memory_step: int  # bytes
    memory_extra: int  # bytes

    def cpu(self, peak_percent: float) -> float:
        cores = _ceil_to(peak_percent / 100 * self.factor, self.cpu_step) + self.cpu_extra
        return round(max(cores, self.cpu_step), 3)

    def memory(self, peak_bytes: int) -> int:
        size = _ceil_to(peak_bytes * self.factor, self.memory_step) + self.memory_extra
        return int(max(size, self.memory_step))


POLICIES = {
    "headroom": Policy("headroom", 1.4, 0.1, 0.0, 64 * MI, 0),
    "cube-studio": Policy("cube-studio", 1.4, 1.0, 2.0, GI, 2 * GI),
}


def _ceil_to(value: float, step: float) -> float:
    return math.ceil(round(value / step, 6)) * step


@dataclass(frozen=True)
class RunPeak:
    """One run's evidence for a task: the peaks of its succeeded attempt."""

    run_id: str
    created_at: datetime
    attempt: int
    cpu_max: float  # percent of one core
    rss_max: int  # bytes
    gpu_mem_max: int | None = None


@dataclass(frozen=True)
class TaskAdvice:
    task: str
    current_cpu: float | None  # cores; None: no request
    current_memory: int | None  # bytes
    cpu: float | None  # suggested; None: no evidence
    memory: int | None
    evidence: tuple[RunPeak, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        if not self.evidence:
            return False
        return (self.cpu, self.memory) != (self.current_cpu, self.current_memory)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "runs": len(self.evidence),
            "current": {"cpu": self.current_cpu, "memory": self.current_memory},
            "suggested": {"cpu": self.cpu, "memory": self.memory},
            "changed": self.changed,
            "evidence": [
                {
                    "run_id": p.run_id,
                    "created_at": p.created_at.isoformat(),
                    "attempt": p.attempt,
                    "cpu_max_percent": p.cpu_max,
                    "rss_max_bytes": p.rss_max,
                    "gpu_mem_max_bytes": p.gpu_mem_max,
                }
                for p in self.evidence
            ],
        }


def suggest(
    task: str,
    evidence: Iterable[RunPeak],
    *,
    current_cpu: float | None,
    current_memory: int | None,
    policy: Policy,
) -> TaskAdvice:
    runs = tuple(evidence)
    if not runs:
        return TaskAdvice(task, current_cpu, current_memory, None, None)
    cpu = policy.cpu(max(p.cpu_max for p in runs))
    memory = policy.memory(max(p.rss_max for p in runs))
    return TaskAdvice(task, current_cpu, current_memory, cpu, memory, runs)


def suggest_all(
    data: Mapping[str, Any], peaks: Mapping[str, list[RunPeak]], policy: Policy
) -> list[TaskAdvice]:
    """Advice for every task of the pipeline ``data`` (its stored form), in file order."""
    out = []
    for task in _tasks(data):
        resources = task.get("resources") or {}
        out.append(
            suggest(
                task["name"],
                peaks.get(task["name"], []),
                current_cpu=resources.get("cpu"),
                current_memory=resources.get("memory"),
                policy=policy,
            )
        )
    return out


def apply(data: Mapping[str, Any], advice: Iterable[TaskAdvice]) -> dict[str, Any]:
    """A copy of ``data`` with the changed suggestions as the tasks' requests."""
    by_name = {a.task: a for a in advice if a.changed}
    new = dict(data)
    for section in ("tasks", "on_exit"):
        value = data.get(section)
        if isinstance(value, list):
            new[section] = [_with(task, by_name) for task in value]
        elif isinstance(value, dict):
            new[section] = _with(value, by_name)
    return new


def _with(task: Mapping[str, Any], by_name: Mapping[str, TaskAdvice]) -> dict[str, Any]:
    advice = by_name.get(task["name"])
    if advice is None:
        return dict(task)
    resources = {**(task.get("resources") or {}), "cpu": advice.cpu, "memory": advice.memory}
    return {**task, "resources": resources}


def _tasks(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tasks = list(data.get("tasks") or [])
    if isinstance(data.get("on_exit"), dict):
        tasks.append(data["on_exit"])
    return tasks


def format_cpu(cores: float | None) -> str:
    if cores is None:
        return "-"
    if cores == int(cores):
        return str(int(cores))
    return f"{round(cores * 1000)}m"


def format_memory(size: int | None) -> str:
    if size is None:
        return "-"
    if size % GI == 0:
        return f"{size // GI}Gi"
    if size % MI == 0:
        return f"{size // MI}Mi"
    return str(size)


def yaml_change(advice: Iterable[TaskAdvice]) -> str:
    """The edit to make by hand in a pipeline file, as YAML."""
    lines = ["tasks:"]
    for item in advice:
        if item.changed:
            lines += [
                f"  - name: {item.task}",
                "    resources:",
                f'      cpu: "{format_cpu(item.cpu)}"',
                f"      memory: {format_memory(item.memory)}",
            ]
    return "\n".join(lines) + "\n" if len(lines) > 1 else ""
