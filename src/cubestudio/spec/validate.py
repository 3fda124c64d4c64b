"""Rules that span fields: task names, dependencies, cycles and template variables.

Each rule returns FieldErrors naming the field path and the fix; ``check_pipeline`` runs them
all so that ``cube validate`` reports every problem at once. Cost is linear in the size of the
DAG (a 10,000-task pipeline validates in well under a second).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from cubestudio.errors import FieldError, RenderError
from cubestudio.spec.alerts import check_alerts
from cubestudio.spec.model import PipelineSpec, TaskSpec
from cubestudio.spec.render import VARIABLES, is_template, referenced_names, suggest
from cubestudio.spec.template import TemplateCatalog, TemplateSpec, check_args, parse_ref


def check_pipeline(spec: PipelineSpec, catalog: TemplateCatalog | None = None) -> list[FieldError]:
    """Every cross-field problem. With a catalog, template references and their args too."""
    errors = _check_names(spec)
    errors += _check_depends(spec)
    if not errors:
        errors += _check_cycles(spec)
    tasks = {task.name: task for task in spec.tasks}
    errors += _check_templates(spec, tasks)
    errors += _check_inputs(spec, tasks)
    errors += check_alerts(spec)
    if catalog is not None:
        errors += _check_job_templates(spec, catalog)
    return errors


def resolve_templates(spec: PipelineSpec, catalog: TemplateCatalog) -> dict[str, TemplateSpec]:
    """The template each task refers to, by the reference as written (``trainer@2``)."""
    found: dict[str, TemplateSpec] = {}
    for task in spec.all_tasks():
        if task.template is not None and task.template not in found:
            name, version = parse_ref(task.template)
            found[task.template] = catalog.resolve(name, version)
    return found


def _check_job_templates(spec: PipelineSpec, catalog: TemplateCatalog) -> list[FieldError]:
    errors: list[FieldError] = []
    index = _index(spec)
    for task in spec.all_tasks():
        if task.template is None:
            continue
        path = task_path(spec, task, index)
        try:
            name, version = parse_ref(task.template)
            template = catalog.resolve(name, version)
        except (ValueError, LookupError) as err:
            message = err.args[0] if err.args else str(err)
            errors.append(FieldError(f"{path}.template", str(message)))
            continue
        errors += check_args(template, task.args, f"{path}.args")
    return errors


def _check_inputs(spec: PipelineSpec, tasks: Mapping[str, TaskSpec]) -> list[FieldError]:
    errors: list[FieldError] = []
    index = _index(spec)
    for task in spec.all_tasks():
        for k, given in enumerate(task.inputs):
            path = f"{task_path(spec, task, index)}.inputs[{k}]"
            producer = tasks.get(given.task)
            if producer is None:
                hint = suggest(given.task, list(tasks))
                errors.append(FieldError(path, f"unknown task '{given.task}'{hint}"))
                continue
            if task is not spec.on_exit and not is_upstream(tasks, given.task, task):
                errors.append(
                    FieldError(
                        path,
                        f"task '{given.task}' is not upstream of '{task.name}'; "
                        f"add '{given.task}' to its depends",
                    )
                )
                continue
            output = next((o for o in producer.outputs if o.name == given.output), None)
            if output is None:
                declared = ", ".join(o.name for o in producer.outputs) or "none"
                hint = suggest(given.output, [o.name for o in producer.outputs])
                errors.append(
                    FieldError(
                        path,
                        f"task '{given.task}' declares no output '{given.output}'{hint} "
                        f"(its outputs: {declared})",
                    )
                )
            elif output.type == "parameter":
                errors.append(
                    FieldError(
                        path,
                        f"'{given.source}' is a parameter output: use "
                        f"{{{{ tasks.{given.task}.outputs.{given.output} }}}} instead of inputs",
                    )
                )
    return errors


def task_path(spec: PipelineSpec, task: TaskSpec, index: dict[str, int] | None = None) -> str:
    if spec.on_exit is task:
        return "on_exit"
    return f"tasks[{(index or _index(spec))[task.name]}]"


def _index(spec: PipelineSpec) -> dict[str, int]:
    return {task.name: i for i, task in enumerate(spec.tasks)}


def _check_names(spec: PipelineSpec) -> list[FieldError]:
    errors: list[FieldError] = []
    first: dict[str, int] = {}
    for i, task in enumerate(spec.tasks):
        if task.name in first:
            errors.append(
                FieldError(
                    f"tasks[{i}].name",
                    f"duplicate task name '{task.name}' (also tasks[{first[task.name]}]); "
                    "give each task its own name",
                )
            )
        else:
            first[task.name] = i
    if spec.on_exit is not None:
        if spec.on_exit.name in first:
            errors.append(
                FieldError(
                    "on_exit.name",
                    f"'{spec.on_exit.name}' is already the name of "
                    f"tasks[{first[spec.on_exit.name]}]; give the exit task its own name",
                )
            )
        if spec.on_exit.depends:
            errors.append(
                FieldError(
                    "on_exit.depends",
                    "the on_exit task runs after every other task; remove its depends",
                )
            )
    return errors


def _check_depends(spec: PipelineSpec) -> list[FieldError]:
    names = _index(spec)
    errors: list[FieldError] = []
    for i, task in enumerate(spec.tasks):
        for j, dep in enumerate(task.depends):
            path = f"tasks[{i}].depends[{j}]"
            if dep == task.name:
                errors.append(FieldError(path, f"task '{dep}' cannot depend on itself"))
            elif dep not in names:
                hint = suggest(dep, list(names))
                errors.append(FieldError(path, f"unknown task '{dep}'{hint}"))
    return errors


def _check_cycles(spec: PipelineSpec) -> list[FieldError]:
    indegree = {task.name: len(set(task.depends)) for task in spec.tasks}
    children: dict[str, list[str]] = {task.name: [] for task in spec.tasks}
    for task in spec.tasks:
        for dep in set(task.depends):
            children[dep].append(task.name)
    ready = deque(name for name, n in indegree.items() if n == 0)
    seen = 0
    while ready:
        name = ready.popleft()
        seen += 1
        for child in children[name]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if seen == len(indegree):
        return []
    cycle = _find_cycle(spec, {name for name, n in indegree.items() if n > 0})
    first = _index(spec)[cycle[0]]
    return [
        FieldError(
            f"tasks[{first}].depends",
            "dependency cycle: " + " -> ".join([*cycle, cycle[0]]) + "; remove one of these "
            "dependencies",
        )
    ]


def _find_cycle(spec: PipelineSpec, stuck: set[str]) -> list[str]:
    """Walk upstream from a task left over by Kahn's algorithm until a task repeats."""
    depends = {task.name: [d for d in task.depends if d in stuck] for task in spec.tasks}
    order = [task.name for task in spec.tasks if task.name in stuck]
    path: list[str] = []
    position: dict[str, int] = {}
    name = order[0]
    while name not in position:
        position[name] = len(path)
        path.append(name)
        name = depends[name][0]
    cycle = path[position[name] :]
    cycle.reverse()  # upstream first: a -> b means b depends on a
    return cycle


