"""Unit tests for course.spec: the one spec of the course, read from the scenario, consistent with
it, and with the metric conflict resolved the way its docstring says."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import course.spec as spec_module
from course.framing import GUARDRAIL_METRICS, PRIMARY_METRICS, SCENARIO, ProblemSpec, check_spec_format
from course.spec import SPEC, Spec, spec_table


def test_spec_is_read_only():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SPEC.target_recall = 0.1  # type: ignore[misc]


def test_what_the_scenario_states_is_read_from_it_not_restated():
    assert SPEC.frown_prevalence == SCENARIO.frown_prevalence
    assert SPEC.min_precision == SCENARIO.min_precision
    assert SPEC.analysis_fps == SCENARIO.min_analysis_fps
    assert SPEC.nudge_window_s == SCENARIO.nudge_window_s
    assert SPEC.model_mb == SCENARIO.device_model_mb
    assert SPEC.costs == SCENARIO.costs
    assert SPEC.opt_in_rate == SCENARIO.opt_in_rate
    assert SPEC.nudge_feedback_rate == SCENARIO.nudge_feedback_rate
    # none of them is also a field of the spec (a second copy that could drift)
    field_names = {f.name for f in dataclasses.fields(Spec)}
    scenario_names = {f.name for f in dataclasses.fields(type(SCENARIO))}
    assert not field_names & scenario_names, field_names & scenario_names


def test_the_numbers_the_course_relies_on():
    assert SPEC.frown_prevalence == 0.02
    assert SPEC.frames_per_window == 30
    assert SPEC.latency_budget_ms == 20.0
    assert SPEC.guardrails == {"precision": 0.9, "worst_tone_recall": 0.8, "latency_ms": 20.0, "model_mb": 1.0}
    assert SPEC.primary_metric == "recall_at_precision"
    assert math.isclose(SPEC.bayes_threshold, 0.25)
    assert 0 < SPEC.worst_tone_recall <= SPEC.target_recall < 1


def test_latency_budget_holds_for_sequential_and_overlapped_pipelines():
    interval = 1000.0 / SPEC.analysis_fps
    budget = SPEC.latency_budget_ms
    # one thread, stage after stage, one face: the frame is done before the next one arrives
    assert sum(SCENARIO.other_stages_ms) + budget <= interval
    # stages overlapped: the model's stage keeps up with the busiest frames
    assert SCENARIO.max_faces_per_frame * budget <= interval
    # and it is the largest whole number of ms that does both
    assert sum(SCENARIO.other_stages_ms) + budget + 1 > interval or \
        SCENARIO.max_faces_per_frame * (budget + 1) > interval


def test_window_prevalence_formula():
    mean_frown = (SCENARIO.frown_min_s + SCENARIO.frown_max_s) / 2
    p = SPEC.frown_prevalence
    assert math.isclose(SPEC.window_prevalence, p / (1 - p * SPEC.nudge_window_s / mean_frown))
    assert p < SPEC.window_prevalence < 1.05 * p
    # the formula needs every frown to last at least half a window
    assert SCENARIO.frown_min_s >= SPEC.nudge_window_s / 2


def test_spec_passes_the_format_check_and_the_scenario_rules_of_assignment_01():
    spec = SPEC.as_problem_spec()
    assert isinstance(spec, ProblemSpec)
    check_spec_format(spec)
    fps = spec.analysis_fps
    assert SCENARIO.min_analysis_fps <= fps <= SCENARIO.camera_fps
    left = 1000 / fps - sum(SCENARIO.other_stages_ms)
    assert 0 < spec.latency_budget_ms <= left
    interval = 1000 / fps
    assert spec.deployment == ("edge" if SCENARIO.device_pipeline_ms <= interval else "server")
    assert spec.stores_raw_faces == "opt_in_sample"
    assert spec.primary_metric in PRIMARY_METRICS
    rails = spec.guardrails
    assert set(rails) <= set(GUARDRAIL_METRICS)
    assert rails["precision"] >= SCENARIO.min_precision
    assert 0 < rails["latency_ms"] <= spec.latency_budget_ms
    assert 0 < rails["worst_tone_recall"] <= 1
    assert rails["model_mb"] > 0


def _calibrated_production_scores(n=200_000, seed=0):
    """Calibrated probabilities at the production prevalence: a detector's score s is N(+1.6, 1)
    for frowns and N(-1.6, 1) otherwise, and p = P(frown | s) by Bayes' rule."""
    rng = np.random.default_rng(seed)
    prior = SPEC.frown_prevalence
    y = (rng.random(n) < prior).astype(int)
    s = rng.normal(np.where(y == 1, 1.6, -1.6), 1.0)
    log_odds = np.log(prior / (1 - prior)) + 3.2 * s        # log N(1.6,1)/N(-1.6,1) = 3.2 s
    return 1 / (1 + np.exp(-log_odds)), y


