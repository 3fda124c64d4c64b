"""Field-level errors: each bad field is reported with its exact path and an actionable message."""

from __future__ import annotations

from typing import Any

import pytest

from cubestudio.errors import CubeError, FieldError, SpecError
from cubestudio.spec.loader import format_path, load_pipeline_text, pipeline_from_data
from cubestudio.spec.model import PipelineSpec, Trigger

DURATION_HINT = "(use a number of seconds or e.g. 30s, 10m, 1h30m, 2d)"


def task(name: str = "a", **fields: Any) -> dict[str, Any]:
    return {"name": name, "command": "echo hi", **fields}


def pipeline(*tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "p", "tasks": list(tasks) or [task()], **fields}


def errors(data: object) -> list[str]:
    """The one-line messages a SpecError carries, in order."""
    with pytest.raises(SpecError) as info:
        pipeline_from_data(data)
    assert str(info.value) == "\n".join(str(e) for e in info.value.errors)
    return [str(e) for e in info.value.errors]


def test_error_types() -> None:
    assert issubclass(SpecError, CubeError)
    assert SpecError.exit_code == 2
    assert str(FieldError("tasks[0]", "bad")) == "tasks[0]: bad"
    assert str(FieldError("", "bad")) == "bad"


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("tasks", 0, "retries"), "tasks[0].retries"),
        (("tasks", 2, "depends", 0), "tasks[2].depends[0]"),
        (("name",), "name"),
        ((), ""),
        (("schedule", "cron"), "schedule.cron"),
    ],
)
def test_format_path(loc: tuple[int | str, ...], path: str) -> None:
    assert format_path(loc) == path


def test_minimal_pipeline_defaults() -> None:
    spec = pipeline_from_data(pipeline())
    assert spec.name == "p"
    assert spec.parallelism == 16
    assert spec.params == {} and spec.env == {} and spec.schedule is None and spec.on_exit is None
    (only,) = spec.tasks
    assert only.command == "echo hi"
    assert only.retries == 0 and only.retry_delay == 0.0 and only.retry_backoff == 1.0
    assert only.trigger is Trigger.ALL_SUCCESS
    assert only.resources.cpu is None and only.resources.memory is None
    assert only.resources.gpu == 0


# --- unknown fields ----------------------------------------------------------------------------


def test_unknown_task_field_with_suggestion() -> None:
    assert errors(pipeline(task(retires=3))) == [
        "tasks[0]: unknown field 'retires' (did you mean 'retries'?)"
    ]


def test_unknown_top_level_field() -> None:
    assert errors(pipeline(nmae="x")) == ["unknown field 'nmae' (did you mean 'name'?)"]
    assert errors(pipeline(colour="red")) == ["unknown field 'colour'"]


def test_unknown_fields_in_nested_sections() -> None:
    data = pipeline(
        task(resources={"cpus": 1}),
        schedule={"cron": "@daily", "cathcup": True},
        params={"x": {"type": "int", "defualt": 1}},
        on_exit={"name": "z", "comand": "echo"},
    )
    assert sorted(errors(data)) == sorted(
        [
            "tasks[0].resources: unknown field 'cpus' (did you mean 'cpu'?)",
            "schedule: unknown field 'cathcup' (did you mean 'catchup'?)",
            "params.x: unknown field 'defualt' (did you mean 'default'?)",
            "on_exit: unknown field 'comand' (did you mean 'command'?)",
        ]
    )


# --- types and ranges --------------------------------------------------------------------------


def test_wrong_type_retries() -> None:
    assert errors(pipeline(task(retries="x"))) == [
        "tasks[0].retries: input should be a valid integer, got 'x'"
    ]


def test_retries_is_strict_about_strings_of_digits() -> None:
    assert errors(pipeline(task(retries="3"))) == [
        "tasks[0].retries: input should be a valid integer, got '3'"
    ]


def test_negative_and_too_many_retries() -> None:
    assert errors(pipeline(task(retries=-1))) == [
        "tasks[0].retries: input should be greater than or equal to 0, got -1"
    ]
    assert errors(pipeline(task(retries=101))) == [
        "tasks[0].retries: input should be less than or equal to 100, got 101"
    ]


def test_range_errors_elsewhere() -> None:
    data = pipeline(task(retry_backoff=0.5), parallelism=0)
    assert errors(data) == [
        "parallelism: input should be greater than or equal to 1, got 0",
        "tasks[0].retry_backoff: input should be greater than or equal to 1, got 0.5",
    ]


