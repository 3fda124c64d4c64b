"""The pipeline model (file format v1). YAML, JSON and the Python SDK all produce a PipelineSpec.

Field-level rules live here (types, ranges, formats); rules that span fields (dependencies,
cycles, template variables) live in ``validate.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from cubestudio.spec.alerts import MAX_ALERTS, AlertSpec
from cubestudio.spec.quantities import parse_cpu, parse_duration, parse_memory

PIPELINE_NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
TASK_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"


class Trigger(StrEnum):
    """When a task runs, given how its upstream tasks ended (Airflow's trigger rules)."""

    ALL_SUCCESS = "all_success"  # every upstream succeeded or was skipped
    ALL_DONE = "all_done"  # every upstream finished, whatever the outcome
    ONE_FAILED = "one_failed"  # at least one upstream failed: for clean-up and alerts


def _duration(value: object) -> float:
    return parse_duration(value)


def _env_value(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Duration = Annotated[float, BeforeValidator(_duration)]
EnvValue = Annotated[str, BeforeValidator(_env_value)]
Env = dict[Annotated[str, Field(pattern=IDENTIFIER)], EnvValue]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Resources(_Model):
    cpu: Annotated[float | None, BeforeValidator(lambda v: None if v is None else parse_cpu(v))] = (
        None
    )
    memory: Annotated[
        int | None, BeforeValidator(lambda v: None if v is None else parse_memory(v))
    ] = None
    gpu: Annotated[float, Field(ge=0)] = 0


ParamType = Literal["str", "int", "float", "bool"]
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
}


class ParamSpec(_Model):
    """A pipeline parameter; the short form ``lr: 0.01`` means type float, default 0.01."""

    type: ParamType = "str"
    default: str | int | float | bool | None = None
    description: str = ""

    @model_validator(mode="after")
    def _default_has_type(self) -> ParamSpec:
        if self.default is None:
            return self
        ok = isinstance(self.default, _PY_TYPES[self.type])
        if self.type in ("int", "float") and isinstance(self.default, bool):
            ok = False
        if not ok:
            raise ValueError(f"default {self.default!r} is not of type {self.type}")
        return self


def _param(value: object) -> object:
    """Accept the short form: a bare value whose type is inferred."""
    if isinstance(value, dict):
        if "type" not in value and "default" not in value:
            raise ValueError(
                "a parameter is a value (string, number, boolean) "
                "or a mapping {type, default, description}"
            )
        return value
    if isinstance(value, bool):
        return {"type": "bool", "default": value}
    if isinstance(value, int):
        return {"type": "int", "default": value}
    if isinstance(value, float):
        return {"type": "float", "default": value}
    if isinstance(value, str):
        return {"type": "str", "default": value}
    if value is None:
        return {"type": "str", "default": None}
    raise ValueError(
        f"{value!r} is not a parameter value: use a string, number or boolean "
        "(or {type, default, description})"
    )


Param = Annotated[ParamSpec, BeforeValidator(_param)]


class OutputSpec(_Model):
    """What a task produces under ``$CUBE_OUTPUTS/<name>``: a small value (``parameter``,
    used as ``{{ tasks.T.outputs.NAME }}``), or a ``file`` or ``folder`` artifact that
    downstream tasks receive through ``inputs``."""

    name: Annotated[str, Field(pattern=IDENTIFIER)]
    type: Literal["parameter", "file", "folder"] = "parameter"


class InputSpec(_Model):
    """An artifact of an upstream task (``from: train.model``), placed at
    ``$CUBE_INPUTS/<name>`` (the output's own name unless renamed)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    source: Annotated[str, Field(alias="from", pattern=r"^[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_]\w*$")]
    name: Annotated[str, Field(pattern=IDENTIFIER)] | None = None

    @property
    def task(self) -> str:
        return self.source.split(".", 1)[0]

    @property
    def output(self) -> str:
        return self.source.split(".", 1)[1]

    @property
    def as_name(self) -> str:
        return self.name or self.output


def _output(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


def _input(value: object) -> object:
    if isinstance(value, str):
        return {"from": value}
    return value


def strings_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` (lists and mappings at any depth, mapping values only),
    in a fixed order, with its path: ``.lr``, ``.arguments[1]``."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from strings_in(item, f"{path}[{k}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(item, f"{path}.{key}")


def replace_strings(value: Any, texts: Iterator[str]) -> Any:
    """``value`` with its strings, in ``strings_in`` order, replaced by the next ``texts``."""
    if isinstance(value, str):
        return next(texts)
    if isinstance(value, list):
        return [replace_strings(item, texts) for item in value]
    if isinstance(value, dict):
        return {key: replace_strings(item, texts) for key, item in value.items()}
    return value


class TaskSpec(_Model):
    name: Annotated[str, Field(pattern=TASK_NAME)]
    description: str = ""
    command: str | list[str] | None = None
    template: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*(@\d+)?$")] | None = None
    args: dict[Annotated[str, Field(pattern=IDENTIFIER)], Any] = Field(default_factory=dict)
    depends: list[str] = Field(default_factory=list)
    env: Env = Field(default_factory=dict)
    retries: Annotated[int, Field(ge=0, le=100)] = 0
    retry_delay: Duration = 0.0
    retry_backoff: Annotated[float, Field(ge=1, le=10)] = 1.0
    max_retry_delay: Duration | None = None
    timeout: Duration | None = None
    resources: Resources = Field(default_factory=Resources)
    # Admission order within its queue (higher first); None: the pipeline's priority.
    priority: Annotated[int, Field(ge=-1000, le=1000)] | None = None
    skip: bool = False
    trigger: Trigger = Trigger.ALL_SUCCESS
    outputs: list[Annotated[OutputSpec, BeforeValidator(_output)]] = Field(default_factory=list)
    inputs: list[Annotated[InputSpec, BeforeValidator(_input)]] = Field(default_factory=list)
    # Where the command runs (default: a fresh folder per attempt). A relative path starts at
    # the pipeline file's folder; template variables are allowed.
    workdir: Annotated[str, Field(min_length=1)] | None = None

    def template_texts(self) -> Iterator[tuple[str, str]]:
        """Every text of the task rendered when it starts, with its path under the task:
        the command, env values, the workdir and every string inside args."""
        if isinstance(self.command, str):
            yield "command", self.command
        elif self.command is not None:
            for k, text in enumerate(self.command):
                yield f"command[{k}]", text
        for path, text in strings_in(self.args):
            yield f"args{path}", text
        for key, value in self.env.items():
            yield f"env.{key}", value
        if self.workdir is not None:
            yield "workdir", self.workdir

    @model_validator(mode="after")
    def _command_or_template(self) -> TaskSpec:
        if self.command is None and self.template is None:
            raise ValueError("a task needs a command (a shell command) or a template")
        if self.command is not None and self.template is not None:
            raise ValueError("give either command or template, not both (put the command in args)")
        if self.args and self.template is None:
            raise ValueError("args go with a template; a command task has none")
        names = [o.name for o in self.outputs]
        if len(set(names)) != len(names):
            raise ValueError("each output needs its own name")
        given = [i.as_name for i in self.inputs]
        if len(set(given)) != len(given):
            raise ValueError("two inputs have the same name: rename one with `name:`")
        return self

    @property
    def parameter_outputs(self) -> list[str]:
        return [o.name for o in self.outputs if o.type == "parameter"]

    @property
    def artifact_outputs(self) -> list[OutputSpec]:
        return [o for o in self.outputs if o.type != "parameter"]

    @field_validator("trigger", mode="before")
    @classmethod
    def _trigger_from_text(cls, value: object) -> object:
        if isinstance(value, str) and value in Trigger._value2member_map_:
            return Trigger(value)
        raise ValueError(f"{value!r} is not a trigger: use one of {', '.join(Trigger)}")

    @field_validator("command")
    @classmethod
    def _command_not_empty(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is None:
            return value
        if not value or (isinstance(value, str) and not value.strip()):
            raise ValueError("the command is empty: give the shell command the task runs")
        return value

    def retry_delay_after(self, failures: int) -> float:
        """Seconds to wait before the next try, after ``failures`` failed tries (1-based)."""
        delay = self.retry_delay * (self.retry_backoff ** max(0, failures - 1))
        if self.max_retry_delay is not None:
            delay = min(delay, self.max_retry_delay)
        return delay


def _parse_start(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("start is a date and time such as '2026-01-01 00:00:00'")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or len(text) < 16:
        raise ValueError(
            f"{value!r} is not a start time: use 'YYYY-MM-DD HH:MM:SS' "
            "or ISO 8601 with an offset such as '2026-11-01T01:30:00-04:00'"
        )
    return parsed


def _check_cron(value: str) -> str:
    # The scheduler's parser, so that what validates is exactly what the scheduler can plan
    # (it also refuses R, H and W, and crons that never fire such as "0 0 30 2 *").
    from cubestudio.spec.cron import parse_cron

    parse_cron(value)
    return value


def _check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as UTC or Asia/Shanghai"
        ) from None
    return value


class ScheduleSpec(_Model):
    cron: Annotated[str, AfterValidator(_check_cron)]
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    start: Annotated[datetime | None, BeforeValidator(_parse_start)] = None
    catchup: bool = False
    depends_on_past: bool = False
    max_active_runs: Annotated[int, Field(ge=1)] = 1
    expired_limit: Annotated[int, Field(ge=0)] = 0


class SecretSpec(_Model):
    """A secret env var of every task, masked in every log line shown: its value inline,
    taken from the environment of whoever starts the run, or a secret of the run's project
    (`cube secret set`), both kept out of the pipeline file."""

    secret: Literal[True] = True
    value: str | None = None
    from_env: Annotated[str, Field(pattern=IDENTIFIER)] | None = None
    from_secret: Annotated[str, Field(pattern=IDENTIFIER)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretSpec:
        sources = (self.value, self.from_env, self.from_secret)
        if sum(source is not None for source in sources) != 1:
            raise ValueError(
                "a secret has either a value or from_env (the variable to read) or "
                "from_secret (the project secret to use): give exactly one"
            )
        return self


class PipelineSpec(_Model):
    name: Annotated[str, Field(pattern=PIPELINE_NAME)]
    description: str = ""
    params: dict[Annotated[str, Field(pattern=IDENTIFIER)], Param] = Field(default_factory=dict)
    env: Env = Field(default_factory=dict)
    # `env: {TOKEN: {secret: true, from_env: TOKEN}}` lands here (see _split_secrets).
    secrets: dict[Annotated[str, Field(pattern=IDENTIFIER)], SecretSpec] = Field(
        default_factory=dict
    )
    parallelism: Annotated[int, Field(ge=1, le=10_000)] = 16
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0  # its tasks' admission order
    timeout: Duration | None = None
    schedule: ScheduleSpec | None = None
    tasks: Annotated[list[TaskSpec], Field(min_length=1)]
    on_exit: TaskSpec | None = None
    # Webhooks called on failure / success / timeout / retry of the run or its tasks
    # (spec/alerts.py; delivered by cubestudio.alerts).
    alerts: Annotated[list[AlertSpec], Field(max_length=MAX_ALERTS)] = Field(default_factory=list)
    # The folder of the pipeline's file, set by the loader, never written in a file (see
    # loader.pipeline_from_data); None for a pipeline given as data. Part of every snapshot,
    # so a resumed or retried run uses the same folder. Tasks see it as {{ pipeline_dir }}
    # and $CUBE_PIPELINE_DIR, and relative workdirs start there.
    pipeline_dir: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_secrets(cls, data: Any) -> Any:
        """Env entries written as mappings are secrets: keep them apart from plain env."""
        if not isinstance(data, dict) or not isinstance(data.get("env"), dict):
            return data
        env = data["env"]
        secrets = {k: v for k, v in env.items() if isinstance(v, dict)}
        if not secrets:
            return data
        sources = ("value", "from_env", "from_secret")
        for key, value in secrets.items():  # report these under the user's own path
            unknown = sorted(set(value) - {"secret", *sources})
            if unknown or value.get("secret") is not True:
                raise ValueError(
                    f"env.{key}: a mapping in env is a secret: write "
                    "{secret: true, from_env: VAR}, {secret: true, from_secret: NAME} "
                    "or {secret: true, value: ...}"
                )
            if sum(source in value for source in sources) != 1:
                raise ValueError(
                    f"env.{key}: a secret has either a value or from_env (the variable to "
                    "read) or from_secret (the project secret to use): give exactly one"
                )
        given = data.get("secrets")
        given = given if isinstance(given, dict) else {}
        return {
            **data,
            "env": {k: v for k, v in env.items() if k not in secrets},
            "secrets": {**given, **secrets},
        }

    def all_tasks(self) -> list[TaskSpec]:
        """The tasks in file order, then the on_exit task."""
        return [*self.tasks, self.on_exit] if self.on_exit else list(self.tasks)

    def to_data(self) -> dict[str, Any]:
        """Plain data that loads back into the same spec (used for run snapshots)."""
        return self.model_dump(mode="json", exclude_defaults=True, by_alias=True)


# Field names per section, for "did you mean" suggestions on unknown fields.
TaskFields = tuple(TaskSpec.model_fields)
ScheduleFields = tuple(ScheduleSpec.model_fields)
ResourceFields = tuple(Resources.model_fields)
