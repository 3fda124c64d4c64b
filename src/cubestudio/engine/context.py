"""The template variables of a task (F2), and rendering its command and env."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from cubestudio.engine.nodes import TaskNode
from cubestudio.errors import RenderError
from cubestudio.spec.render import (
    DATETIME_NAMESPACE,
    UUID_NAMESPACE,
    is_template,
    referenced_names,
    render,
)
from cubestudio.spec.template import TemplateSpec, coerce_rendered, type_problem


def run_variables(
    *,
    run_id: str,
    pipeline_id: int,
    pipeline_name: str,
    creator: str,
    runner: str,
    cluster_name: str,
    execution_date: str,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "creator": creator,
        "runner": runner,
        "pipeline_id": pipeline_id,
        "pipeline_name": pipeline_name,
        "cluster_name": cluster_name,
        "execution_date": execution_date,
        "run_id": run_id,
        "params": dict(params),
        "datetime": DATETIME_NAMESPACE,
        "uuid": UUID_NAMESPACE,
    }


def command_text(node: TaskNode) -> str:
    command = node.spec.command
    if command is None:
        return ""
    return command if isinstance(command, str) else shlex.join(command)


def render_task(
    node: TaskNode,
    base: Mapping[str, Any],
    pipeline_env: Mapping[str, str],
    by_name: Mapping[str, TaskNode],
    run_status: str | None,
    template: TemplateSpec | None = None,
) -> tuple[str, dict[str, str]]:
    """The task's rendered command and env. Raises RenderError.

    A command task renders its command. A template task renders its string args first
    (they may use every template variable), converts them to the parameters' types, then
    renders the template's command with ``args``. Env: template, then pipeline, then task."""
    texts = [command_text(node), *pipeline_env.values(), *node.spec.env.values()]
    if template is None and not any(is_template(t) for t in texts):
        return texts[0], {**pipeline_env, **node.spec.env}  # the fast path: nothing to render
    arg_texts = [v for v in node.spec.args.values() if isinstance(v, str)]
    context = dict(base, task_name=node.name, tasks=_outputs_of(texts + arg_texts, by_name))
    if node.is_exit and run_status is not None:
        context["run_status"] = run_status
    env: dict[str, str] = {}
    if template is not None:
        env.update({key: render(value, context) for key, value in template.env.items()})
    env.update({key: render(value, context) for key, value in pipeline_env.items()})
    env.update({key: render(value, context) for key, value in node.spec.env.items()})
    if template is None:
        return render(texts[0], context), env
    context["args"] = _render_args(node, template, context)
    return render(template.command, context), env


def _render_args(
    node: TaskNode, template: TemplateSpec, context: Mapping[str, Any]
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for param in template.parameters:
        value = node.spec.args.get(param.name, param.default)
        if value is None and param.required:
            raise RenderError(f"args.{param.name} is required by template {template.ref}")
        if isinstance(value, str) and is_template(value):
            text = render(value, context)
            value = text if param.type in ("str", "text") else coerce_rendered(param, text)
            problem = type_problem(param, value)
            if problem:
                raise RenderError(f"args.{param.name}: {problem}")
        args[param.name] = value
    return args


def _outputs_of(texts: list[str], by_name: Mapping[str, TaskNode]) -> dict[str, Any]:
    """Only the tasks a template refers to: building every task's outputs per render would
    cost O(DAG) per task."""
    wanted: set[str] = set()
    for text in texts:
        if is_template(text):
            wanted.update(c[1] for c in referenced_names(text)[1] if len(c) > 1 and c[0] == "tasks")
    return {
        name: {"outputs": dict(by_name[name].outputs or {})}
        for name in wanted
        if name in by_name and by_name[name].outputs is not None
    }