def test_wrong_container_types() -> None:
    assert errors({"name": "p", "tasks": {"a": 1}}) == ["tasks: input should be a valid list"]
    assert errors(pipeline(task(depends="b"))) == [
        "tasks[0].depends: input should be a valid list, got 'b'"
    ]
    assert errors(pipeline(task(skip="yes"))) == [
        "tasks[0].skip: input should be a valid boolean, got 'yes'"
    ]
    assert errors({"name": 5, "tasks": [task()]}) == ["name: input should be a valid string, got 5"]


def test_command_must_be_text() -> None:
    assert errors(pipeline(task(command=5))) == [
        "tasks[0].command: input should be a valid string, got 5"
    ]


def test_command_list_item_error_has_its_index() -> None:
    found = errors(pipeline(task(command=["echo", 5])))
    assert "tasks[0].command[1]: input should be a valid string, got 5" in found


# --- durations ---------------------------------------------------------------------------------


def test_bad_duration_names_the_task() -> None:
    data = pipeline(task("a"), task("b", timeout="10x"))
    assert errors(data) == [f"tasks[1].timeout: '10x' is not a duration {DURATION_HINT}"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("2d", 172800.0),
        (45, 45.0),
    ],
)
def test_duration_forms_in_a_task(value: object, seconds: float) -> None:
    spec = pipeline_from_data(
        pipeline(task(timeout=value, retry_delay=value, max_retry_delay=value))
    )
    (only,) = spec.tasks
    assert only.timeout == pytest.approx(seconds)
    assert only.retry_delay == pytest.approx(seconds)
    assert only.max_retry_delay == pytest.approx(seconds)


def test_pipeline_timeout_duration() -> None:
    assert pipeline_from_data(pipeline(timeout="1h")).timeout == 3600.0
    assert errors(pipeline(timeout=-5)) == [f"timeout: -5 is negative {DURATION_HINT}"]
    assert errors(pipeline(timeout=True)) == [f"timeout: True is not a duration {DURATION_HINT}"]


# --- resources ---------------------------------------------------------------------------------


def test_good_resources() -> None:
    spec = pipeline_from_data(pipeline(task(resources={"cpu": "500m", "memory": "1Gi", "gpu": 1})))
    resources = spec.tasks[0].resources
    assert resources.cpu == 0.5
    assert resources.memory == 1073741824
    assert resources.gpu == 1


def test_numeric_resources() -> None:
    spec = pipeline_from_data(pipeline(task(resources={"cpu": 2, "memory": 1024})))
    assert spec.tasks[0].resources.cpu == 2.0
    assert spec.tasks[0].resources.memory == 1024


def test_bad_cpu_and_memory() -> None:
    assert errors(pipeline(task(resources={"cpu": "abc", "memory": "1Q"}))) == [
        "tasks[0].resources.cpu: 'abc' is not a cpu amount (use e.g. 1, 0.5 or '500m')",
        "tasks[0].resources.memory: '1Q' is not a memory size (use e.g. '512Mi', '2Gi', '1G')",
    ]
    assert errors(pipeline(task(resources={"cpu": 0, "memory": 0}))) == [
        "tasks[0].resources.cpu: cpu must be more than 0, got 0",
        "tasks[0].resources.memory: memory must be more than 0, got 0",
    ]
    assert errors(pipeline(task(resources={"gpu": -1}))) == [
        "tasks[0].resources.gpu: input should be greater than or equal to 0, got -1"
    ]


# --- names -------------------------------------------------------------------------------------

PIPELINE_HINT = "use lowercase letters, digits and '-' (e.g. 'daily-train')"
TASK_HINT = "use letters, digits, '_' and '-', starting with a letter"
KEY_HINT = "use letters, digits and '_', not starting with a digit"


@pytest.mark.parametrize("name", ["a", "daily-train", "x1", "a" * 63, "0abc"])
def test_good_pipeline_names(name: str) -> None:
    assert pipeline_from_data(pipeline(name=name)).name == name


@pytest.mark.parametrize("name", ["P_x", "Daily", "-x", "x-", "a" * 64, "", "a b", "a_b"])
def test_bad_pipeline_name(name: str) -> None:
    assert errors(pipeline(name=name)) == [f"name: {name!r} is not a valid name: {PIPELINE_HINT}"]


@pytest.mark.parametrize("name", ["a", "Train_2", "x-y", "a" * 63])
def test_good_task_names(name: str) -> None:
    assert pipeline_from_data(pipeline(task(name))).tasks[0].name == name


@pytest.mark.parametrize("name", ["1a", "_a", "-a", "a b", "a.b", "a" * 64, ""])
def test_bad_task_name(name: str) -> None:
    assert errors(pipeline(task("ok"), task(name))) == [
        f"tasks[1].name: {name!r} is not a valid name: {TASK_HINT}"
    ]


