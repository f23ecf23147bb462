"""Assignment 06 (monitoring and iteration): the examples and wrong-but-plausible answers, graded for real.

One batch through the real grader: the perfect, partial and blank examples plus two variants of
the perfect example, each carrying several wrong answers in different parts. Every wrong answer
must lose the points of the part meant to catch it (and of the parts listed as its knock-on
effects), and nothing else.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import cells as C
from tests import helpers as H
from tests import honest_globals as HG

A = "06-monitoring-and-iteration"
pytestmark = pytest.mark.xdist_group("assignment-06")  # one worker grades the batch once

# ---------------------------------------------------------------------------------------------
# wrong-but-plausible answers, one for every graded part, written from the task text
# name -> (answer cell, text of the reference answer or None for the whole cell, replacement,
#          the test cells that must fail: the one meant to catch it first)
# ---------------------------------------------------------------------------------------------
WRONG_A = {
    "PSI with bins from the current window": (
        "psi", "edges = np.unique(np.quantile(reference, q))", "edges = np.unique(np.quantile(current, q))",
        ("test_psi", "test_psi_empty_bins")),
    "a score equal to the threshold extends the run": (
        "alert_rule", "run = run + 1 if score > threshold else 0", "run = run + 1 if score >= threshold else 0",
        "test_alert_rule"),
    "null windows drawn from the reference instead of the holdout": (
        "calibrate_threshold", "rng.choice(holdout, window_size, replace=True)",
        "rng.choice(reference, window_size, replace=True)", ("test_calibrate_threshold", "test_run_monitor")),
    "the monitor ignores its stat argument": (
        "run_monitor", "scores = drift_scores(reference, values, windows, stat=stat)",
        "scores = drift_scores(reference, values, windows)", "test_run_monitor"),
    "page on a single window": (
        "monitor_settings", '"k": 2}', '"k": 1}', "test_monitor_false_alarms"),
    "labels known before they arrive": (
        "known_labels", 'return traffic[traffic["arrival"] <= now]',
        'return traffic[traffic["feedback"] | traffic["donor"]]', "test_known_labels"),
    "weights equal to the propensity": (
        "label_metrics", 'w = 1.0 / labelled["propensity"]', 'w = labelled["propensity"]', "test_label_metrics_ipw"),
    "slices in order of appearance": (
        "slice_accuracy", "for name in sorted(set(slices))}", "for name in pd.unique(slices)}", "test_slice_accuracy"),
    "shadow decisions with > threshold": (
        "shadow_report", "same = (old_proba >= threshold) == (new_proba >= threshold)",
        "same = (old_proba > threshold) == (new_proba > threshold)", "test_shadow_report"),
    "canary ships on the point estimate": (
        "canary_rollout", 'return ("ship", last) if d + z * se <= margin else ("rollback", last)',
        'return ("ship", last) if d <= margin else ("rollback", last)', "test_canary_rollout"),
    "drifted bins with side='left'": (
        "drifted_mask", 'val_bin = np.searchsorted(edges, values, side="right")',
        'val_bin = np.searchsorted(edges, values, side="left")', "test_drifted_mask"),
    "metric plotted against positions, not hours": (
        "plots", "return plot_curves({name: (series.index, series.values)",
        "return plot_curves({name: (np.arange(len(series)), series.values)", "test_plot_metric"),
    "ship the candidate with more data, not the more accurate one": (
        "ship_choice", 'SHIP = "new crops only"', 'SHIP = "new + old crops"', "test_ship_choice"),
}

WRONG_B = {
    "PSI without the eps floor": (
        "psi", "    ref_share = np.maximum(ref_share, eps)\n    cur_share = np.maximum(cur_share, eps)\n", "",
        ("test_psi", "test_psi_empty_bins")),
    "KS with the left-continuous CDF of one sample": (
        "ks", 'cdf_a = np.searchsorted(a, pooled, side="right") / len(a)',
        'cdf_a = np.searchsorted(a, pooled, side="left") / len(a)', "test_ks_statistic"),
    "chi-square goodness of fit against the reference shares": (
        "chi_square",
        "expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()\n"
        "    statistic = float(np.sum((table - expected) ** 2 / expected))",
        "expected = table[0] / table[0].sum() * table[1].sum()\n"
        "    keep = expected > 0\n"
        "    statistic = float(np.sum((table[1][keep] - expected[keep]) ** 2 / expected[keep]))",
        "test_chi_square"),
    "Jensen-Shannon divergence instead of distance": (
        "js", "return float(np.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2)))",
        "return float(max(0.0, (kl(p, m) + kl(q, m)) / 2))", "test_js_distance"),
    "windows in order of appearance": (
        "drift_scores", "ids = np.unique(windows)", "ids = pd.unique(windows)", "test_drift_scores"),
    "threshold at the target_rate quantile": (
        "calibrate_threshold", "return float(np.quantile(null, 1 - target_rate))",
        "return float(np.quantile(null, target_rate))",
        # the monitor calibrates with it, so it cries wolf too
        ("test_calibrate_threshold", "test_run_monitor", "test_monitor_false_alarms")),
    "a page that watches brightness only": (
        "monitor_settings", '"columns": ["brightness", "contrast"]', '"columns": ["brightness"]',
        "test_monitor_detects"),
    "partial windows counted as false nudges": (
        "label_metrics", "nudges = float(np.sum(w * ((label >= 0) & fired)))", "nudges = float(np.sum(w * fired))",
        ("test_label_metrics", "test_label_metrics_ipw")),
    "gate on the overall accuracy only": (
        "regression_gate", "failing = sorted(name for name in old.index if old[name] - new[name] > tolerance)",
        "failing = [name for name in ['all'] if old[name] - new[name] > tolerance]", "test_regression_gate"),
    "uncertainty around 0.5 whatever the threshold": (
        "choose_uncertain", "np.abs(proba - threshold)", "np.abs(proba - 0.5)", "test_choose_uncertain"),
    "drift plot marks every window": (
        "plots", "ax.scatter(scores.index[alerts], scores.values[alerts],", "ax.scatter(scores.index, scores.values,",
        "test_plot_drift"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("a06"), wrong_a=H.with_mistakes(perfect, WRONG_A),
                            wrong_b=H.with_mistakes(perfect, WRONG_B), honest_globals=HG.for_assignment(A),
                            memory_mistake=H.with_memory_mistake(perfect))


def test_honest_globals_named_like_test_names_keep_full_marks(graded):
    """Issue 19: a test's temporaries and the grader's aliases never reach the student's globals."""
    HG.check_full_marks(graded["honest_globals"])


