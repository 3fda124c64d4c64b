"""cube-studio pipelines -> our pipeline files (as data), validated against the templates.

A task names its template by cube-studio name (``job_templete``, sic); the template must have
been imported (``template_name`` gives the same name both times). Its flat args
(``{"--epoch": "10"}``) become typed args by the template's parameters; args the template
does not declare go to its ``extra_args``. ``dag_json`` gives each task's ``depends``;
``schedule_type: crontab`` and the cron fields give the schedule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cubestudio.errors import SpecError
from cubestudio.importers.cubestudio import (
    EXTRA_ARGS,
    ImportResult,
    Ledger,
    convert,
    is_empty,
    item_kind,
    json_field,
    parameter_name,
    parse_env,
    pipeline_name,
    task_name,
    template_name,
)
from cubestudio.importers.cubestudio_schedule import settings
from cubestudio.importers.cubestudio_templates import flag_parameters
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.quantities import parse_cpu, parse_memory
from cubestudio.spec.render import is_template
from cubestudio.spec.template import ParameterSpec, ParameterType, TemplateCatalog, TemplateSpec

_KUBERNETES = "Kubernetes only ({what}): no equivalent here"
_PIPELINE_REASONS = {
    "project": "the cube-studio project (team) owning the pipeline: pipelines here have none",
    "expand": "the editor's node positions and edges (the edges are also in dag_json)",
    "namespace": _KUBERNETES.format(what="the namespace its pods run in"),
    "node_selector": _KUBERNETES.format(what="the nodes its pods run on"),
    "image_pull_policy": _KUBERNETES.format(what="when images are pulled"),
    "alert_status": "alerting: pipelines here have no alert settings",
    "alert_user": "alerting: pipelines here have no alert settings",
    "pipeline_file": "state of a cube-studio installation (its generated Argo workflow)",
    "pipeline_argo_id": "state of a cube-studio installation (its Argo pipeline id)",
    "version_id": "state of a cube-studio installation (its Argo pipeline version)",
    "run_id": "state of a cube-studio installation (its last run)",
}
_TASK_REASONS = {
    "volume_mount": _KUBERNETES.format(what="pvc/hostpath/configmap volumes of the pod"),
    "node_selector": _KUBERNETES.format(what="the nodes the pod runs on"),
    "resource_rdma": _KUBERNETES.format(what="RDMA devices; resources here are cpu, memory, gpu"),
    "hostAliases": _KUBERNETES.format(what="/etc/hosts entries of the pod"),
    "command": "replaces the template's entrypoint in cube-studio; a template task here "
    "cannot change its template's command",
    "overwrite_entrypoint": "replaces the template's entrypoint in cube-studio; a template "
    "task here cannot change its template's command",
    "outputs": "files cube-studio copies after the task; outputs here are written under "
    "$CUBE_OUTPUTS and declared by the task",
    "monitoring": "cube-studio's monitoring record of the task",
    "expand": "the editor's data for the node",
}


def import_pipelines(data: Mapping[str, Any], catalog: TemplateCatalog) -> list[ImportResult]:
    return [map_pipeline(str(key), item, catalog) for key, item in data.items()]


def map_pipeline(key: str, item: Mapping[str, Any], catalog: TemplateCatalog) -> ImportResult:
    """Map one ``{pipeline, tasks}`` entry and validate it with ``catalog``'s templates."""
    meta = json_field(item.get("pipeline"))
    meta = meta if isinstance(meta, dict) else {}
    original = str(meta.get("name") or key)
    result = ImportResult("pipeline", original, pipeline_name(original))
    ledger = Ledger(result)
    data = _pipeline_data(meta, item.get("tasks"), result, ledger, catalog)
    ledger.rest(meta, "pipeline.", _PIPELINE_REASONS)
    ledger.rest(item, "", {})
    if result.ok:
        try:
            pipeline_from_data(data, catalog=catalog)
        except SpecError as err:
            result.errors += [str(e) for e in err.errors]
    result.pipeline = data
    return result