def test_bad_on_exit_name() -> None:
    assert errors(pipeline(on_exit=task("1z"))) == [
        f"on_exit.name: '1z' is not a valid name: {TASK_HINT}"
    ]


def test_bad_env_keys_and_outputs() -> None:
    data = pipeline(task(env={"1A": "x"}, outputs=["1x"]), env={"A-B": "x"})
    assert errors(data) == [
        f"env.A-B: 'A-B' is not a valid name: {KEY_HINT}",
        f"tasks[0].env.1A: '1A' is not a valid name: {KEY_HINT}",
        f"tasks[0].outputs[0].name: '1x' is not a valid name: {KEY_HINT}",
    ]


def test_env_values_become_text() -> None:
    spec = pipeline_from_data(pipeline(task(env={"N": 3, "F": 0.5, "B": True, "C": False})))
    assert spec.tasks[0].env == {"N": "3", "F": "0.5", "B": "true", "C": "false"}


def test_env_value_must_be_scalar() -> None:
    assert errors(pipeline(task(env={"B": [1]}))) == [
        "tasks[0].env.B: input should be a valid string"
    ]


# --- schedule ----------------------------------------------------------------------------------


def test_good_schedule() -> None:
    spec = pipeline_from_data(
        pipeline(
            schedule={
                "cron": "*/5 * * * *",
                "timezone": "Asia/Shanghai",
                "start": "2026-01-01 00:00:00",
                "catchup": True,
                "max_active_runs": 3,
            }
        )
    )
    assert spec.schedule is not None
    assert spec.schedule.cron == "*/5 * * * *"
    assert spec.schedule.timezone == "Asia/Shanghai"
    assert spec.schedule.start is not None
    assert spec.schedule.start.isoformat() == "2026-01-01T00:00:00"
    assert spec.schedule.catchup is True
    assert spec.schedule.max_active_runs == 3


def test_schedule_defaults_and_aware_start() -> None:
    spec = pipeline_from_data(
        pipeline(schedule={"cron": "@daily", "start": "2026-11-01T01:30:00-04:00"})
    )
    assert spec.schedule is not None
    assert spec.schedule.timezone == "UTC"
    assert spec.schedule.start is not None
    assert spec.schedule.start.isoformat() == "2026-11-01T01:30:00-04:00"
    assert spec.schedule.max_active_runs == 1
    assert not spec.schedule.catchup and not spec.schedule.depends_on_past


@pytest.mark.parametrize("cron", ["bad cron", "61 * * * *", "@sometimes", ""])
def test_invalid_cron(cron: str) -> None:
    assert errors(pipeline(schedule={"cron": cron})) == [
        f"schedule.cron: {cron!r} is not a cron expression: use 5 fields "
        "(minute hour day month weekday) or @hourly, @daily, @weekly, @monthly, @yearly"
    ]


def test_unknown_timezone() -> None:
    assert errors(pipeline(schedule={"cron": "@daily", "timezone": "Mars/Base"})) == [
        "schedule.timezone: unknown time zone 'Mars/Base': "
        "use an IANA name such as UTC or Asia/Shanghai"
    ]


START_HINT = (
    "is not a start time: use 'YYYY-MM-DD HH:MM:SS' "
    "or ISO 8601 with an offset such as '2026-11-01T01:30:00-04:00'"
)


@pytest.mark.parametrize("start", ["2026-01-01", "10:00:00", "tomorrow", "2026-13-01 00:00:00"])
def test_bad_start(start: str) -> None:
    assert errors(pipeline(schedule={"cron": "@daily", "start": start})) == [
        f"schedule.start: {start!r} {START_HINT}"
    ]


def test_start_must_be_text() -> None:
    assert errors(pipeline(schedule={"cron": "@daily", "start": 5})) == [
        "schedule.start: start is a date and time such as '2026-01-01 00:00:00'"
    ]


def test_max_active_runs_zero() -> None:
    assert errors(pipeline(schedule={"cron": "@daily", "max_active_runs": 0})) == [
        "schedule.max_active_runs: input should be greater than or equal to 1, got 0"
    ]


def test_schedule_missing_cron() -> None:
    assert errors(pipeline(schedule={"timezone": "UTC"})) == [
        "schedule.cron: required field is missing"
    ]


# --- params ------------------------------------------------------------------------------------


