"""Cross-field rules: names, dependencies, cycles and template variables (spec.validate)."""

from __future__ import annotations

from typing import Any

import pytest

from cubestudio.errors import SpecError
from cubestudio.spec.loader import pipeline_from_data
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.validate import check_pipeline, task_path


def task(name: str, *depends: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "command": fields.pop("command", "echo"),
        "depends": list(depends),
        **fields,
    }


def pipeline(*tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "p", "tasks": list(tasks), **fields}


def errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as info:
        pipeline_from_data(data)
    return [str(e) for e in info.value.errors]


def valid(data: dict[str, Any]) -> PipelineSpec:
    spec = pipeline_from_data(data)
    assert check_pipeline(spec) == []
    return spec


def test_diamond_is_valid() -> None:
    spec = valid(
        pipeline(task("a"), task("b", "a"), task("c", "a"), task("d", "b", "c"), task("e"))
    )
    assert [t.depends for t in spec.tasks] == [[], ["a"], ["a"], ["b", "c"], []]


def test_task_path() -> None:
    spec = valid(pipeline(task("a"), task("b", "a"), on_exit=task("z")))
    assert [task_path(spec, t) for t in spec.all_tasks()] == ["tasks[0]", "tasks[1]", "on_exit"]


# --- names and dependencies --------------------------------------------------------------------


def test_duplicate_task_names_name_both_indices() -> None:
    assert errors(pipeline(task("a"), task("b"), task("a"), task("b"))) == [
        "tasks[2].name: duplicate task name 'a' (also tasks[0]); give each task its own name",
        "tasks[3].name: duplicate task name 'b' (also tasks[1]); give each task its own name",
    ]


def test_unknown_dependency_with_suggestion() -> None:
    data = pipeline(task("prepare"), task("train", "prepare"), task("evaluate", "trian"))
    assert errors(data) == ["tasks[2].depends[0]: unknown task 'trian' (did you mean 'train'?)"]


def test_unknown_dependency_without_close_match() -> None:
    assert errors(pipeline(task("a"), task("b", "a", "zzzzzz"))) == [
        "tasks[1].depends[1]: unknown task 'zzzzzz'"
    ]


def test_self_dependency() -> None:
    assert errors(pipeline(task("a", "a"))) == [
        "tasks[0].depends[0]: task 'a' cannot depend on itself"
    ]


def test_on_exit_is_not_a_dependency_target() -> None:
    assert errors(pipeline(task("a", "notify"), on_exit=task("notify"))) == [
        "tasks[0].depends[0]: unknown task 'notify'"
    ]


def test_on_exit_with_depends_refused() -> None:
    assert errors(pipeline(task("a"), on_exit=task("z", "a"))) == [
        "on_exit.depends: the on_exit task runs after every other task; remove its depends"
    ]


def test_on_exit_name_clash() -> None:
    assert errors(pipeline(task("a"), task("b"), on_exit=task("b"))) == [
        "on_exit.name: 'b' is already the name of tasks[1]; give the exit task its own name"
    ]


def test_name_and_dependency_errors_together() -> None:
    data = pipeline(task("a"), task("a", "b"), on_exit=task("a", "a"))
    assert errors(data) == [
        "tasks[1].name: duplicate task name 'a' (also tasks[0]); give each task its own name",
        "on_exit.name: 'a' is already the name of tasks[0]; give the exit task its own name",
        "on_exit.depends: the on_exit task runs after every other task; remove its depends",
        "tasks[1].depends[0]: unknown task 'b'",
    ]


# --- cycles ------------------------------------------------------------------------------------


def test_three_task_cycle() -> None:
    data = pipeline(task("c", "b"), task("b", "a"), task("a", "c"))
    assert errors(data) == [
        "tasks[2].depends: dependency cycle: a -> b -> c -> a; remove one of these dependencies"
    ]


def test_two_task_cycle() -> None:
    assert errors(pipeline(task("a", "b"), task("b", "a"))) == [
        "tasks[1].depends: dependency cycle: b -> a -> b; remove one of these dependencies"
    ]


