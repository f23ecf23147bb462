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
RANDOM_IN_THE_DRIFTED_REGION = '''def choose_to_label(pool, budget, threshold):
    """Random crops where the inputs moved: that is where the model is on unfamiliar ground."""
    moved = np.flatnonzero(drifted_mask(reference["light"], pool["light"]) | drifted_mask(reference["noise"], pool["noise"]))
    rng = np.random.default_rng(0)
    return rng.choice(moved, min(budget, len(moved)), replace=False).astype(np.int64)'''

DASHBOARD_FROM_FINAL_LABELS = '''def estimate_at(traffic, now, hours):
    """The weighted metric of the hours asked for, from every window that gets a label."""
    labelled = traffic[traffic["hour"].isin(list(hours)) & (traffic["feedback"] | traffic["donor"])]
    metrics = label_metrics(labelled, weighted=True)
    return {"precision": metrics["precision"], "recall": metrics["recall"], "labels": int(len(labelled))}'''

WRONG_A = {
    "PSI with bins from the current window": (
        "psi", "edges = np.unique(np.quantile(reference, q))", "edges = np.unique(np.quantile(current, q))",
        ("test_psi", "test_psi_empty_bins")),
    "a score equal to the threshold extends the run": (
        "alert_rule", "run = run + 1 if score > threshold else 0", "run = run + 1 if score >= threshold else 0",
        "test_alert_rule"),
    "null windows drawn from the reference instead of the holdout": (
        "calibrate_threshold",
        'calls = np.unique(holdout["call"])\n    values = {call: group.to_numpy() for call, group in holdout.groupby("call")[column]}',
        'calls = np.unique(reference["call"])\n    values = {call: group.to_numpy() for call, group in reference.groupby("call")[column]}',
        "test_calibrate_threshold"),
    "the monitor ignores its stat argument": (
        "run_monitor", 'scores = drift_scores(reference[column], current[column], current["hour"], stat=stat)',
        'scores = drift_scores(reference[column], current[column], current["hour"])', "test_run_monitor"),
    "page on every window above a 5% threshold": (
        "monitor_settings", '"target_rate": 0.02, "k": 2}', '"target_rate": 0.05, "k": 1}', "test_monitor_false_alarms"),
    "weights equal to the propensity": (
        "label_metrics", 'w = 1.0 / labelled["propensity"]', 'w = labelled["propensity"]', "test_label_metrics_ipw"),
    "the dashboard counts labels before they arrive (train-then-test leak)": (
        "estimate_at", None, DASHBOARD_FROM_FINAL_LABELS, "test_estimate_at"),
    "slices in order of appearance": (
        "slice_accuracy", "for name in sorted(set(slices))}", "for name in pd.unique(slices)}", "test_slice_accuracy"),
    "a drop of exactly the tolerance blocks the gate": (
        "regression_gate", "old[name] - new[name] > tolerance + 1e-9", "old[name] - new[name] > tolerance",
        "test_regression_gate"),
    "ship the most accurate candidate that passes, however small its gain": (
        "ship_choice", 'SHIP = "shipped"', 'SHIP = "new + old crops"', "test_ship_choice"),
    "shadow decisions with > threshold": (
        "shadow_report", "same = (old_proba >= threshold) == (new_proba >= threshold)",
        "same = (old_proba > threshold) == (new_proba > threshold)", "test_shadow_report"),
    "canary ships on the point estimate": (
        "canary_rollout", 'return ("ship", last) if d + z * se <= margin else ("rollback", last)',
        'return ("ship", last) if d <= margin else ("rollback", last)', "test_canary_rollout"),
    "drifted bins with side='left'": (
        "drifted_mask", 'val_bin = np.searchsorted(edges, values, side="right")',
        'val_bin = np.searchsorted(edges, values, side="left")', "test_drifted_mask"),
    "random labels inside the drifted region": (
        "choose_to_label", None, RANDOM_IN_THE_DRIFTED_REGION, "test_choose_to_label"),
    "metric plotted against positions, not hours": (
        "plots", "return plot_curves({name: (series.index, series.values)",
        "return plot_curves({name: (np.arange(len(series)), series.values)", "test_plot_metric"),
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
    "null windows of frames drawn one by one": (
        "calibrate_threshold",
        "        drawn = rng.choice(calls, calls_per_window, replace=True)\n"
        "        null.append(stat(ref, np.concatenate([values[call] for call in drawn])))",
        "        size = calls_per_window * int(holdout.groupby(\"call\").size().median())\n"
        "        null.append(stat(ref, rng.choice(holdout[column].to_numpy(), size, replace=True)))",
        # the student's own monitor then cries wolf on the replay's quiet hours
        ("test_calibrate_threshold", "test_monitor_false_alarms")),
    "a page that watches brightness and contrast": (
        "monitor_settings", '"columns": ["light", "noise"]', '"columns": ["brightness", "contrast"]',
        "test_monitor_detects"),
    "labels known before they arrive": (
        "known_labels", 'return traffic[traffic["arrival"] <= now]',
        'return traffic[traffic["feedback"] | traffic["donor"]]',
        # the dashboard of 3.3 builds on known_labels, so it leaks too
        ("test_known_labels", "test_estimate_at")),
    "partial windows counted as false nudges": (
        "label_metrics", "nudges = float(np.sum(w * ((label >= 0) & fired)))", "nudges = float(np.sum(w * fired))",
        ("test_label_metrics", "test_label_metrics_ipw")),
    "gate on the overall accuracy only": (
        "regression_gate", "failing = sorted(name for name in old.index if old[name] - new[name] > tolerance + 1e-9)",
        "failing = [name for name in [\'all\'] if old[name] - new[name] > tolerance + 1e-9]", "test_regression_gate"),
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
