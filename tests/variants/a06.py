"""Wrong-but-plausible answers of 06-monitoring-and-iteration (issue 20), as data.

tests/test_assignment_06.py grades them; benchmarks/visible_catch.py runs them through the visible
tests only (what a student sees before submitting). Both build the wrong notebooks with `build`.
"""
from __future__ import annotations

from tests import helpers as H

ASSIGNMENT = "06-monitoring-and-iteration"

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

VARIANTS = {"wrong_a": WRONG_A, "wrong_b": WRONG_B}


def build(perfect, variant: str):
    """The wrong notebook `variant`: the perfect example with that variant's mistakes put in."""
    return H.with_mistakes(perfect, VARIANTS[variant])


def parts(spec) -> tuple[tuple[str, ...], frozenset[str]]:
    """(parts the mistake must fail, parts that may fail too)."""
    return H.parts_of(spec), frozenset()