def _check_templates(spec: PipelineSpec, tasks: Mapping[str, TaskSpec]) -> list[FieldError]:
    errors: list[FieldError] = []
    for key, value in spec.env.items():
        errors += _check_text(spec, None, f"env.{key}", value, tasks)
    index = _index(spec)
    for task in spec.all_tasks():
        path = task_path(spec, task, index)
        for where, text in task.template_texts():
            errors += _check_text(spec, task, f"{path}.{where}", text, tasks)
        errors += _check_workdir(spec, task, path)
    return list(dict.fromkeys(errors))  # nested attribute chains repeat a finding


def _check_workdir(spec: PipelineSpec, task: TaskSpec, path: str) -> list[FieldError]:
    """A relative workdir starts at the pipeline file's folder: a pipeline given as data has
    none. (A templated one is checked once rendered, when the task starts.)"""
    workdir = task.workdir
    if workdir is None or spec.pipeline_dir or is_template(workdir):
        return []
    if workdir.startswith(("/", "~")):
        return []
    return [
        FieldError(
            f"{path}.workdir",
            f"'{workdir}' is relative, and this pipeline has no file whose folder it could "
            "start from: give an absolute path",
        )
    ]


def _check_text(
    spec: PipelineSpec,
    task: TaskSpec | None,
    path: str,
    text: str,
    tasks: Mapping[str, TaskSpec],
) -> list[FieldError]:
    if not is_template(text):
        return []
    try:
        names, chains = referenced_names(text)
    except RenderError as exc:
        return [FieldError(path, str(exc))]
    allowed = set(VARIABLES) - {"args"}  # args exist in a job template's own command only
    if not (task is spec.on_exit and task):
        allowed.discard("run_status")
    errors = [
        FieldError(path, f"unknown template variable '{name}'{suggest(name, sorted(allowed))}")
        for name in sorted(names - allowed)
    ]
    # ``a.b.c`` also yields ``a.b`` and ``a``: check only the longest chain, once per reference.
    prefixes = {chain[:k] for chain in chains for k in range(1, len(chain))}
    for chain in chains:
        if chain in prefixes:
            continue
        if chain[0] == "params" and len(chain) >= 2 and chain[1] not in spec.params:
            hint = suggest(chain[1], list(spec.params)) or " (declare it under params)"
            errors.append(FieldError(path, f"unknown parameter 'params.{chain[1]}'{hint}"))
        elif chain[0] == "tasks":
            errors += _check_output_reference(spec, task, path, chain, tasks)
    return errors