def test_cycle_message_follows_the_dependencies() -> None:
    # "x -> y" in the message means y depends on x.
    data = pipeline(task("a", "c"), task("b", "a"), task("c", "b"))
    (found,) = errors(data)
    assert found == (
        "tasks[1].depends: dependency cycle: b -> c -> a -> b; remove one of these dependencies"
    )
    spec_depends = {"a": ["c"], "b": ["a"], "c": ["b"]}
    chain = found.split("cycle: ")[1].split(";")[0].split(" -> ")
    for upstream, downstream in zip(chain, chain[1:], strict=False):
        assert upstream in spec_depends[downstream]


def test_cycle_with_a_tail_downstream() -> None:
    # x is fine; d and e hang below the cycle a -> b -> c -> a and are stuck with it.
    data = pipeline(
        task("x"),
        task("d", "c"),
        task("a", "c", "x"),
        task("b", "a"),
        task("c", "b"),
        task("e", "d"),
    )
    assert errors(data) == [
        "tasks[2].depends: dependency cycle: a -> b -> c -> a; remove one of these dependencies"
    ]


def test_cycle_with_repeated_dependency_entries() -> None:
    assert errors(pipeline(task("a", "b", "b"), task("b", "a"))) == [
        "tasks[1].depends: dependency cycle: b -> a -> b; remove one of these dependencies"
    ]


def test_only_one_cycle_reported_per_pipeline() -> None:
    data = pipeline(task("a", "b"), task("b", "a"), task("c", "d"), task("d", "c"))
    (found,) = errors(data)
    assert "dependency cycle: b -> a -> b" in found


def test_cycle_check_waits_for_unknown_dependencies() -> None:
    # An unknown dependency is reported alone; the cycle check needs known names.
    assert errors(pipeline(task("a", "b"), task("b", "a", "zz"))) == [
        "tasks[1].depends[1]: unknown task 'zz'"
    ]


def test_long_chain_is_valid() -> None:
    tasks = [task("t0")] + [task(f"t{i}", f"t{i - 1}") for i in range(1, 300)]
    spec = valid(pipeline(*tasks))
    assert len(spec.tasks) == 300


def test_long_cycle_is_found() -> None:
    tasks = [task("t0", "t199")] + [task(f"t{i}", f"t{i - 1}") for i in range(1, 200)]
    (found,) = errors(pipeline(*tasks))
    expected = " -> ".join(f"t{i}" for i in [*range(1, 200), 0, 1])
    assert found == (
        f"tasks[1].depends: dependency cycle: {expected}; remove one of these dependencies"
    )


# --- template variables ------------------------------------------------------------------------


def test_known_variables_are_valid() -> None:
    command = (
        "echo {{ creator }} {{ runner }} {{ pipeline_id }} {{ pipeline_name }} "
        "{{ cluster_name }} {{ execution_date }} {{ run_id }} {{ task_name }} "
        "{{ params.lr }} {{ uuid.uuid4().hex[:4] }} {{ datetime.datetime.now() }}"
    )
    valid(pipeline(task("a", command=command), params={"lr": 0.1}))


def test_misspelt_params_namespace() -> None:
    data = pipeline(task("a", command="echo {{ param.lr }}"), params={"lr": 0.1})
    assert errors(data) == [
        "tasks[0].command: unknown template variable 'param' (did you mean 'params'?)"
    ]


def test_unknown_parameter_with_suggestion() -> None:
    data = pipeline(task("a", command="echo {{ params.lrr }}"), params={"lr": 0.1})
    assert errors(data) == ["tasks[0].command: unknown parameter 'params.lrr' (did you mean 'lr'?)"]


def test_unknown_parameter_without_close_match() -> None:
    data = pipeline(task("a", command="echo {{ params.zzz }}"), params={"lr": 0.1})
    assert errors(data) == [
        "tasks[0].command: unknown parameter 'params.zzz' (declare it under params)"
    ]


def test_parameter_by_subscript() -> None:
    valid(pipeline(task("a", command="echo {{ params['lr'] }}"), params={"lr": 0.1}))
    data = pipeline(task("a", command="echo {{ params['lrr'] }}"), params={"lr": 0.1})
    assert errors(data) == ["tasks[0].command: unknown parameter 'params.lrr' (did you mean 'lr'?)"]


