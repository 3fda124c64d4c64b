"""The run controller's state machine, on every backend, with injected time."""

from __future__ import annotations

import signal

from .conftest import Harness

DIAMOND = """
name: diamond
parallelism: 1
tasks:
  - {name: a, command: "true"}
  - {name: b, command: "true", depends: [a]}
  - {name: c, command: "true", depends: [a]}
  - {name: d, command: "true", depends: [b, c]}
"""


def test_diamond_runs_in_dependency_order_within_parallelism(harness: Harness) -> None:
    harness.start(DIAMOND)
    assert harness.launched() == ["a"]
    assert harness.status() == {"a": "running", "b": "pending", "c": "pending", "d": "pending"}
    harness.finish("a")
    assert harness.launched() == ["a", "b"]
    assert harness.status()["c"] == "queued"  # ready, but parallelism is 1
    harness.finish("b")
    harness.finish("c")
    assert harness.launched() == ["a", "b", "c", "d"]
    harness.finish("d")
    result = harness.summary()
    assert result["status"] == "succeeded"
    assert all(t["attempts"] == 1 and t["exit_code"] == 0 for t in result["tasks"].values())


def test_failure_marks_downstream_upstream_failed_while_independent_branch_goes_on(
    harness: Harness,
) -> None:
    harness.start(
        """
name: branches
tasks:
  - {name: a, command: "false"}
  - {name: a2, command: "true", depends: [a]}
  - {name: a3, command: "true", depends: [a2]}
  - {name: x, command: "true"}
  - {name: x2, command: "true", depends: [x]}
"""
    )
    harness.finish("a", 1)
    status = harness.status()
    assert status["a"] == "failed" and status["a2"] == "upstream_failed"
    assert status["a3"] == "upstream_failed" and status["x"] == "running"
    harness.finish("x")
    harness.finish("x2")
    result = harness.summary()
    assert result["status"] == "failed"
    assert result["tasks"]["x2"]["status"] == "succeeded"
    assert result["tasks"]["a"]["exit_code"] == 1


def test_retries_wait_their_delay_with_exponential_backoff(harness: Harness) -> None:
    harness.start(
        """
name: retry
tasks:
  - {name: a, command: "false", retries: 3, retry_delay: 10s, retry_backoff: 2}
"""
    )
    harness.finish("a", 1)
    assert harness.status()["a"] == "pending"
    harness.tick(9.9)
    assert len(harness.launched()) == 1  # the 10 s delay has not passed
    harness.tick(0.1)
    assert len(harness.launched()) == 2
    harness.finish("a", 1)
    harness.tick(19.9)
    assert len(harness.launched()) == 2  # backoff: 20 s now
    harness.tick(0.1)
    assert [r.key.number for r in harness.driver.launched] == [1, 2, 3]
    harness.finish("a", 0)
    result = harness.summary()
    assert result["status"] == "succeeded" and result["tasks"]["a"]["attempts"] == 3


def test_retries_run_out(harness: Harness) -> None:
    harness.start("name: r\ntasks:\n  - {name: a, command: 'false', retries: 1}\n")
    harness.finish("a", 3)
    harness.finish("a", 4)
    result = harness.summary()
    assert result["status"] == "failed"
    assert result["tasks"]["a"] == {**result["tasks"]["a"], "attempts": 2, "exit_code": 4}


def test_timeout_sends_sigterm_then_sigkill_and_fails_the_attempt(harness: Harness) -> None:
    harness.start("name: t\ntasks:\n  - {name: a, command: 'sleep 60', timeout: 30s}\n")
    harness.tick(29)
    assert harness.driver.signals == []
    harness.tick(1)
    assert [s for _, s in harness.driver.signals] == [signal.SIGTERM]
    harness.tick(5)  # the kill grace
    assert [s for _, s in harness.driver.signals] == [signal.SIGTERM, signal.SIGKILL]
    harness.finish("a", None)
    result = harness.summary()
    assert result["status"] == "failed"
    assert harness.ctl.by_name["a"].message == "timed out after 30s"


def test_trigger_rules_for_clean_up_tasks(harness: Harness) -> None:
    harness.start(
        """
name: triggers
tasks:
  - {name: a, command: "false"}
  - {name: b, command: "true"}
  - {name: done, command: "true", depends: [a, b], trigger: all_done}
  - {name: alert, command: "true", depends: [a], trigger: one_failed}
  - {name: quiet, command: "true", depends: [b], trigger: one_failed}
"""
    )
    harness.finish("a", 1)
    status = harness.status()
    assert status["alert"] == "running"  # one_failed fires as soon as one upstream failed
    assert status["done"] == "pending"  # all_done waits for b
    harness.finish("b")
    status = harness.status()
    assert status["done"] == "running" and status["quiet"] == "skipped"
    harness.finish("done")
    harness.finish("alert")
    assert harness.summary()["status"] == "failed"