def _pipeline_data(
    meta: dict[str, Any],
    raw_tasks: Any,
    result: ImportResult,
    ledger: Ledger,
    catalog: TemplateCatalog,
) -> dict[str, Any]:
    ledger.mapped("pipeline", "(its fields)")
    ledger.mapped("pipeline.name", "name" if result.name == result.source else "name (renamed)")
    describe = str(meta.get("describe") or "").strip()
    origin = f"cube-studio pipeline '{result.source}'"
    data: dict[str, Any] = {
        "name": result.name,
        "description": f"{describe} ({origin})" if describe else origin,
    }
    if "describe" in meta:
        ledger.mapped("pipeline.describe", "description")
    env = parse_env(meta.get("global_env"), "pipeline.global_env", ledger)
    if env:
        data["env"] = env
    settings(meta, data, ledger)
    tasks = raw_tasks if isinstance(raw_tasks, list) else []
    if not isinstance(raw_tasks, list):
        result.errors.append("tasks: not a list of tasks")
    names = {
        str(t.get("name")): task_name(str(t.get("name"))) for t in tasks if isinstance(t, dict)
    }
    depends = _depends(meta, names, ledger)
    ledger.mapped("tasks", "tasks")
    data["tasks"] = [
        _task(k, task, names, depends, catalog, result, ledger) for k, task in enumerate(tasks)
    ]
    return data


def _depends(meta: dict[str, Any], names: dict[str, str], ledger: Ledger) -> dict[str, list[str]]:
    """Each task's upstream tasks (our names) from ``dag_json``."""
    dag = json_field(meta.get("dag_json", {}))
    if not isinstance(dag, dict):
        ledger.unmapped("pipeline.dag_json", dag, "not a mapping of tasks")
        return {}
    ledger.mapped("pipeline.dag_json", "tasks[].depends" if dag else "(empty)")
    depends: dict[str, list[str]] = {}
    for node, spec in dag.items():
        path = f"pipeline.dag_json.{node}"
        if node not in names:
            ledger.unmapped(path, spec, "a task the pipeline does not have (cube-studio drops it)")
            continue
        spec = spec if isinstance(spec, dict) else {}
        ups = spec.get("upstream") or []
        known = [names[u] for u in ups if u in names]
        for up in (u for u in ups if u not in names):
            ledger.unmapped(f"{path}.upstream", up, "an upstream task the pipeline does not have")
        depends[names[node]] = list(dict.fromkeys(known))
        ledger.mapped(path, f"tasks[].depends ({names[node]})")
        if "upstream" in spec:
            ledger.mapped(f"{path}.upstream", "depends")
        ledger.rest(spec, f"{path}.", {})
    return depends


def _task(
    k: int,
    task: Any,
    names: dict[str, str],
    depends: dict[str, list[str]],
    catalog: TemplateCatalog,
    result: ImportResult,
    ledger: Ledger,
) -> dict[str, Any]:
    path = f"tasks[{k}]"
    if not isinstance(task, dict):
        result.errors.append(f"{path}: not a task (a mapping)")
        return {}
    original = str(task.get("name"))
    name = names[original]
    out: dict[str, Any] = {"name": name}
    ledger.mapped(f"{path}.name", "name" if name == original else f"name ({name})")
    if "label" in task:
        out["description"] = str(task["label"])
        ledger.mapped(f"{path}.label", "description")
    template = _template(task, path, catalog, result, ledger)
    if template is not None:
        out["template"] = template.name
        args = _args(template, json_field(task.get("args", {})), f"{path}.args", ledger)
        if args:
            out["args"] = args
    elif "args" in task:
        ledger.unmapped(f"{path}.args", task["args"], "its template is not registered")
    if depends.get(name):
        out["depends"] = depends[name]
    _resources(task, out, path, ledger)
    _task_scalars(task, out, path, ledger)
    ledger.rest(task, f"{path}.", _TASK_REASONS)
    return out


def _template(
    task: dict[str, Any], path: str, catalog: TemplateCatalog, result: ImportResult, ledger: Ledger
) -> TemplateSpec | None:
    key = "job_templete" if "job_templete" in task else "job_template"
    original = task.get(key)
    if not isinstance(original, str) or not original:
        result.errors.append(f"{path}: names no job template (job_templete)")
        return None
    ours = template_name(original)
    try:
        template = catalog.resolve(ours, None)
    except LookupError:
        result.errors.append(
            f"{path}.template: task '{task.get('name')}' uses cube-studio template "
            f"'{original}' (imported as '{ours}'), which is not registered: import the "
            "template export first (cube import cube-studio init-job-template.json)"
        )
        return None
    ledger.mapped(f"{path}.{key}", f"template ({ours})")
    return template


def _args(template: TemplateSpec, raw: Any, path: str, ledger: Ledger) -> dict[str, Any]:
    if not isinstance(raw, dict):
        ledger.unmapped(path, raw, "not a mapping of args")
        return {}
    flags = flag_parameters(template)
    extra = template.parameter(EXTRA_ARGS)
    args: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for flag, value in raw.items():
        where = f"{path}.{flag}"
        param = template.parameter(_parameter_of(flag, flags))
        if param is None or param is extra:
            if extra is None:
                ledger.unmapped(where, value, f"template {template.name} declares no such arg")
            else:
                extras[flag] = value
                ledger.mapped(where, f"args.{EXTRA_ARGS}")
            continue
        _arg(param, value, args, where, ledger)
    if extras:
        args[EXTRA_ARGS] = extras
    return args


