"""`alerts:` in a pipeline: what is accepted, and every refusal named by its field path with
the fix, through the loader that `cube validate` uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from cubestudio.errors import SpecError
from cubestudio.spec.alerts import AlertSpec, mask_url
from cubestudio.spec.loader import load_pipeline, load_pipeline_text
from tests.conftest import Cube

TASKS = "tasks:\n  - {name: train, command: 'true'}\n"


def problems(alerts_yaml: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_pipeline_text(f"name: p\n{TASKS}alerts:\n{alerts_yaml}")
    return [str(e) for e in caught.value.errors]


def test_an_alert_as_written_in_yaml() -> None:
    spec = load_pipeline_text(
        f"name: p\n{TASKS}alerts:\n"
        "  - {url: https://hooks.example/x, on: [failure, timeout], scope: both, tasks: [train]}\n"
        "  - url: http://10.0.0.5:8080/hook\n"
    )
    first, second = spec.alerts
    assert first.on == ["failure", "timeout"] and first.scope == "both"  # YAML's `on` is True
    assert first.tasks == ["train"]
    assert second.on == ["failure", "timeout"] and second.scope == "run"  # the defaults
    # A run's snapshot (plain data, then JSON) loads back the same.
    assert load_pipeline_text(str(spec.to_data()).replace("'", '"'), is_json=True) == spec


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "is a file: URL; a webhook is posted over http:// or https://"),
        ("ftp://hooks.example/x", "is a ftp: URL"),
        ("javascript:alert(1)", "is a javascript: URL"),
        ("hooks.example/x", "has no scheme: write https://hooks.example/x"),
        ("https://bot:hunter2@hooks.example/x", "holds credentials (user:password@)"),
        ("https:///x", "names no host"),
        ("https://hooks.example:99999/x", "is not a URL"),
        ("https://hooks.example/a b", "spaces or control characters"),
    ],
)
def test_a_bad_url_is_refused_at_its_path_with_the_fix(url: str, says: str) -> None:
    [problem] = problems(f'  - {{url: "https://fine.example/"}}\n  - {{url: "{url}"}}\n')
    assert problem.startswith("alerts[1].url: ")
    assert says in problem


def test_events_scopes_and_task_filters_are_checked() -> None:
    found = problems(
        "  - {url: 'https://h.example/', on: [fail]}\n"
        "  - {url: 'https://h.example/', scope: tasks}\n"
        "  - {url: 'https://h.example/', scope: task, tasks: [trian]}\n"
        "  - {url: 'https://h.example/', tasks: [train]}\n"
        "  - {url: 'https://h.example/', on: []}\n"
        "  - {url: 'https://h.example/', when: [failure]}\n"
    )
    assert any(p.startswith("alerts[0].on[0]: input should be 'failure'") for p in found)
    assert any(p.startswith("alerts[1].scope: ") and "'run'" in p for p in found)
    assert any(p.startswith("alerts[4].on: ") for p in found)
    assert "alerts[5]: unknown field 'when'" in found
    spec_level = problems(
        "  - {url: 'https://h.example/', scope: task, tasks: [trian]}\n"
        "  - {url: 'https://h.example/', tasks: [train]}\n"
    )
    assert spec_level[0] == "alerts[0].tasks[0]: unknown task 'trian' (did you mean 'train'?)"
    assert spec_level[1].startswith("alerts[1].tasks: ")
    assert "set scope: task (or both), or remove tasks" in spec_level[1]


def test_matching_by_event_scope_and_task() -> None:
    run_only = AlertSpec(url="https://h.example/", on=["failure"])
    assert run_only.matches("failure", None)
    assert not run_only.matches("failure", "train") and not run_only.matches("success", None)
    tasks = AlertSpec(url="https://h.example/", on=["retry"], scope="task", tasks=["train"])
    assert tasks.matches("retry", "train")
    assert not tasks.matches("retry", "prepare") and not tasks.matches("retry", None)


def test_query_values_are_masked_for_display() -> None:
    assert mask_url("https://h.example/x?token=s3cret&team=ml") == (
        "https://h.example/x?token=***&team=***"
    )
    assert mask_url("https://h.example/x?s3cret") == "https://h.example/x?***"
    assert mask_url("https://h.example/x") == "https://h.example/x"


def test_cube_validate_prints_the_problem(tmp_path: Path, cube_sqlite: Cube) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(f"name: p\n{TASKS}alerts: [{{url: 'file:///etc/passwd', on: [failure]}}]\n")
    with pytest.raises(SpecError):
        load_pipeline(file)
    result = cube_sqlite("validate", str(file))
    assert result.returncode == 2
    assert result.stdout.startswith("alerts[0].url: 'file:///etc/passwd' is a file: URL")