def test_skip_true_lets_downstream_run(harness: Harness) -> None:
    harness.start(
        """
name: skip
tasks:
  - {name: a, command: "true", skip: true}
  - {name: b, command: "true", depends: [a]}
"""
    )
    assert harness.launched() == ["b"]
    harness.finish("b")
    assert harness.status() == {"a": "skipped", "b": "succeeded"}
    assert harness.summary()["status"] == "succeeded"


def test_on_exit_runs_last_whatever_the_outcome_and_sees_run_status(harness: Harness) -> None:
    harness.start(
        """
name: exit
tasks:
  - {name: a, command: "false"}
  - {name: b, command: "true", depends: [a]}
on_exit: {name: notify, command: "echo {{ run_status }}"}
"""
    )
    harness.finish("a", 1)
    assert harness.launched() == ["a", "notify"]
    assert harness.driver.launched[-1].command == "echo failed"
    harness.finish("notify")
    assert harness.status() == {"a": "failed", "b": "upstream_failed", "notify": "succeeded"}
    assert harness.summary()["status"] == "failed"


def test_stop_kills_running_tasks_stops_pending_ones_and_still_runs_on_exit(
    harness: Harness,
) -> None:
    harness.start(
        """
name: stop
tasks:
  - {name: a, command: "sleep 60"}
  - {name: b, command: "true", depends: [a]}
on_exit: {name: cleanup, command: "echo {{ run_status }}"}
"""
    )
    harness.ctl.request_stop(harness.now)
    harness.tick()
    assert [s for _, s in harness.driver.signals] == [signal.SIGTERM]
    assert harness.status()["b"] == "stopped"
    harness.finish("a", None)
    assert harness.driver.launched[-1].command == "echo stopped"
    harness.finish("cleanup")
    assert harness.status() == {"a": "stopped", "b": "stopped", "cleanup": "succeeded"}
    assert harness.summary()["status"] == "stopped"


def test_run_timeout_stops_everything_and_fails_the_run(harness: Harness) -> None:
    harness.start(
        """
name: deadline
timeout: 1m
tasks:
  - {name: a, command: "sleep 600"}
  - {name: b, command: "true", depends: [a]}
"""
    )
    harness.tick(60)
    assert [s for _, s in harness.driver.signals] == [signal.SIGTERM]
    harness.finish("a", None)
    result = harness.summary()
    assert result["status"] == "failed"
    assert harness.ctl.message == "the run timed out after 60s"
    assert result["tasks"]["b"]["status"] == "stopped"


def test_outputs_flow_into_downstream_templates(harness: Harness) -> None:
    harness.start(
        """
name: outputs
tasks:
  - {name: count, command: "true", outputs: [rows]}
  - name: use
    depends: [count]
    command: "echo {{ tasks.count.outputs.rows }}"
    env: {ROWS: "{{ tasks.count.outputs.rows }}"}
"""
    )
    harness.finish("count", 0, rows="42")
    request = harness.driver.launched[-1]
    assert request.command == "echo 42" and request.env["ROWS"] == "42"


def test_a_declared_output_that_was_not_written_fails_the_task(harness: Harness) -> None:
    harness.start("name: o\ntasks:\n  - {name: count, command: 'true', outputs: [rows]}\n")
    harness.finish("count", 0)
    assert harness.status() == {"count": "failed"}
    assert "declared output 'rows' was not written" in (harness.ctl.by_name["count"].message or "")


def test_a_template_that_fails_to_render_fails_the_task_before_it_runs(harness: Harness) -> None:
    harness.start(
        "name: r\ntasks:\n  - {name: a, command: \"echo {{ ''.__class__.__mro__ }}\", retries: 2}\n"
    )
    assert harness.launched() == []
    assert harness.status() == {"a": "failed"}
    message = harness.ctl.by_name["a"].message or ""
    assert "cannot render" in message and "unsafe" in message
    assert "cannot render" in harness.driver.notes[0][1]  # and said in the task's log


def test_retry_reruns_only_what_did_not_succeed(harness: Harness) -> None:
    harness.start(
        """
name: retry-run
tasks:
  - {name: a, command: "true", outputs: [x]}
  - {name: b, command: "false", depends: [a]}
  - {name: c, command: "true", depends: [b]}
"""
    )
    harness.finish("a", 0, x="1")
    harness.finish("b", 1)
    assert harness.summary()["status"] == "failed"
    ctl = harness.reload()
    ctl.reset(["b", "c"], harness.now)
    ctl.start(harness.now)
    assert harness.launched() == ["b"]  # a keeps its result and its outputs
    assert harness.driver.launched[0].key.number == 2
    harness.finish("b")
    harness.finish("c")
    result = harness.summary()
    assert result["status"] == "succeeded"
    assert result["tasks"]["a"]["attempts"] == 1 and result["tasks"]["b"]["attempts"] == 2