def test_parameter_used_with_a_filter_or_method() -> None:
    valid(
        pipeline(
            task("a", command="echo {{ params.tag | upper }} {{ params.tag.upper() }}"),
            params={"tag": "v1"},
        )
    )


def test_output_of_direct_upstream() -> None:
    valid(
        pipeline(
            task("count", outputs=["rows"]),
            task("report", "count", command="echo {{ tasks.count.outputs.rows }}"),
        )
    )


def test_output_of_transitive_upstream() -> None:
    valid(
        pipeline(
            task("count", outputs=["rows"]),
            task("mid", "count"),
            task("report", "mid", command="echo {{ tasks.count.outputs.rows }}"),
        )
    )


def test_output_of_task_not_upstream() -> None:
    data = pipeline(
        task("count", outputs=["rows"]),
        task("report", command="echo {{ tasks.count.outputs.rows }}"),
    )
    assert errors(data) == [
        "tasks[1].command: 'tasks.count.outputs.rows': task 'count' is not upstream of "
        "'report'; add 'count' to its depends"
    ]


def test_output_of_downstream_task() -> None:
    data = pipeline(
        task("report", command="echo {{ tasks.count.outputs.rows }}"),
        task("count", "report", outputs=["rows"]),
    )
    assert errors(data) == [
        "tasks[0].command: 'tasks.count.outputs.rows': task 'count' is not upstream of "
        "'report'; add 'count' to its depends"
    ]


def test_undeclared_output() -> None:
    data = pipeline(
        task("count", outputs=["rows"]),
        task("report", "count", command="echo {{ tasks.count.outputs.row }}"),
    )
    assert errors(data) == [
        "tasks[1].command: 'tasks.count.outputs.row': task 'count' declares no output 'row' "
        "(did you mean 'rows'?) (its outputs: rows)"
    ]


def test_output_of_task_with_no_outputs() -> None:
    data = pipeline(task("count"), task("report", "count", command="{{ tasks.count.outputs.x }}"))
    assert errors(data) == [
        "tasks[1].command: 'tasks.count.outputs.x': task 'count' declares no output 'x' "
        "(its outputs: none)"
    ]


def test_output_of_unknown_task() -> None:
    data = pipeline(
        task("count", outputs=["rows"]),
        task("report", "count", command="echo {{ tasks.cont.outputs.rows }}"),
    )
    assert errors(data) == [
        "tasks[1].command: 'tasks.cont.outputs.rows' refers to unknown task 'cont' "
        "(did you mean 'count'?)"
    ]


def test_output_reference_must_go_through_outputs() -> None:
    data = pipeline(
        task("count", outputs=["rows"]),
        task("report", "count", command="echo {{ tasks.count.output.rows }}"),
    )
    assert errors(data) == [
        "tasks[1].command: 'tasks.count.output.rows': use tasks.count.outputs.NAME"
    ]


@pytest.mark.parametrize(
    "reference",
    [
        "tasks['count'].outputs.rows",
        "tasks.count.outputs['rows']",
        "tasks['count']['outputs']['rows']",
        "tasks.count.outputs.rows | int",
        "tasks.count.outputs.rows[0]",
    ],
)
def test_output_reference_forms(reference: str) -> None:
    valid(
        pipeline(
            task("count", outputs=["rows"]),
            task("report", "count", command="echo {{ " + reference + " }}"),
        )
    )


@pytest.mark.parametrize(
    "reference",
    ["tasks.count.outputs['row']", "tasks['count']['outputs']['row']"],
)
def test_undeclared_output_by_subscript(reference: str) -> None:
    data = pipeline(
        task("count", outputs=["rows"]),
        task("report", "count", command="echo {{ " + reference + " }}"),
    )
    assert errors(data) == [
        "tasks[1].command: 'tasks.count.outputs.row': task 'count' declares no output 'row' "
        "(did you mean 'rows'?) (its outputs: rows)"
    ]


