"""Assignment 07 (capstone): the examples and wrong-but-plausible designs, graded for real.

One batch through the real grader: perfect, partial and blank examples and two variants of the
perfect example, each carrying wrong answers in different parts. Each wrong answer loses the
points of the part meant to catch it, and nothing else.
"""
from __future__ import annotations

import pytest

from tests import helpers as H

A = "07-capstone"
pytestmark = pytest.mark.xdist_group("assignment-07")

# name -> (answer cell, text of the reference answer, replacement, the test cells that must fail)
WRONG_A = {
    "threshold chosen at the validation set's prevalence": (
        "system", "THRESHOLD = choose_threshold(_valid_labels, _valid_votes, weights=production_weights(_valid_labels))",
        "THRESHOLD = choose_threshold(_valid_labels, _valid_votes, weights=np.ones(len(_valid_labels)))",
        "test_threshold"),
    "a monitor that never alarms": (
        "system", "        hours[\"alert\"] = alert\n", "        hours[\"alert\"] = np.zeros(len(hours), dtype=bool)\n",
        "test_monitor_alarm"),
    "every other pixel instead of 2x2 means": (
        "preprocess", "    faces = (blocks.mean(axis=(2, 4)) / 255.0).astype(np.float32)",
        "    faces = (crops[:, ::2, ::2] / 255.0).astype(np.float32)", "test_preprocess"),
    "the interview starts with the model": (
        "design", 'for topic in ("goal", "traffic", "latency", "privacy", "labels", "costs"):',
        'interview.ask("model")\n    for topic in ("goal", "traffic", "latency", "privacy", "labels", "costs"):',
        "test_design_asks"),
}

WRONG_B = {
    # a missed frown costs three false nudges, so "when in doubt, nudge" sounds prudent; a covered
    # camera then nudges every two seconds. (Scoring broken crops like any other is harmless here: the
    # model's per-image normalisation maps a constant crop to zeros, which it scores calm.)
    "a broken crop counts as a frown": (
        "system", "    scores = np.zeros(len(faces))\n", "    scores = np.ones(len(faces))\n", "test_fallback"),
    "monitor band of one standard deviation": (
        "system", "    z = norm.ppf(1 - SPEC.max_false_alarm_rate / 4)", "    z = 1.0", "test_monitor_quiet"),
    "the daily average rate for peak QPS": (
        "design", 'peak_qps = facts["daily_users"] * facts["requests_per_user"] / 86_400 * facts["peak_to_mean"]',
        'peak_qps = facts["daily_users"] * facts["requests_per_user"] / 86_400', "test_design_numbers"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("a07"), wrong_a=H.with_mistakes(perfect, WRONG_A),
                            wrong_b=H.with_mistakes(perfect, WRONG_B))


@pytest.mark.slow
def test_perfect_gets_full_marks(graded):
    H.check_perfect(graded["perfect"], min_parts=12)


@pytest.mark.slow
def test_blank_gets_zero(graded):
    H.check_blank(graded["blank"], all_not_attempted=False)


@pytest.mark.slow
def test_partial_is_in_between(graded):
    H.check_partial(graded["partial"])


CASES = H.wrong_answer_cases(wrong_a=WRONG_A, wrong_b=WRONG_B)


@pytest.mark.slow
@pytest.mark.parametrize("variant,name,part", CASES, ids=[c[1] for c in CASES])
def test_wrong_answer_loses_its_part(graded, variant, name, part):
    outcome = H.outcomes(graded[variant])[part]
    assert outcome == "failed", f"{name!r} should fail {part}, got {outcome}"


# A threshold chosen at the sample's prevalence is caught by the threshold decision on validation; on one
# unseen day it may or may not be clearly below the precision floor (a few false nudges decide it).
MAY = {"wrong_a": {"test_nudge_precision"}, "wrong_b": set()}


@pytest.mark.slow
@pytest.mark.parametrize("variant,wrong", [("wrong_a", WRONG_A), ("wrong_b", WRONG_B)])
def test_wrong_answers_cost_nothing_else(graded, variant, wrong):
    expected = {part for spec in wrong.values() for part in H.parts_of(spec)}
    H.check_lost_exactly(graded[variant], must=expected, may=MAY[variant])