def _check_output_reference(
    spec: PipelineSpec,
    task: TaskSpec | None,
    path: str,
    chain: tuple[str, ...],
    tasks: Mapping[str, TaskSpec],
) -> list[FieldError]:
    if len(chain) < 2:
        return []
    ref = ".".join(chain[:4])
    producer = _task_named(spec, chain[1], tasks)
    if producer is None:
        hint = suggest(chain[1], [t.name for t in spec.tasks])
        return [FieldError(path, f"'{ref}' refers to unknown task '{chain[1]}'{hint}")]
    if task is None:
        return [FieldError(path, f"'{ref}': pipeline env cannot use task outputs; use task env")]
    if producer is task:
        return [FieldError(path, f"'{ref}': a task cannot use its own outputs")]
    if producer is spec.on_exit:
        return [
            FieldError(path, f"'{ref}': the on_exit task runs last; no task can use its outputs")
        ]
    if task is not spec.on_exit and not is_upstream(tasks, chain[1], task):
        return [
            FieldError(
                path,
                f"'{ref}': task '{chain[1]}' is not upstream of '{task.name}'; "
                f"add '{chain[1]}' to its depends",
            )
        ]
    if len(chain) >= 3 and chain[2] != "outputs":
        return [FieldError(path, f"'{ref}': use tasks.{chain[1]}.outputs.NAME")]
    artifacts = [o.name for o in producer.artifact_outputs]
    if len(chain) >= 4 and chain[3] in artifacts:
        return [
            FieldError(
                path,
                f"'{ref}' is a file artifact: receive it with inputs: [{chain[1]}.{chain[3]}]",
            )
        ]
    if len(chain) >= 4 and chain[3] not in producer.parameter_outputs:
        declared = ", ".join(producer.parameter_outputs) or "none"
        hint = suggest(chain[3], producer.parameter_outputs)
        return [
            FieldError(
                path,
                f"'{ref}': task '{chain[1]}' declares no output '{chain[3]}'{hint} "
                f"(its outputs: {declared})",
            )
        ]
    return []


def is_upstream(tasks: Mapping[str, TaskSpec], name: str, task: TaskSpec) -> bool:
    """Is task ``name`` upstream of ``task``? A walk up that stops when it finds it, over a
    dependency map built once per check, so checking every reference stays near linear."""
    seen: set[str] = set()
    todo = list(task.depends)
    while todo:
        current = todo.pop()
        if current == name:
            return True
        if current not in seen and current in tasks:
            seen.add(current)
            todo.extend(tasks[current].depends)
    return False


def _task_named(spec: PipelineSpec, name: str, tasks: Mapping[str, TaskSpec]) -> TaskSpec | None:
    if spec.on_exit is not None and spec.on_exit.name == name:
        return spec.on_exit
    return tasks.get(name)


def ancestors(spec: PipelineSpec, task: TaskSpec) -> set[str]:
    """Every task upstream of ``task``, directly or not."""
    depends = {t.name: t.depends for t in spec.tasks}
    seen: set[str] = set()
    todo = list(task.depends)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(depends.get(name, ()))
    return seen
