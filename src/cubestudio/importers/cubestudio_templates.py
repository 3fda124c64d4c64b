"""cube-studio job templates -> TemplateSpec.

What cube-studio does with a template (``make_container_template`` in its pipeline view) is
what the imported command does: the entrypoint (``job_template_command``, split on spaces,
no shell) run in ``job_template_workdir``, then for each arg ``--flag value`` (a true boolean
gives the flag alone; an empty value, false or none gives nothing; a mapping or list is
passed as JSON). The custom-image template (an arg ``command`` and no entrypoint) runs
``cd workdir && command``. Args a template does not declare reach the command through the
``extra_args`` parameter, since cube-studio passes every arg a task gives.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from cubestudio.importers.cubestudio import (
    EXTRA_ARGS,
    ImportResult,
    Ledger,
    is_empty,
    json_field,
    parse_env,
    template_name,
)
from cubestudio.importers.cubestudio_args import Arg, arguments
from cubestudio.spec.quantities import parse_cpu, parse_memory
from cubestudio.spec.render import is_template
from cubestudio.spec.template import TemplateSpec

# cube-studio's rule for one arg, as a Jinja macro the command calls once per arg.
FLAG_MACRO = (
    "{%- macro flag(name, value) -%}\n"
    "{%- if value is sameas true %} {{ name | quote }}\n"
    "{%- elif value is sameas false or value is none or value in ('', [], {}) -%}\n"
    "{%- elif value is mapping or (value is iterable and value is not string) %}"
    " {{ name | quote }} {{ value | tojson | quote }}\n"
    "{%- else %} {{ name | quote }} {{ value | quote }}\n"
    "{%- endif -%}\n"
    "{%- endmacro -%}\n"
)
_FLAG_CALL = re.compile(r'flag\(("(?:[^"\\]|\\.)*"), args\.(\w+)\)')

_REASONS = {
    "gitpath": "where the template's code lives in cube-studio's repository: templates here "
    "keep no source link",
    "image_describe": "a description of the image: templates here describe themselves, "
    "not their image",
    "job_template_version": "cube-studio's release stage (Release/Alpha): versions here are "
    "numbers the registry gives",
    "job_template_old_names": "former names: the registry has no aliases",
}
_EXPAND_REASONS = {
    "index": "the template's place in cube-studio's editor palette",
    "rec_job_template": "the template cube-studio's editor suggests next",
    "help_url": "a link to the template's documentation in cube-studio: templates here keep "
    "no help link",
    "HostNetwork": "Kubernetes host networking for the pod: no equivalent here",
    "enterprise": "marks a template of cube-studio's enterprise edition",
}


def import_templates(data: Mapping[str, Any]) -> list[ImportResult]:
    return [map_template(str(key), item) for key, item in data.items()]


def map_template(key: str, item: Mapping[str, Any]) -> ImportResult:
    original = str(item.get("job_template_name") or key)
    result = ImportResult("template", original, template_name(original))
    ledger = Ledger(result)
    data = _template_data(item, original, result.name, ledger)
    ledger.rest(item, "", _REASONS)
    try:
        result.template = TemplateSpec.model_validate(data)
    except ValidationError as exc:
        result.errors += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return result


def _template_data(
    item: Mapping[str, Any], original: str, name: str, ledger: Ledger
) -> dict[str, Any]:
    ledger.mapped("job_template_name", "name" if name == original else f"name ({name})")
    describe = str(item.get("job_template_describe") or "").strip()
    origin = f"cube-studio template '{original}'"
    data: dict[str, Any] = {
        "name": name,
        "description": f"{describe} ({origin})" if describe else origin,
    }
    if "job_template_describe" in item:
        ledger.mapped("job_template_describe", "description")
    _scalar(item, "project_name", "category", data, ledger)
    _scalar(item, "image_name", "image", data, ledger)
    _scalar(item, "job_template_account", "service_account", data, ledger)
    parameters, args = arguments(item, ledger)
    extra = None if any(p["name"] == EXTRA_ARGS for p in parameters) else EXTRA_ARGS
    if _is_custom(item, args):
        extra = None  # cube-studio runs `command` alone and ignores other args
    if extra:
        parameters.append(
            {
                "name": extra,
                "type": "json",
                "default": {},
                "description": "args the cube-studio template does not declare "
                "({flag: value}), passed on the command line as cube-studio passes them",
            }
        )
    data["parameters"] = parameters
    data["command"] = _command(item, args, extra, ledger)
    env, resources = _env(item, ledger)
    if env:
        data["env"] = env
    if resources:
        data["resources"] = resources
    volumes = _volumes(item, ledger)
    if volumes:
        data["volumes"] = volumes
    _expand(item, ledger)
    return data


def _scalar(
    item: Mapping[str, Any], key: str, target: str, data: dict[str, Any], ledger: Ledger
) -> None:
    if key not in item:
        return
    value = item[key]
    if is_empty(value):
        ledger.mapped(key, "(empty)")
    elif isinstance(value, str):
        data[target] = value
        ledger.mapped(key, target)
    else:
        ledger.unmapped(key, value, f"{target} is text here")


def _is_custom(item: Mapping[str, Any], args: list[Arg]) -> bool:
    return is_empty(item.get("job_template_command")) and any(a.role == "command" for a in args)


def _command(item: Mapping[str, Any], args: list[Arg], extra: str | None, ledger: Ledger) -> str:
    workdir = str(item.get("job_template_workdir") or "").strip()
    prefix = f"cd {shlex.quote(workdir)} && " if workdir else ""
    if "job_template_workdir" in item:
        ledger.mapped("job_template_workdir", "command (cd)" if workdir else "(empty)")
    if _is_custom(item, args):
        if "job_template_command" in item:
            ledger.mapped("job_template_command", "(empty: the arg 'command' is the command)")
        has_dir = any(a.role == "workdir" for a in args)
        cd = "{% if args.workdir %}cd {{ args.workdir | quote }} && {% endif %}" if has_dir else ""
        return prefix + cd + "{{ args.command }}"
    entry = str(item.get("job_template_command") or "").strip()
    if entry:
        ledger.mapped("job_template_command", "command")
        base = " ".join(shlex.quote(t) for t in entry.split(" ") if t)
        base = f"{{% raw %}}{base}{{% endraw %}}" if is_template(base) else base
    else:
        ledger.unmapped(
            "job_template_command",
            item.get("job_template_command"),
            "none given: cube-studio then runs the image's own entrypoint, which the export "
            "does not name; the imported command is `true` (it does nothing): give it one",
        )
        base = "true"
    flags = "".join(
        f"{{{{ flag({json.dumps(a.flag)}, args.{a.param}) }}}}" for a in args if a.role == "flag"
    )
    extras = (
        f"{{% for name, value in args.{extra}.items() %}}{{{{ flag(name, value) }}}}{{% endfor %}}"
        if extra
        else ""
    )
    macro = FLAG_MACRO if flags or extras else ""
    return macro + prefix + base + flags + extras


def flag_parameters(template: TemplateSpec) -> dict[str, str]:
    """Each flag the command passes (``--epoch``) -> its parameter (``epoch``)."""
    return {json.loads(flag): param for flag, param in _FLAG_CALL.findall(template.command)}


def _env(item: Mapping[str, Any], ledger: Ledger) -> tuple[dict[str, str], dict[str, Any]]:
    env = parse_env(item.get("job_template_env"), "job_template_env", ledger)
    resources: dict[str, Any] = {}
    for key, value in env.items():
        if key.startswith("TASK_RESOURCE_"):
            _resource(key, value, resources, ledger)
    return env, resources


def _resource(key: str, value: str, resources: dict[str, Any], ledger: Ledger) -> None:
    """cube-studio's TASK_RESOURCE_CPU/MEMORY/GPU fix the resources of every task of the
    template: they become the template's resources (and stay in env)."""
    what = key.removeprefix("TASK_RESOURCE_").lower()
    path = f"job_template_env.{key}"
    try:
        if what == "cpu":
            resources["cpu"] = parse_cpu(value)
        elif what == "memory":
            resources["memory"] = parse_memory(value)
        elif what == "gpu":
            resources["gpu"] = float(value)
        else:
            raise ValueError(f"{key} is not a resource here")
    except ValueError as err:
        ledger.unmapped(path, value, f"{err}: kept in env only")
        return
    ledger.mapped(path, f"env and resources.{what}")