def test_restart_adopts_running_attempts_and_relaunches_unstarted_ones(harness: Harness) -> None:
    from cubestudio.drivers.memory import MemoryDriver
    from cubestudio.engine.launcher import AttemptKey, Recovery

    harness.start(
        """
name: crash
parallelism: 2
tasks:
  - {name: a, command: "sleep 5"}
  - {name: b, command: "sleep 5"}
  - {name: c, command: "true", depends: [a, b]}
"""
    )
    run_id = harness.ctl.run_id
    driver = MemoryDriver(
        recoveries={AttemptKey(run_id, "a", 1): Recovery.ADOPTED}
    )  # b's launch was committed but never began
    ctl = harness.reload(driver)
    ctl.start(harness.now)
    assert harness.launched() == ["b"]  # a is adopted, not started again
    driver.launched.append(driver.launched[0].__class__(AttemptKey(run_id, "a", 1), "", {}))
    harness.finish("a")
    harness.finish("b")
    assert harness.launched() == ["b", "a", "c"]
    harness.finish("c")
    assert harness.summary()["status"] == "succeeded"
    assert {t["attempts"] for t in harness.summary()["tasks"].values()} == {1}


def test_a_lost_attempt_fails_and_is_retried(harness: Harness) -> None:
    from cubestudio.drivers.memory import MemoryDriver
    from cubestudio.engine.launcher import AttemptKey, Outcome, Recovery

    harness.start("name: lost\ntasks:\n  - {name: a, command: 'sleep 5', retries: 1}\n")
    key = AttemptKey(harness.ctl.run_id, "a", 1)
    driver = MemoryDriver(recoveries={key: Recovery.LOST})
    driver._ended.append(Outcome(key, None))
    ctl = harness.reload(driver)
    ctl.start(harness.now)
    harness.tick()
    assert [r.key.number for r in driver.launched] == [2]
    assert harness.status() == {"a": "running"}
    attempts = harness.ctl.by_name["a"]
    assert attempts.attempts == 2


def test_a_secret_nobody_provided_fails_the_task_with_the_reason(harness: Harness) -> None:
    harness.start(
        """
name: secret
env: {PLAIN: x, TOKEN: {secret: true, value: s3cr3t}}
tasks:
  - {name: a, command: "true"}
  - {name: b, command: "true", depends: [a]}
"""
    )
    # the harness created the controller without secrets: nothing kept, so the task fails
    assert harness.status()["a"] == "failed"
    assert "secret env TOKEN is not available" in (harness.ctl.by_name["a"].message or "")


def test_secret_values_are_kept_for_a_restarted_engine(sqlite_harness: Harness) -> None:
    from cubestudio.drivers.memory import MemoryDriver
    from cubestudio.engine.lifecycle import create_run, load_controller
    from cubestudio.spec.loader import load_pipeline_text

    h = sqlite_harness
    spec = load_pipeline_text(
        "name: s\nenv: {TOKEN: {secret: true, from_env: HOME}}\n"
        "tasks:\n  - {name: a, command: 'true'}\n  - {name: b, command: 'true', depends: [a]}\n"
    )
    run_id = create_run(h.db, spec=spec, params={}, now=h.now)
    driver = MemoryDriver()
    first = load_controller(h.db, driver, run_id, kill_grace=5, secrets={"TOKEN": "v1"})
    first.start(h.now)
    assert driver.launched[0].env["TOKEN"] == "v1"
    assert driver.secrets[run_id] == {"TOKEN": "v1"}  # kept where only its owner reads
    second = load_controller(h.db, driver, run_id, kill_grace=5)  # a restart: no values given
    second.start(h.now)
    driver.finish("a")
    second.tick(h.now)
    assert driver.launched[-1].key.task == "b" and driver.launched[-1].env["TOKEN"] == "v1"


def test_an_engine_taking_a_run_over_finds_secrets_in_its_environment(
    sqlite_harness: Harness,
) -> None:
    """A scheduled run is created by the scheduler and driven by `cube resume`: the secrets
    come from the environment of the process that drives it."""
    from cubestudio.drivers.memory import MemoryDriver
    from cubestudio.engine.lifecycle import create_run, load_controller
    from cubestudio.spec.loader import load_pipeline_text

    h = sqlite_harness
    spec = load_pipeline_text(
        "name: s\nenv: {T: {secret: true, from_env: MY_T}, P: {secret: true, value: pw}}\n"
        "tasks:\n  - {name: a, command: 'true'}\n"
    )
    run_id = create_run(h.db, spec=spec, params={}, now=h.now, trigger="schedule")
    driver = MemoryDriver()
    ctl = load_controller(h.db, driver, run_id, kill_grace=5, environ={"MY_T": "from-env"})
    ctl.start(h.now)
    assert {k: driver.launched[0].env[k] for k in ("T", "P")} == {"T": "from-env", "P": "pw"}