def test_one_error_per_bad_reference() -> None:
    # The same bad reference twice in one field is one finding; in two fields, two.
    data = pipeline(
        task("count", outputs=["rows"]),
        task(
            "report",
            command="{{ tasks.count.outputs.rows }} {{ tasks.count.outputs.rows }}",
            env={"ROWS": "{{ tasks.count.outputs.rows }}"},
        ),
    )
    message = "'tasks.count.outputs.rows': task 'count' is not upstream of 'report'; " + (
        "add 'count' to its depends"
    )
    assert errors(data) == [f"tasks[1].command: {message}", f"tasks[1].env.ROWS: {message}"]


def test_on_exit_may_use_any_output() -> None:
    valid(
        pipeline(
            task("count", outputs=["rows"]),
            on_exit=task("notify", command="echo {{ tasks.count.outputs.rows }}"),
        )
    )


def test_pipeline_env_cannot_use_outputs() -> None:
    data = pipeline(task("count", outputs=["rows"]), env={"ROWS": "{{ tasks.count.outputs.rows }}"})
    assert errors(data) == [
        "env.ROWS: 'tasks.count.outputs.rows': pipeline env cannot use task outputs; use task env"
    ]


def test_run_status_only_in_on_exit() -> None:
    valid(pipeline(task("a"), on_exit=task("notify", command="echo {{ run_status }}")))
    data = pipeline(
        task("a", command="echo {{ run_status }}"),
        env={"S": "{{ run_status }}"},
        on_exit=task("notify", command="echo {{ run_status }}"),
    )
    assert errors(data) == [
        "env.S: unknown template variable 'run_status'",
        "tasks[0].command: unknown template variable 'run_status'",
    ]


def test_unknown_variable_suggestions() -> None:
    data = pipeline(task("a", command="{{ runn_id }} {{ pipeline }} {{ zzz }}"))
    assert errors(data) == [
        "tasks[0].command: unknown template variable 'pipeline' (did you mean 'pipeline_id'?)",
        "tasks[0].command: unknown template variable 'runn_id' (did you mean 'run_id'?)",
        "tasks[0].command: unknown template variable 'zzz'",
    ]


def test_locally_set_names_are_not_unknown() -> None:
    command = "{% set n = 3 %}{% for i in range(n) %}{{ i }}{% endfor %}"
    valid(pipeline(task("a", command=command)))


def test_template_syntax_error_has_the_field_path() -> None:
    data = pipeline(task("a"), task("b", command="echo {{ params.x "), params={"x": 1})
    assert errors(data) == [
        "tasks[1].command: template syntax error on line 1: "
        "unexpected end of template, expected 'end of print statement'."
    ]


def test_template_syntax_error_line_number() -> None:
    data = pipeline(task("a", env={"X": "line one\nline two {% if %}"}))
    (found,) = errors(data)
    assert found.startswith("tasks[0].env.X: template syntax error on line 2: ")


def test_references_get_their_own_paths() -> None:
    data = pipeline(
        task(
            "a",
            command=["echo", "{{ param.x }}", "{{ params.x }}"],
            env={"OK": "{{ params.x }}", "BAD": "{{ params.y }}"},
        ),
        params={"x": 1},
        env={"G": "{{ runn_id }}"},
        on_exit=task("z", command="{{ params.yy }}"),
    )
    assert errors(data) == [
        "env.G: unknown template variable 'runn_id' (did you mean 'run_id'?)",
        "tasks[0].command[1]: unknown template variable 'param' (did you mean 'params'?)",
        "tasks[0].env.BAD: unknown parameter 'params.y' (declare it under params)",
        "on_exit.command: unknown parameter 'params.yy' (declare it under params)",
    ]


def test_plain_text_is_not_parsed_as_a_template() -> None:
    valid(pipeline(task("a", command="echo ${HOME} {x} '}}' %}", env={"X": "{%"[:1]})))


def test_comment_and_statement_markers_make_a_template() -> None:
    data = pipeline(task("a", command="echo {# unclosed comment"))
    (found,) = errors(data)
    assert found.startswith("tasks[0].command: template syntax error on line 1: ")


def test_template_and_structure_errors_are_reported_together() -> None:
    data = pipeline(
        task("a", "zz", command="{{ param.x }}"),
        params={"x": 1},
    )
    assert errors(data) == [
        "tasks[0].depends[0]: unknown task 'zz'",
        "tasks[0].command: unknown template variable 'param' (did you mean 'params'?)",
    ]