def _volumes(item: Mapping[str, Any], ledger: Ledger) -> list[dict[str, str]]:
    text = item.get("job_template_volume")
    if text is None:
        return []
    if not isinstance(text, str):
        ledger.unmapped("job_template_volume", text, "not cube-studio's volume text")
        return []
    volumes: list[dict[str, str]] = []
    for k, part in enumerate(p.strip() for p in text.split(",")):
        if not part:
            continue
        match = re.fullmatch(r"(?P<source>.*)\((?P<kind>\w+)\):(?P<target>/.*)", part)
        if match and match.group("kind") == "hostpath":
            volumes.append({"source": match.group("source"), "target": match.group("target")})
            continue
        ledger.unmapped(
            f"job_template_volume[{k}]",
            part,
            "a Kubernetes volume (pvc, configmap, memory): template mounts here are host paths",
        )
    ledger.mapped("job_template_volume", "volumes" if volumes else "(no host path)")
    return volumes


def _expand(item: Mapping[str, Any], ledger: Ledger) -> None:
    expand = json_field(item.get("job_template_expand"))
    if "job_template_expand" not in item:
        return
    if not isinstance(expand, dict):
        ledger.unmapped("job_template_expand", expand, "not a mapping")
        return
    if not expand:
        ledger.mapped("job_template_expand", "(empty)")
    ledger.rest(expand, "job_template_expand.", _EXPAND_REASONS)