def test_params_short_and_long_forms() -> None:
    spec = pipeline_from_data(
        pipeline(
            params={
                "lr": 0.01,
                "epochs": 3,
                "debug": False,
                "tag": "v1",
                "need": {"type": "int"},
                "ratio": {"type": "float", "default": 1, "description": "a ratio"},
            }
        )
    )
    shapes = {k: (p.type, p.default) for k, p in spec.params.items()}
    assert shapes == {
        "lr": ("float", 0.01),
        "epochs": ("int", 3),
        "debug": ("bool", False),
        "tag": ("str", "v1"),
        "need": ("int", None),
        "ratio": ("float", 1),
    }
    assert spec.params["ratio"].description == "a ratio"


def test_params_of_wrong_shape() -> None:
    data = pipeline(
        params={
            "lr": [1, 2],
            "x": {"foo": 1},
            "y": {"type": "int", "default": "a"},
            "z": {"type": "int", "default": True},
            "1z": 3,
        }
    )
    assert errors(data) == [
        "params.lr: [1, 2] is not a parameter value: "
        "use a string, number or boolean (or {type, default, description})",
        "params.x: a parameter is a value (string, number, boolean) "
        "or a mapping {type, default, description}",
        "params.y: default 'a' is not of type int",
        "params.z: default True is not of type int",
        f"params.1z: '1z' is not a valid name: {KEY_HINT}",
    ]


def test_params_must_be_a_mapping() -> None:
    assert errors(pipeline(params="lr")) == ["params: input should be a valid dictionary, got 'lr'"]
    assert errors(pipeline(params=["lr"])) == ["params: input should be a valid dictionary"]


def test_param_type_must_be_known() -> None:
    found = errors(pipeline(params={"x": {"type": "list", "default": None}}))
    assert len(found) == 1
    assert found[0].startswith("params.x.type: input should be 'str', 'int', 'float' or 'bool'")


# --- trigger -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["all_success", "all_done", "one_failed"])
def test_trigger_values(value: str) -> None:
    spec = pipeline_from_data(pipeline(task(trigger=value)))
    assert spec.tasks[0].trigger is Trigger(value)
    assert spec.tasks[0].trigger == value


@pytest.mark.parametrize("value", ["sometimes", "ALL_DONE", 1, None])
def test_bad_trigger(value: object) -> None:
    assert errors(pipeline(task(trigger=value))) == [
        f"tasks[0].trigger: {value!r} is not a trigger: "
        "use one of all_success, all_done, one_failed"
    ]


# --- commands and tasks ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["", "   ", "\n", []])
def test_empty_command(command: object) -> None:
    assert errors(pipeline(task("a"), task("b", command=command))) == [
        "tasks[1].command: the command is empty: give the shell command the task runs"
    ]


def test_missing_command() -> None:
    assert errors(pipeline({"name": "a"})) == [
        "tasks[0]: a task needs a command (a shell command) or a template"
    ]


def test_command_list_form() -> None:
    spec = pipeline_from_data(pipeline(task(command=["python", "-c", "print(1)"])))
    assert spec.tasks[0].command == ["python", "-c", "print(1)"]


def test_no_tasks() -> None:
    assert errors({"name": "p", "tasks": []}) == ["tasks: a pipeline needs at least one task"]
    assert errors({"name": "p"}) == ["tasks: required field is missing"]


def test_missing_name() -> None:
    assert errors({"tasks": [task()]}) == ["name: required field is missing"]


def test_every_field_error_is_reported_at_once() -> None:
    data = {
        "name": "Bad Name",
        "tasks": [task("a", retries=-1), task("b", timeout="soon", retires=1)],
    }
    assert errors(data) == [
        f"name: 'Bad Name' is not a valid name: {PIPELINE_HINT}",
        "tasks[0].retries: input should be greater than or equal to 0, got -1",
        f"tasks[1].timeout: 'soon' is not a duration {DURATION_HINT}",
        "tasks[1]: unknown field 'retires' (did you mean 'retries'?)",
    ]


def test_spec_is_immutable() -> None:
    spec = pipeline_from_data(pipeline())
    with pytest.raises(ValueError, match="frozen"):
        spec.name = "other"  # type: ignore[misc]


def test_yaml_field_error_carries_the_same_path() -> None:
    text = (
        "name: p\ntasks:\n  - name: a\n    command: echo\n"
        "  - name: b\n    command: echo\n    timeout: 10x\n"
    )
    with pytest.raises(SpecError) as info:
        load_pipeline_text(text)
    assert str(info.value) == f"tasks[1].timeout: '10x' is not a duration {DURATION_HINT}"


def test_model_validate_directly_is_the_same_model() -> None:
    spec = pipeline_from_data(pipeline(task(retries=2)))
    assert spec == PipelineSpec.model_validate(pipeline(task(retries=2)))