def _parameter_of(flag: str, flags: dict[str, str]) -> str:
    """The parameter a task's arg fills: the one the command passes as this very flag, or
    one the command does not pass as a flag (``images``, ``workdir``, ``command``)."""
    if flag in flags:
        return flags[flag]
    name = parameter_name(flag, set())
    return "" if name in flags.values() else name


def _arg(param: ParameterSpec, value: Any, args: dict[str, Any], path: str, ledger: Ledger) -> None:
    kind = param.type
    text_like = kind in (ParameterType.STR, ParameterType.TEXT, ParameterType.JSON)
    if is_empty(value) and not text_like:
        if param.default is None:
            ledger.mapped(path, "(empty: not given, as cube-studio passes no flag)")
        else:
            ledger.unmapped(
                path,
                value,
                f"cube-studio passes no flag for an empty value; here the default "
                f"{param.default!r} applies",
            )
        return
    if isinstance(value, str) and is_template(value):
        args[param.name] = value  # checked once rendered, when the task runs
        ledger.mapped(path, f"args.{param.name}")
        return
    try:
        args[param.name] = _typed(param, value)
    except ValueError as err:
        ledger.unmapped(path, value, f"{err}: parameter '{param.name}' is a {kind}")
        return
    ledger.mapped(path, f"args.{param.name}")


def _typed(param: ParameterSpec, value: Any) -> Any:
    if param.type is ParameterType.ENUM:
        for kind in (ParameterType.STR, ParameterType.INT, ParameterType.FLOAT, ParameterType.BOOL):
            try:
                candidate = convert(value, kind)
            except ValueError:
                continue
            if candidate in param.choices:
                return candidate
        raise ValueError("not one of its choices")
    items = param.default if isinstance(param.default, list) else []
    item = item_kind(type(items[0]).__name__) if items else ParameterType.STR
    return convert(value, param.type, item)


def _resources(task: dict[str, Any], out: dict[str, Any], path: str, ledger: Ledger) -> None:
    resources: dict[str, Any] = {}
    for what, parse in (("cpu", parse_cpu), ("memory", parse_memory), ("gpu", _gpu)):
        key = f"resource_{what}"
        if key not in task:
            continue
        value = task[key]
        try:
            amount = parse(str(value).strip())
        except ValueError as err:
            ledger.unmapped(f"{path}.{key}", value, f"{err}: left out")
            continue
        if what == "cpu":
            resources["cpu"] = int(amount) if float(amount).is_integer() else amount
        elif what == "memory":
            resources["memory"] = str(value).strip()  # "2G" reads better than 2000000000
        elif amount:
            resources["gpu"] = amount
        ledger.mapped(f"{path}.{key}", f"resources.{what}")
        kind = re.fullmatch(r"[\d.]+\s*\((.*)\)", str(value).strip()) if what == "gpu" else None
        if kind:
            ledger.unmapped(f"{path}.{key}", value, "the GPU type: resources here count GPUs only")
    if resources:
        out["resources"] = resources


def _gpu(text: str) -> float:
    """cube-studio's GPU request: a count, optionally with a type (``1(V100)``)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(\(.*\))?", text)
    if not match:
        raise ValueError(f"{text!r} is not a GPU count")
    return float(match.group(1))


def _task_scalars(task: dict[str, Any], out: dict[str, Any], path: str, ledger: Ledger) -> None:
    """timeout (seconds, 0: none), retry, working_dir and skip."""
    fields = {
        "timeout": ("timeout", ParameterType.INT),
        "retry": ("retries", ParameterType.INT),
        "working_dir": ("workdir", ParameterType.STR),
        "skip": ("skip", ParameterType.BOOL),
    }
    for key, (target, kind) in fields.items():
        if key not in task:
            continue
        value = task[key]
        try:
            converted = convert(value, kind) if not is_empty(value) else None
            if key == "retry" and converted is not None and not 0 <= converted <= 100:
                raise ValueError("retries are 0 to 100 here")
            if key == "timeout" and converted is not None and converted < 0:
                raise ValueError("a timeout is not negative")
        except ValueError as err:
            ledger.unmapped(f"{path}.{key}", value, str(err))
            continue
        if converted:  # 0, '' and false are the defaults: nothing to write
            out[target] = converted
        ledger.mapped(f"{path}.{key}", target if converted else "(default)")