# ---------------------------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_perfect_gets_full_marks(graded):
    H.check_perfect(graded["perfect"], min_parts=20)


@pytest.mark.slow
def test_blank_gets_zero(graded):
    H.check_blank(graded["blank"], all_not_attempted=False)


@pytest.mark.slow
def test_partial_is_in_between(graded):
    H.check_partial(graded["partial"])


@pytest.mark.slow
def test_memory_mistake_costs_no_other_part(graded):
    H.check_memory_mistake(graded["memory_mistake"])


# ---------------------------------------------------------------------------------------------
# wrong but plausible
# ---------------------------------------------------------------------------------------------
CASES = H.wrong_answer_cases(wrong_a=WRONG_A, wrong_b=WRONG_B)


@pytest.mark.slow
@pytest.mark.parametrize("variant,name,part", CASES, ids=[c[1] for c in CASES])
def test_wrong_answer_loses_its_part(graded, variant, name, part):
    outcome = H.outcomes(graded[variant])[part]
    assert outcome == "failed", f"{name!r} should fail {part}, got {outcome}"


@pytest.mark.slow
@pytest.mark.parametrize("variant,wrong", [("wrong_a", WRONG_A), ("wrong_b", WRONG_B)])
def test_wrong_answers_cost_nothing_else(graded, variant, wrong):
    expected = {part for spec in wrong.values() for part in H.parts_of(spec)}
    H.check_lost_exactly(graded[variant], must=expected)


def test_every_graded_part_has_a_wrong_answer():
    """Issue 20: every autograded part of 06 is the first target of some wrong-but-plausible answer."""
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    parts = {C.grade_id(cell) for cell in source.cells if C.is_test(cell)}
    caught = {part for wrong in (WRONG_A, WRONG_B) for spec in wrong.values() for part in H.parts_of(spec)}
    assert parts - caught == set(), f"graded parts without a wrong answer: {sorted(parts - caught)}"


def test_decision_parts_are_a_fifth_of_the_points():
    """Issue 15: the memo and the tagged decisions hold at least a fifth of the points."""
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    points = {C.grade_id(c): float(c.metadata["nbgrader"]["points"]) for c in source.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    judged = sum(points[C.grade_id(c)] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")
                 and (c.cell_type == "markdown" or "decision" in c.metadata.get("tags", [])))
    assert judged / sum(points.values()) >= 0.2, (judged, sum(points.values()))


# ---------------------------------------------------------------------------------------------
# release and examples are what the source makes
# ---------------------------------------------------------------------------------------------


def test_every_answer_cell_has_a_test_after_it():
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    pending = []
    for cell in source.cells:
        if C.is_solution(cell) and cell.cell_type == "code":
            pending.append(C.grade_id(cell))
        elif C.is_test(cell):
            pending = []
    assert not pending, f"answer cells with no test after them: {pending}"
