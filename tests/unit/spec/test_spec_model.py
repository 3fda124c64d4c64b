"""Model behaviour beyond field checks: retry delays, task order, plain-data snapshots."""

from __future__ import annotations

from typing import Any

import pytest

import cubestudio.spec as spec_package
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.model import (
    ResourceFields,
    ScheduleFields,
    TaskFields,
    TaskSpec,
    Trigger,
)


def one_task(**fields: Any) -> TaskSpec:
    spec = pipeline_from_data({"name": "p", "tasks": [{"name": "a", "command": "x", **fields}]})
    return spec.tasks[0]


def test_package_exports() -> None:
    assert set(spec_package.__all__) == {
        "PipelineSpec",
        "TaskSpec",
        "load_pipeline",
        "load_pipeline_text",
    }


def test_field_name_tables() -> None:
    assert "retries" in TaskFields and "command" in TaskFields
    assert ScheduleFields[0] == "cron" and "max_active_runs" in ScheduleFields
    assert ResourceFields == ("cpu", "memory", "gpu")


def test_trigger_values() -> None:
    assert [t.value for t in Trigger] == ["all_success", "all_done", "one_failed"]


def test_constant_retry_delay() -> None:
    task = one_task(retries=3, retry_delay="5s")
    assert [task.retry_delay_after(n) for n in (1, 2, 3)] == [5.0, 5.0, 5.0]


def test_exponential_backoff() -> None:
    task = one_task(retries=5, retry_delay=2, retry_backoff=3)
    assert [task.retry_delay_after(n) for n in (0, 1, 2, 3, 4)] == [2.0, 2.0, 6.0, 18.0, 54.0]


def test_backoff_is_capped() -> None:
    task = one_task(retries=5, retry_delay="1s", retry_backoff=2, max_retry_delay="5s")
    assert [task.retry_delay_after(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_no_delay_by_default() -> None:
    assert one_task(retries=2).retry_delay_after(2) == 0.0


def test_all_tasks_order() -> None:
    spec = pipeline_from_data(
        {
            "name": "p",
            "tasks": [{"name": "b", "command": "x"}, {"name": "a", "command": "x"}],
            "on_exit": {"name": "z", "command": "x"},
        }
    )
    assert [t.name for t in spec.all_tasks()] == ["b", "a", "z"]
    spec.all_tasks().clear()  # a fresh list: the spec is untouched
    assert len(spec.tasks) == 2


def test_to_data_leaves_out_defaults() -> None:
    spec = pipeline_from_data({"name": "p", "tasks": [{"name": "a", "command": "x"}]})
    assert spec.to_data() == {"name": "p", "tasks": [{"name": "a", "command": "x"}]}


def test_to_data_normalises_quantities() -> None:
    data = {
        "name": "p",
        "params": {"lr": 0.1},
        "schedule": {"cron": "@hourly", "start": "2026-01-01 00:00:00"},
        "tasks": [
            {
                "name": "a",
                "command": "x",
                "timeout": "1h30m",
                "resources": {"cpu": "500m", "memory": "1Gi"},
                "trigger": "one_failed",
                "env": {"N": 3},
            }
        ],
    }
    spec = pipeline_from_data(data)
    assert spec.to_data() == {
        "name": "p",
        "params": {"lr": {"type": "float", "default": 0.1}},
        "schedule": {"cron": "@hourly", "start": "2026-01-01T00:00:00"},
        "tasks": [
            {
                "name": "a",
                "command": "x",
                "timeout": 5400.0,
                "resources": {"cpu": 0.5, "memory": 1073741824},
                "trigger": "one_failed",
                "env": {"N": "3"},
            }
        ],
    }
    assert pipeline_from_data(spec.to_data()) == spec


@pytest.mark.parametrize("default", [0.5, 2])
def test_float_param_accepts_int_default(default: float) -> None:
    spec = pipeline_from_data(
        {
            "name": "p",
            "params": {"x": {"type": "float", "default": default}},
            "tasks": [{"name": "a", "command": "x"}],
        }
    )
    assert spec.params["x"].default == default
