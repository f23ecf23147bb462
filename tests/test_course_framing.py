"""Unit tests for course.framing: the scenario of assignment 01, its vocabularies and the spec check."""
from __future__ import annotations

import dataclasses
import math

import pytest

from course.framing import (
    BUSINESS_GOALS,
    FROWN_GOALS,
    GUARDRAIL_METRICS,
    SCENARIO,
    TASK_TYPES,
    ProblemSpec,
    Scenario,
    check_spec_format,
    scenario_table,
)


def good_spec(**changes) -> ProblemSpec:
    values = dict(task_type="binary_classification", positive_class="frown", prediction_unit="face",
                  deployment="server", stores_raw_faces="opt_in_sample", analysis_fps=15,
                  latency_budget_ms=20.0, primary_metric="recall_at_precision",
                  guardrails={"precision": 0.95, "latency_ms": 20.0, "worst_tone_recall": 0.8})
    values.update(changes)
    return ProblemSpec(**values)


def test_scenario_is_read_only():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCENARIO.daily_users = 1  # type: ignore[misc]


def test_scenario_table_lists_every_number_with_unit_and_meaning():
    table = scenario_table()
    names = [f.name for f in dataclasses.fields(Scenario) if f.name != "name"]
    assert list(table.index) == names
    assert list(table.columns) == ["value", "unit", "meaning"]
    assert table.loc["daily_users", "value"] == SCENARIO.daily_users
    assert all(isinstance(u, str) and u for u in table["unit"])
    assert all(isinstance(m, str) and len(m) > 5 for m in table["meaning"])


def test_scenario_tells_the_story_the_notebook_tells():
    """The notebook's narrative relies on these relations; a change of numbers must keep them."""
    s = SCENARIO
    interval = 1000 / s.min_analysis_fps
    assert math.isclose(sum(s.other_stages_ms), 46.0)
    # at the required frame rate the model has about 20 ms, and none at 25 fps
    assert 20 < interval - sum(s.other_stages_ms) < 21
    assert 1000 / 25 - sum(s.other_stages_ms) < 0
    # the slowest client cannot keep up at 15 fps, but could at 10 fps
    assert s.device_pipeline_ms > interval and s.device_pipeline_ms <= 1000 / 10
    # the server path is in time and fits the uplink
    upload_ms = s.frame_bytes * 8 / (s.uplink_mbps * 1e6) * 1000
    assert upload_ms + s.rtt_ms + s.server_pipeline_ms <= s.nudge_latency_ms
    assert s.min_analysis_fps * s.frame_bytes * 8 / 1e6 <= s.uplink_mbps
    assert s.faces_may_leave_device
    # a miss costs more than a false alarm
    assert s.costs == {"c_fp": 1.0, "c_fn": 3.0}


def test_goals_and_vocabulary():
    assert len(set(TASK_TYPES)) == len(TASK_TYPES) and "not_ml" in TASK_TYPES
    assert sorted(FROWN_GOALS) == [f"F{i}" for i in range(1, 7)]
    assert sorted(BUSINESS_GOALS) == [f"B{i}" for i in range(1, 9)]
    assert all(isinstance(text, str) and text.endswith(".") for text in {**FROWN_GOALS, **BUSINESS_GOALS}.values())


def test_a_well_formed_spec_passes():
    assert check_spec_format(good_spec()) is None
    assert check_spec_format(good_spec(guardrails={})) is None   # format only: consistency is the notebook's job


@pytest.mark.parametrize("changes, words", [
    ({"task_type": "classification"}, "task_type"),
    ({"positive_class": 1}, "positive_class"),
    ({"prediction_unit": "pixel"}, "prediction_unit"),
    ({"deployment": "cloud"}, "deployment"),
    ({"stores_raw_faces": "some"}, "stores_raw_faces"),
    ({"primary_metric": "auc"}, "primary_metric"),
    ({"analysis_fps": "15"}, "analysis_fps"),
    ({"latency_budget_ms": float("nan")}, "latency_budget_ms"),
    ({"latency_budget_ms": True}, "latency_budget_ms"),
    ({"guardrails": [("precision", 0.95)]}, "guardrails must be a dict"),
    ({"guardrails": {"p95": 20}}, "unknown guardrail 'p95'"),
    ({"guardrails": {"precision": None}}, "guardrail 'precision'"),
])
def test_malformed_fields_are_named(changes, words):
    with pytest.raises(ValueError, match="malformed") as info:
        check_spec_format(good_spec(**changes))
    assert words in str(info.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ValueError) as info:
        check_spec_format(good_spec(task_type="x", deployment="y", analysis_fps=None))
    text = str(info.value)
    assert "task_type" in text and "deployment" in text and "analysis_fps" in text


def test_not_a_spec_is_refused():
    with pytest.raises(ValueError, match="ProblemSpec"):
        check_spec_format({"task_type": "binary_classification"})


def test_guardrail_directions():
    assert set(GUARDRAIL_METRICS.values()) == {"max", "min"}
    assert GUARDRAIL_METRICS["latency_ms"] == "max" and GUARDRAIL_METRICS["worst_tone_recall"] == "min"
