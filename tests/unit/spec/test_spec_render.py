"""Rendering template variables in the sandbox (cubestudio.spec.render)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cubestudio.errors import CubeError, RenderError
from cubestudio.spec.loader import load_pipeline
from cubestudio.spec.render import (
    DATETIME_NAMESPACE,
    UUID_NAMESPACE,
    VARIABLES,
    is_template,
    referenced_names,
    render,
    suggest,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def context(**extra: Any) -> dict[str, Any]:
    return {
        "creator": "alice",
        "runner": "bob",
        "pipeline_id": 7,
        "pipeline_name": "template-variables",
        "cluster_name": "local",
        "execution_date": "2026-01-02 03:04:05",
        "run_id": "r-123",
        "task_name": "show",
        "params": {"version": "v1", "lr": 0.01},
        "tasks": {"count": {"outputs": {"rows": "5"}}},
        "datetime": DATETIME_NAMESPACE,
        "uuid": UUID_NAMESPACE,
        **extra,
    }


def refused(text: str) -> str:
    with pytest.raises(RenderError) as info:
        render(text, context())
    assert isinstance(info.value, CubeError)
    return str(info.value)


# --- the seeds' examples -----------------------------------------------------------------------


def test_short_uuid() -> None:
    first = render("{{uuid.uuid4().hex[:4]}}", context())
    assert re.fullmatch(r"[0-9a-f]{4}", first)


def test_timestamp() -> None:
    before = datetime.now().replace(microsecond=0)
    stamp = render('{{datetime.datetime.now().strftime("%Y%m%d-%H%M%S.%f")}}', context())
    assert re.fullmatch(r"\d{8}-\d{6}\.\d{6}", stamp)
    assert datetime.strptime(stamp, "%Y%m%d-%H%M%S.%f") >= before


def test_run_variables() -> None:
    text = (
        "{{pipeline_id}} {{pipeline_name}} {{cluster_name}} {{creator}} {{runner}} "
        "{{execution_date}} {{run_id}} {{task_name}} {{params.version}}"
    )
    assert render(text, context()) == (
        "7 template-variables local alice bob 2026-01-02 03:04:05 r-123 show v1"
    )


def test_output_and_run_status() -> None:
    assert render("rows={{ tasks.count.outputs.rows }}", context()) == "rows=5"
    assert render("{{ run_status }}", context(run_status="success")) == "success"


def test_template_variables_example_renders() -> None:
    spec = load_pipeline(EXAMPLES / "template-variables.yaml")
    command = spec.tasks[0].command
    assert isinstance(command, str)
    out = render(command, context())
    assert re.search(r"^echo \"short id: +[0-9a-f]{4}\"$", out, re.M)
    assert re.search(r"^echo \"timestamp: +\d{8}-\d{6}\.\d{6}\"$", out, re.M)
    assert 'echo "run_id:         r-123"' in out
    assert 'echo "params.version:" v1' in out
    assert out.endswith("\n")  # the trailing newline of a block scalar is kept
    assert spec.on_exit is not None
    notify = spec.on_exit.command
    assert isinstance(notify, str)
    assert render(notify, context(run_status="failed")) == 'echo "run r-123 ended failed"'


def test_datetime_and_uuid_namespaces() -> None:
    assert render("{{ datetime.timedelta(hours=1).total_seconds() }}", context()) == "3600.0"
    assert render("{{ datetime.date(2026, 1, 2).isoformat() }}", context()) == "2026-01-02"
    assert render("{{ datetime.timezone.utc }}", context()) == "UTC"
    assert render("{{ uuid.UUID(int=0) }}", context()) == "00000000-0000-0000-0000-000000000000"
    assert re.fullmatch(r"[0-9a-f]{32}", render("{{ uuid.uuid1().hex }}", context()))


def test_statements_and_filters() -> None:
    assert render("{% for i in range(3) %}{{ i }}{% endfor %}", context()) == "012"
    assert render("{{ params.version | upper }}", context()) == "V1"
    assert render("{{ 'a' * 3 }} {{ 2 ** 10 }}", context()) == "aaa 1024"


def test_text_without_template_is_unchanged() -> None:
    for text in ["echo $HOME", "echo {x} }} %}", "", "a { {b} }"]:
        assert render(text, {}) == text


def test_text_without_template_is_not_rendered() -> None:
    # Without "{{", "{%" or "{#" nothing is parsed, so no variable is needed.
    assert render("echo ${run_id}", {}) == "echo ${run_id}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{{ x }}", True), ("{% if %}", True), ("{# c #}", True), ("{ {x} }", False), ("}}", False)],
)
def test_is_template(text: str, expected: bool) -> None:
    assert is_template(text) is expected


# --- the sandbox -------------------------------------------------------------------------------


def test_dunder_attribute_refused() -> None:
    assert refused("{{ ''.__class__.__mro__ }}") == (
        "refused by the template sandbox: access to attribute '__class__' of 'str' object "
        "is unsafe."
    )


def test_uuid_is_not_the_module() -> None:
    assert refused("{{ uuid.os.system('id') }}") == (
        "template error: 'types.SimpleNamespace object' has no attribute 'os'"
    )


def test_datetime_is_not_the_module() -> None:
    assert refused("{{ datetime.sys.modules }}") == (
        "template error: 'types.SimpleNamespace object' has no attribute 'sys'"
    )


def test_function_globals_refused() -> None:
    assert refused("{{ uuid.uuid4.__globals__ }}") == (
        "refused by the template sandbox: access to attribute '__globals__' of 'function' "
        "object is unsafe."
    )


@pytest.mark.parametrize(
    "text",
    [
        "{{ ().__class__.__base__.__subclasses__() }}",
        "{{ uuid.uuid4().__class__.__init__.__globals__ }}",
        "{{ params.__class__ }}",
        "{{ datetime.datetime.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
    ],
)
def test_other_escapes_refused(text: str) -> None:
    message = refused(text)
    assert message.startswith("refused by the template sandbox: access to attribute '")
    assert message.endswith("is unsafe.")


@pytest.mark.parametrize(
    "text",
    ["{{ 'a' * 10000000 }}", "{{ 10000000 * 'a' }}", "{{ [1] * 10000000 }}", "{{ 'ab' * 600000 }}"],
)
def test_huge_repetition_refused(text: str) -> None:
    assert refused(text) == "refused by the template sandbox: template result too large"


def test_huge_exponent_refused() -> None:
    assert refused("{{ 2 ** 100 }}") == (
        "refused by the template sandbox: exponent too large in a template"
    )


def test_repetition_at_the_cap_allowed() -> None:
    assert len(render("{{ 'a' * 1000000 }}", context())) == 1_000_000


def test_sandbox_is_immutable() -> None:
    message = refused("{{ params.update({'x': 1}) }}")
    assert message.startswith("refused by the template sandbox: ")


# --- errors ------------------------------------------------------------------------------------


def test_undefined_variable_suggests_close_match() -> None:
    assert (
        refused("{{ run_idd }}") == "unknown template variable 'run_idd' (did you mean 'run_id'?)"
    )


def test_undefined_variable_without_close_match() -> None:
    assert refused("{{ zzzz }}") == "unknown template variable 'zzzz'"


def test_run_status_is_undefined_outside_on_exit() -> None:
    assert refused("{{ run_status }}") == "unknown template variable 'run_status'"


def test_missing_attribute() -> None:
    assert refused("{{ params.lrr }}") == "template error: 'dict object' has no attribute 'lrr'"


def test_syntax_error() -> None:
    assert refused("{{ x") == (
        "template syntax error on line 1: unexpected end of template, "
        "expected 'end of print statement'."
    )


def test_expression_error_is_reported_not_raised() -> None:
    assert refused("{{ 1 / 0 }}") == "template error: ZeroDivisionError: division by zero"


# --- static analysis ---------------------------------------------------------------------------


def test_referenced_names() -> None:
    names, chains = referenced_names(
        "{{ params.lr }} {{ tasks.count.outputs.rows }} {% for i in range(2) %}{{ i }}{% endfor %}"
    )
    assert names == {"params", "tasks"}  # range is a sandbox global, i is local
    assert set(chains) == {
        ("params", "lr"),
        ("tasks", "count", "outputs", "rows"),
        ("tasks", "count", "outputs"),
        ("tasks", "count"),
    }


def test_referenced_names_with_subscripts() -> None:
    names, chains = referenced_names("{{ params['lr'] }} {{ tasks['a']['outputs'].x }}")
    assert names == {"params", "tasks"}
    assert ("params", "lr") in chains
    assert ("tasks", "a", "outputs", "x") in chains


def test_referenced_names_skips_dynamic_parts() -> None:
    names, chains = referenced_names("{{ uuid.uuid4().hex[:4] }} {{ x[y].z }} {{ params.lr[0] }}")
    assert names == {"uuid", "x", "y", "params"}
    assert set(chains) == {("uuid", "uuid4"), ("params", "lr")}


def test_referenced_names_syntax_error() -> None:
    with pytest.raises(RenderError, match=r"^template syntax error on line 1: "):
        referenced_names("{{ x ")


def test_suggest() -> None:
    assert suggest("trian", ["prepare", "train"]) == " (did you mean 'train'?)"
    assert suggest("zzz", ["prepare", "train"]) == ""
    assert suggest("x", []) == ""
    assert suggest("run_idd", iter(VARIABLES)) == " (did you mean 'run_id'?)"


def test_variables() -> None:
    assert set(VARIABLES) == {
        "creator",
        "runner",
        "pipeline_id",
        "pipeline_name",
        "pipeline_dir",
        "cluster_name",
        "execution_date",
        "run_id",
        "task_name",
        "params",
        "tasks",
        "datetime",
        "uuid",
        "run_status",
        "args",
    }
