"""The template variables of a task (F2), and rendering its command, env, workdir and args.

Templates are rendered by the renderer process (``spec/renderer.py``) under a time and a
memory budget, in at most two round trips per task (the job template's command needs the
rendered args); a task without templates never reaches it. The context is plain JSON.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cubestudio.engine.nodes import TaskNode
from cubestudio.errors import RenderError
from cubestudio.spec.model import replace_strings, strings_in
from cubestudio.spec.render import is_template, referenced_names
from cubestudio.spec.renderer import Renderer
from cubestudio.spec.template import ParameterType, TemplateSpec, coerce_rendered, type_problem

_renderer: Renderer | None = None


def default_renderer() -> Renderer:
    """This process's renderer (its child process starts with the first template)."""
    global _renderer
    if _renderer is None:
        from cubestudio.settings import get_settings

        _renderer = Renderer(get_settings().render_timeout)
    return _renderer


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
    pipeline_dir: str | None = None,
) -> dict[str, Any]:
    return {
        "creator": creator,
        "runner": runner,
        "pipeline_id": pipeline_id,
        "pipeline_name": pipeline_name,
        "pipeline_dir": pipeline_dir or "",
        "cluster_name": cluster_name,
        "execution_date": execution_date,
        "run_id": run_id,
        "params": dict(params),
    }


@dataclass(frozen=True, slots=True)
class RenderedTask:
    command: str
    env: dict[str, str]
    workdir: str | None  # absolute; None: the attempt's own fresh folder
    args: dict[str, Any] | None = None  # a template task's typed args, rendered


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
    *,
    renderer: Renderer | None = None,
) -> RenderedTask:
    """The task's rendered command, env and workdir. Raises RenderError.

    A command task renders its command. A template task renders its args first (every
    string inside them; they may use every template variable), converts them to the
    parameters' types, then renders the template's command with ``args``. Env: template,
    then pipeline, then task."""
    env_texts = [
        *(template.env.items() if template else ()),
        *pipeline_env.items(),
        *node.spec.env.items(),
    ]
    raw_args = _given_args(node, template) if template else {}
    args = list(strings_in(raw_args))
    workdir = [node.spec.workdir] if node.spec.workdir is not None else []
    command = [] if template else [command_text(node)]
    texts = [*command, *(value for _, value in env_texts), *workdir, *(t for _, t in args)]
    if template is None and not any(is_template(t) for t in texts):
        env = dict(env_texts)  # the fast path: nothing to render, no renderer process
        return RenderedTask(texts[0], env, _workdir(workdir, base))
    context = dict(base, task_name=node.name, tasks=_outputs_of(texts, by_name))
    if node.is_exit and run_status is not None:
        context["run_status"] = run_status
    renderer = renderer or default_renderer()
    names = [
        *(["command"] if command else []),
        *(f"env.{key}" for key, _ in env_texts),
        *(["workdir"] if workdir else []),
        *(f"args{path}" for path, _ in args),
    ]
    done = iter(renderer.render_many(texts, context, names))
    first = [next(done) for _ in command]
    env = {key: next(done) for key, _ in env_texts}  # later sources win, as dict() does
    rendered_workdir = [next(done) for _ in workdir]
    if template is None:
        return RenderedTask(first[0], env, _workdir(rendered_workdir, base))
    context["args"] = _typed_args(template, raw_args, replace_strings(raw_args, done))
    [text] = renderer.render_many([template.command], context, [f"{template.ref} command"])
    return RenderedTask(text, env, _workdir(rendered_workdir, base), context["args"])


def _given_args(node: TaskNode, template: TemplateSpec) -> dict[str, Any]:
    """Each parameter's value: the task's arg, else the parameter's default."""
    args: dict[str, Any] = {}
    for param in template.parameters:
        value = node.spec.args.get(param.name, param.default)
        if value is None and param.required:
            raise RenderError(f"args.{param.name} is required by template {template.ref}")
        args[param.name] = value
    return args


def _typed_args(
    template: TemplateSpec, raw: Mapping[str, Any], rendered: Mapping[str, Any]
) -> dict[str, Any]:
    """A rendered string arg converted to its parameter's type, then checked; strings
    inside lists and mappings stay strings."""
    args: dict[str, Any] = {}
    for param in template.parameters:
        value = rendered[param.name]
        if any(is_template(text) for _, text in strings_in(raw[param.name])):
            if isinstance(value, str) and param.type not in (ParameterType.STR, ParameterType.TEXT):
                value = coerce_rendered(param, value)
            problem = type_problem(param, value)
            if problem:
                raise RenderError(f"args.{param.name}: {problem}")
        args[param.name] = value
    return args


def _workdir(rendered: list[str], base: Mapping[str, Any]) -> str | None:
    """The absolute folder the command runs in; a relative one starts at the pipeline's."""
    if not rendered:
        return None
    path = os.path.expanduser(rendered[0].strip())
    if not path:
        raise RenderError("workdir rendered to an empty path: give a folder")
    if not os.path.isabs(path):
        folder = base.get("pipeline_dir") or ""
        if not folder:
            raise RenderError(
                f"workdir '{path}' is relative, and this run's pipeline has no file whose "
                "folder it could start from: give an absolute path"
            )
        path = os.path.join(folder, path)
    return os.path.normpath(path)


def _outputs_of(texts: list[str], by_name: Mapping[str, TaskNode]) -> dict[str, Any]:
    """Only the tasks a template refers to: building every task's outputs per render would
    cost O(DAG) per task."""
    wanted: set[str] = set()
    for text in texts:
        wanted.update(_task_references(text))
    return {
        name: {"outputs": dict(by_name[name].outputs or {})}
        for name in wanted
        if name in by_name and by_name[name].outputs is not None
    }


def _task_references(text: str) -> Iterator[str]:
    if is_template(text):
        yield from (c[1] for c in referenced_names(text)[1] if len(c) > 1 and c[0] == "tasks")