def test_the_metric_conflict_and_its_resolution():
    """Costs alone pick 0.25, whose precision breaks the floor; among thresholds that meet the
    floor, the cheapest is the one with the highest recall (the docstring's resolution)."""
    p, y = _calibrated_production_scores()
    assert abs(y.mean() - SPEC.frown_prevalence) < 0.005, y.mean()
    c_fp, c_fn = SPEC.costs["c_fp"], SPEC.costs["c_fn"]

    def at(t):
        fired = p >= t
        tp, fp = np.sum(fired & (y == 1)), np.sum(fired & (y == 0))
        fn = np.sum(~fired & (y == 1))
        return tp / max(tp + fp, 1), tp / y.sum(), (c_fp * fp + c_fn * fn) / len(y)

    grid = np.linspace(0.05, 0.99, 95)
    table = np.array([at(t) for t in grid])
    precision, recall, cost = table.T
    cheapest = grid[np.argmin(cost)]
    assert abs(cheapest - SPEC.bayes_threshold) < 0.06, cheapest   # costs alone: about 0.25
    assert at(SPEC.bayes_threshold)[0] < SPEC.min_precision          # ... which breaks the floor
    admissible = precision >= SPEC.min_precision
    assert admissible.any() and not admissible.all()
    by_cost = grid[admissible][np.argmin(cost[admissible])]
    by_recall = grid[admissible][np.argmax(recall[admissible])]
    assert by_cost == by_recall, (by_cost, by_recall)


def test_spec_table_lists_every_number_with_unit_and_meaning():
    table = spec_table()
    assert list(table.columns) == ["value", "unit", "meaning"]
    for f in dataclasses.fields(Spec):
        assert table.loc[f.name, "value"] == getattr(SPEC, f.name)
    for name in ("frown_prevalence", "window_prevalence", "min_precision", "latency_budget_ms", "model_mb",
                 "frames_per_window", "bayes_threshold"):
        assert table.loc[name, "value"] == getattr(SPEC, name)
    assert all(isinstance(m, str) and len(m) > 5 for m in table["meaning"])


def test_docstring_states_the_current_numbers():
    """The module's docstring table is what people read: it must say what the code says."""
    doc = " ".join(spec_module.__doc__.split())
    for text in (f"precision >= {SPEC.min_precision:g}", f"recall >= {SPEC.target_recall:g}",
                 f"recall >= {SPEC.worst_tone_recall:g} on every skin tone",
                 f"{SPEC.latency_budget_ms:g} ms per face", f"at most {SPEC.model_mb:g} MB",
                 f"{SPEC.frown_prevalence:g}: the share", f"{SPEC.window_prevalence:.4f}",
                 f"``p >= {SPEC.bayes_threshold:g}``", f"{SPEC.nudge_window_s:g} s ({SPEC.frames_per_window} frames",
                 f"at most {SPEC.max_false_alarm_rate:.0%} of", f"within {SPEC.max_detection_delay} windows",
                 f"{SPEC.label_delay[0]} to {SPEC.label_delay[1]} monitor windows"):
        assert text in doc, f"the docstring of course.spec should say {text!r}"


def test_stream_reads_the_label_delay_from_the_spec():
    from course.stream import make_stream

    stream = make_stream(seed=1, n_windows=3, window_size=20, n_train=50, n_reference=20, deployment_seed=3)
    assert stream.label_delay == SPEC.label_delay
    delay = stream.log["arrival"] - stream.log["window"]
    assert delay.between(*SPEC.label_delay).all()
