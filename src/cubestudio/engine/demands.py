"""What a task asks of the pool and, for a distributed task, its gang: the bridge between a
task's spec (resources, template, args) and admission (engine/admission) and the launch
plan (engine/distributed). Pure functions.

A task that requests nothing (no cpu, memory or gpu) and is not distributed does not go
through admission: like a Kubernetes pod without requests (BestEffort), it starts whenever
the run's parallelism allows. Everything else waits for its queue and the pool.
"""

from __future__ import annotations

import math
from typing import Any

from cubestudio.engine.admission import Grant
from cubestudio.engine.admission import Resources as Need
from cubestudio.engine.distributed import LaunchPlan, PortSource, plan_for
from cubestudio.engine.nodes import TaskNode
from cubestudio.spec.model import PipelineSpec, Resources
from cubestudio.spec.render import is_template
from cubestudio.spec.template import TemplateSpec

GANG_ARGS = ("workers", "ps", "nproc_per_worker", "slots", "on_failure", "max_restarts")


def resources_of(node: TaskNode, template: TemplateSpec | None) -> Resources:
    """Per worker: the task's own values, else its template's."""
    own, base = node.spec.resources, template.resources if template else Resources()
    return Resources(
        cpu=own.cpu if own.cpu is not None else base.cpu,
        memory=own.memory if own.memory is not None else base.memory,
        gpu=own.gpu or base.gpu,
    )


def need_of(resources: Resources) -> Need:
    """Admission's units: a whole gpu count, or one shared GPU for a fraction (0.5)."""
    gpu = resources.gpu
    return Need(
        cpu=resources.cpu or 0.0,
        memory=resources.memory or 0,
        gpu=math.ceil(gpu),
        gpu_shareable=gpu != math.floor(gpu),
    )


def kind_of(template: TemplateSpec | None) -> str | None:
    if template is None or template.distributed == "none":
        return None
    return template.distributed


def admitted(node: TaskNode, template: TemplateSpec | None) -> bool:
    """Whether the task waits for admission (see the module doc)."""
    res = resources_of(node, template)
    return kind_of(template) is not None or bool(res.cpu or res.memory or res.gpu)


def priority_of(node: TaskNode, spec: PipelineSpec) -> int:
    return node.spec.priority if node.spec.priority is not None else spec.priority


def raw_arg(node: TaskNode, template: TemplateSpec, name: str, default: Any) -> Any:
    """An arg as written (or the parameter's default): what admission and the failure
    policy read before the task is rendered. A template expression gives ``default``."""
    param = template.parameter(name)
    value = node.spec.args.get(name, param.default if param is not None else default)
    if value is None or (isinstance(value, str) and is_template(value)):
        return default
    return value


def gang_size(node: TaskNode, template: TemplateSpec) -> int:
    """How many like workers admission books: the computing workers plus TF's ps."""
    if kind_of(template) is None:
        return 1
    workers, ps = raw_arg(node, template, "workers", 1), raw_arg(node, template, "ps", 0)
    try:
        return max(1, int(workers)) + max(0, int(ps))
    except (TypeError, ValueError):
        return 1  # the launch refuses the value with its field's message


def restarts_allowed(node: TaskNode, template: TemplateSpec | None) -> int:
    """Extra attempts the gang's restart_group policy gives (0 with fail_fast)."""
    if kind_of(template) is None or template is None:
        return 0
    if raw_arg(node, template, "on_failure", "fail_fast") != "restart_group":
        return 0
    try:
        return max(0, int(raw_arg(node, template, "max_restarts", 0)))
    except (TypeError, ValueError):
        return 0


def gang_plan(
    node: TaskNode,
    template: TemplateSpec,
    *,
    command: str,
    args: dict[str, Any],
    env_names: list[str],
    grant: Grant | None,
    ports: PortSource,
) -> LaunchPlan:
    """The attempt's launch plan, each booked member given its granted GPU indices.
    Raises SpecError naming the arg that is wrong."""
    kind = kind_of(template)
    assert kind is not None
    plan = plan_for(
        kind,
        task_name=node.name,
        command=command,
        workers=args.get("workers", 1),
        resources=resources_of(node, template),
        ports=ports,
        ps=args.get("ps", 0),
        nproc_per_worker=args.get("nproc_per_worker", 1),
        slots=args.get("slots", 1),
        env_names=env_names,
        on_failure=args.get("on_failure", "fail_fast"),
        max_restarts=args.get("max_restarts", 0),
    )
    if grant is None:
        return plan
    devices = {member.name: grant.cuda_visible_devices(i) for i, member in enumerate(plan.booked())}
    members = tuple(
        member.model_copy(
            update={"env": {**member.env, "CUDA_VISIBLE_DEVICES": devices[member.name]}}
        )
        if member.name in devices
        else member
        for member in plan.workers
    )
    return plan.model_copy(update={"workers": members})
