"""Right-sizing: the formula of each policy, the evidence shown, the pipeline data changed."""

from __future__ import annotations

from datetime import UTC, datetime

from cubestudio.monitor.rightsize import (
    GI,
    MI,
    POLICIES,
    RunPeak,
    apply,
    format_cpu,
    format_memory,
    suggest,
    suggest_all,
    yaml_change,
)
from cubestudio.spec.loader import pipeline_from_data

HEADROOM = POLICIES["headroom"]
CUBE = POLICIES["cube-studio"]


def _peak(run: str, cpu: float, rss: int) -> RunPeak:
    return RunPeak(run, datetime(2026, 1, 1, tzinfo=UTC), 1, cpu, rss)


def test_cube_studio_policy_is_ceil_of_max_times_1_4_plus_2() -> None:
    # 2.5 cores x 1.4 = 3.5 -> 4, + 2 = 6; 3 GiB x 1.4 = 4.2 -> 5, + 2 = 7 GiB
    advice = suggest(
        "t",
        [_peak("a", 250.0, 3 * GI), _peak("b", 100.0, GI)],
        current_cpu=1.0,
        current_memory=GI,
        policy=CUBE,
    )
    assert advice.cpu == 6.0 and advice.memory == 7 * GI
    assert CUBE.cpu(0.0) == 2.0 and CUBE.memory(0) == 2 * GI  # ceil(0) + 2


def test_headroom_policy_rounds_up_to_a_tenth_of_a_core_and_64_mi() -> None:
    assert HEADROOM.cpu(50.0) == 0.7  # 0.5 x 1.4
    assert HEADROOM.cpu(100.0) == 1.4
    assert HEADROOM.cpu(1.0) == 0.1  # at least 0.1 core
    assert HEADROOM.memory(200 * MI) == 320 * MI  # 280 Mi -> the next 64 Mi
    assert HEADROOM.memory(1) == 64 * MI


def test_the_evidence_is_every_run_and_the_peak_is_their_largest() -> None:
    runs = [_peak("r1", 80.0, 100 * MI), _peak("r2", 150.0, 50 * MI), _peak("r3", 20.0, 10 * MI)]
    advice = suggest("t", runs, current_cpu=None, current_memory=None, policy=HEADROOM)
    assert advice.cpu == 2.1 and advice.memory == 192 * MI
    out = advice.to_dict()
    assert [e["run_id"] for e in out["evidence"]] == ["r1", "r2", "r3"]
    assert out["evidence"][1]["cpu_max_percent"] == 150.0
    assert out["current"] == {"cpu": None, "memory": None}
    assert out["suggested"] == {"cpu": 2.1, "memory": 192 * MI}
    assert out["changed"] and out["runs"] == 3


def test_no_evidence_no_suggestion_and_no_change() -> None:
    advice = suggest("t", [], current_cpu=2.0, current_memory=GI, policy=HEADROOM)
    assert advice.cpu is None and advice.memory is None and not advice.changed
    same = suggest("t", [_peak("r", 50.0, 200 * MI)], current_cpu=0.7, current_memory=320 * MI,
                   policy=HEADROOM)  # fmt: skip
    assert not same.changed


def test_apply_changes_only_the_tasks_with_evidence_and_stays_a_pipeline() -> None:
    data = {
        "name": "p",
        "tasks": [
            {"name": "a", "command": "true", "resources": {"cpu": 4.0, "gpu": 1}},
            {"name": "b", "command": "true"},
        ],
        "on_exit": {"name": "z", "command": "true"},
    }
    advice = suggest_all(data, {"a": [_peak("r", 50.0, 200 * MI)], "z": []}, HEADROOM)
    assert [a.task for a in advice] == ["a", "b", "z"]
    assert advice[0].current_cpu == 4.0
    new = apply(data, advice)
    assert new["tasks"][0]["resources"] == {"cpu": 0.7, "gpu": 1, "memory": 320 * MI}
    assert new["tasks"][1] == data["tasks"][1] and new["on_exit"] == data["on_exit"]
    assert data["tasks"][0]["resources"] == {"cpu": 4.0, "gpu": 1}  # the input is untouched
    spec = pipeline_from_data(new)
    assert spec.tasks[0].resources.memory == 320 * MI and spec.tasks[0].resources.cpu == 0.7


def test_yaml_change_loads_back_to_the_suggested_values() -> None:
    import yaml

    advice = [
        suggest(
            "a",
            [_peak("r", 50.0, 200 * MI)],
            current_cpu=None,
            current_memory=None,
            policy=HEADROOM,
        ),  # fmt: skip
        suggest("b", [], current_cpu=None, current_memory=None, policy=HEADROOM),
    ]
    text = yaml_change(advice)
    data = yaml.safe_load(text)
    assert data == {"tasks": [{"name": "a", "resources": {"cpu": "700m", "memory": "320Mi"}}]}
    assert yaml_change(advice[1:]) == ""
    assert format_cpu(2.0) == "2" and format_memory(3 * GI) == "3Gi" and format_memory(None) == "-"
