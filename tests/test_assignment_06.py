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
# wrong-but-plausible answers
# name -> (answer cell, text of the reference answer or None for the whole cell, replacement,
#          the test cells that must fail: the one meant to catch it first)
# ---------------------------------------------------------------------------------------------
PEEKING_RETRAIN_OLD = """        known = stream.labels_known(t)
        if train_windows is None:
            X = np.vstack([stream.train_X, known.X])
            y = np.concatenate([stream.train_y, known.y])
        else:
            recent = known.window > t - train_windows
            X, y = known.X[recent], known.y[recent]"""
PEEKING_RETRAIN_NEW = """        seen = stream.log[stream.log["window"] <= t]  # every face seen so far, with its label
        seen_X = np.vstack([stream.features(w) for w in range(t + 1)])
        if train_windows is None:
            X = np.vstack([stream.train_X, seen_X])
            y = np.concatenate([stream.train_y, seen["label"].to_numpy()])
        else:
            recent = seen["window"].to_numpy() > t - train_windows
            X, y = seen_X[recent], seen["label"].to_numpy()[recent]"""

OVER_BUDGET = '''def my_policy(stream, make_model, budget):
    """Retrain every two windows: more is better, isn't it?"""
    return run_policy(stream, make_model, retrain_every=2)'''

WRONG_A = {
    "PSI with bins from the current window": (
        "psi", "edges = np.unique(np.quantile(reference, q))", "edges = np.unique(np.quantile(current, q))",
        ("test_psi", "test_psi_empty_bins")),
    "alert on a single window": (
        "monitor_settings", 'MONITOR = {"target_rate": 0.05, "k": 2}', 'MONITOR = {"target_rate": 0.05, "k": 1}',
        "test_monitor_false_alarms"),
    "known accuracy uses labels that have not arrived": (
        "known_accuracy", 'labelled = seen[seen["arrival"] <= now]', "labelled = seen", "test_known_accuracy"),
    "retraining on the labels of the window just predicted": (
        "run_policy", PEEKING_RETRAIN_OLD, PEEKING_RETRAIN_NEW, ("test_run_policy", "test_no_peeking")),
    "a policy that peeks at future labels": (
        "my_policy", "            known = stream.labels_known(t)\n",
        "            known = stream.labels_known(min(t + 4, stream.n_windows - 1))\n", "test_my_policy"),
    "canary ships on the point estimate": (
        "canary_rollout", 'return ("ship", last) if d + z * se <= margin else ("rollback", last)',
        'return ("ship", last) if d <= margin else ("rollback", last)', "test_canary_rollout"),
    "label the most uncertain faces only": (
        "choose_to_label", '    proba = pool["proba"].to_numpy(dtype=float)\n',
        '    return choose_uncertain(pool["proba"], budget)\n', "test_choose_to_label"),
}

WRONG_B = {
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
        "window_scores", "ids = np.unique(windows)", "ids = pd.unique(windows)", "test_window_scores"),
    "threshold at the target_rate quantile": (
        "calibrate_threshold", "return float(np.quantile(null, 1 - target_rate))",
        "return float(np.quantile(null, target_rate))",
        # the monitor calibrates with it, so it cries wolf too
        ("test_calibrate_threshold", "test_monitor_false_alarms")),
    "proxy label rate from labels that have not arrived": (
        "proxy_table", 'out["label_rate"] = labelled.groupby', 'out["label_rate"] = seen.groupby', "test_proxy_table"),
    "a policy that ignores its retraining budget": ("my_policy", None, OVER_BUDGET, "test_my_policy"),
    "gate on the overall accuracy only": (
        "regression_gate", "failing = sorted(name for name in old.index if old[name] - new[name] > tolerance)",
        "failing = [name for name in ['all'] if old[name] - new[name] > tolerance]", "test_regression_gate"),
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
    H.check_perfect(graded["perfect"], min_parts=15)


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


@pytest.mark.slow
def test_peeking_is_named_in_the_feedback(graded):
    """The strict replay explains itself: the student learns *why* the policy lost its points."""
    parts = {p.grade_id: p for p in graded["wrong_a"].parts}
    assert "arrive" in parts["test_my_policy"].message or "future" in parts["test_my_policy"].message, \
        parts["test_my_policy"].message
    assert "label" in parts["test_no_peeking"].message, parts["test_no_peeking"].message


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
