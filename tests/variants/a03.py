"""Wrong-but-plausible answers of 03-metrics-and-baselines (issue 20), as data.

tests/test_assignment_03.py grades them; benchmarks/visible_catch.py runs them through the visible
tests only (what a student sees before submitting). Both build the wrong notebooks with `build`.
"""
from __future__ import annotations

from tests import helpers as H

ASSIGNMENT = "03-metrics-and-baselines"

ROC_AUC_WRAPPER = '''def roc_auc(y_true, scores):
    """ROC-AUC (ties count one half), as a float."""
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(y_true, scores))
'''

# (answer cell, text in the reference answer, wrong replacement, part(s) that must catch it)
WRONG_A = {
    "auc_without_tie_handling": (
        "roc_auc", "ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)",
        "ranks[order] = np.arange(1, s.size + 1)", "test_roc_auc"),
    "ece_with_unweighted_bins": (
        "reliability", 'return float((filled["count"] * gaps).sum() / filled["count"].sum())',
        "return float(gaps.mean())", "test_ece"),
    "threshold_chosen_on_test_set": (
        "choose_threshold", "CHOSEN_THRESHOLD = threshold_for_precision(y_valid, p_valid, FLOOR, weights=W_VALID)",
        "CHOSEN_THRESHOLD = threshold_for_precision(y_test, p_test, FLOOR,\n"
        "                                          weights=prevalence_weights(y_test, SPEC.frown_prevalence))",
        "test_threshold_on_validation"),
    "bootstrap_90_percent_interval": (
        "bootstrap", "[(1 - level) / 2, (1 + level) / 2]", "[1 - level, level]", "test_bootstrap_ci"),
    "mft_checks_only_frowns": (
        "minimum_functionality",
        "return bool(np.mean(frowns > 0.5) >= 0.9 and np.mean(smiles < 0.5) >= 0.9)",
        "return bool(np.mean(frowns > 0.5) >= 0.9)", "test_minimum_functionality_test"),
    "guardrail_lets_nan_through": (
        "choose_model", "ok &= values <= bound", "ok &= ~(values > bound)", "test_choose_model"),
}
WRONG_B = {
    "ap_as_trapezoid": (
        "average_precision", "return float(np.sum(np.diff(np.r_[0.0, recall_k]) * precision_k))",
        "return float(np.trapezoid(np.r_[1.0, precision_k], np.r_[0.0, recall_k]))", "test_average_precision"),
    "cost_threshold_never_considers_inf": (
        "threshold_cost", 'return float(ss[last[k]]) if costs[k] < never else float("inf")',
        "return float(ss[last[k]])", "test_threshold_cost"),
    "isotonic_without_clipping": (
        "recalibration", 'iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")',
        "iso = IsotonicRegression(y_min=0.0, y_max=1.0)", "test_recalibration"),
    "slices_ignore_min_positives": (
        "slices", "recalls = recalls[[counts.get(value, 0) >= min_positives for value in recalls.index]]",
        "pass", "test_slices"),
    "ztest_unpooled_standard_error": (
        "ab_test", "se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))",
        "se = math.sqrt(successes_a / n_a * (1 - successes_a / n_a) / n_a"
        " + successes_b / n_b * (1 - successes_b / n_b) / n_b)", "test_ztest"),
    "sample_size_one_sided_alpha": (
        "ab_test", "top = (norm.ppf(1 - alpha / 2)", "top = (norm.ppf(1 - alpha)", "test_sample_size_mde"),
    "prevalence_weights_upside_down": (
        "prevalence_weights", "np.where(y == 1, prevalence / observed, (1 - prevalence) / (1 - observed))",
        "np.where(y == 1, observed / prevalence, (1 - observed) / (1 - prevalence))",
        # the threshold of Task 5d is chosen with these weights: it is wrong too
        ("test_prevalence_weights", "test_threshold_on_validation")),
    "hierarchy_with_a_guardrail_not_from_the_spec": (
        "hierarchy", '"worst_tone_recall": (">=", SPEC.worst_tone_recall)', '"worst_tone_recall": (">=", 0.5)',
        "test_hierarchy"),
    "peeking_tests_only_at_the_end": (
        "aa_test", "return float(np.mean((z_test_pvalues(x_a, x_b, seen) < alpha).any(axis=1)))",
        "return float(np.mean(z_test_pvalues(x_a[:, -1], x_b[:, -1], seen[-1]) < alpha))",
        "test_aa_and_peeking"),
    "invariance_tolerance_too_loose": (
        "invariance", "<= 0.1) < 0.98", "<= 0.5) < 0.5", "test_invariance_test"),
}

# The commonest wrong answer of every other part (issue 20), written from the task text.
WRONG_C = {
    "confusion_counts_as_floats": (
        "confusion", "counts = np.zeros((2, 2), dtype=np.int64)", "counts = np.zeros((2, 2))",
        "test_confusion_matrix"),
    "precision_nan_on_zero_division": (
        "precision_recall", "return float(tp / (tp + fp)) if tp + fp > 0 else 0.0", "return float(tp / (tp + fp))",
        "test_precision_recall"),
    "f_beta_without_squaring_beta": ("f_beta", "b2 = beta ** 2", "b2 = beta", "test_f_beta"),
    "roc_auc_wraps_sklearn": (
        "roc_auc", None, ROC_AUC_WRAPPER, "test_roc_auc"),
    "roc_curve_one_point_per_face": (
        "roc_curve", "last = np.r_[np.flatnonzero(np.diff(ss)), ss.size - 1]  # last position of each group of equal scores",
        "last = np.arange(ss.size)", "test_roc_curve"),
    "majority_tie_goes_to_frown": (
        "metrics_that_lie", "majority = 1 if y.sum() * 2 > y.size else 0", "majority = 1 if y.sum() * 2 >= y.size else 0",
        "test_metrics_that_lie"),
    "coin_precision_is_the_coin": (
        "random_baselines", "p = tp / (tp + fp) if tp + fp > 0 else 0.0", "p = q", "test_random_baselines"),
    "heuristic_reads_the_mouth_upside_down": (
        "heuristic", "return middle_up_darker + corners_down_darker", "return -(middle_up_darker + corners_down_darker)",
        "test_heuristic_baseline"),
    "precision_floor_with_ties_split": (
        "threshold_precision", "last = np.r_[np.flatnonzero(np.diff(ss)), ss.size - 1]   # the last face of each group of tied scores",
        "last = np.arange(ss.size)", "test_threshold_for_precision"),
    "threshold_chosen_at_the_validation_prevalence": (
        "choose_threshold", "CHOSEN_THRESHOLD = threshold_for_precision(y_valid, p_valid, FLOOR, weights=W_VALID)",
        "CHOSEN_THRESHOLD = threshold_for_precision(y_valid, p_valid, FLOOR)", "test_threshold_on_validation"),
    "reliability_bins_by_floor": (
        "reliability", 'bins = np.searchsorted(edges[1:-1], p, side="right")', "bins = np.floor(p * n_bins).astype(int)",
        ("test_reliability_table", "test_ece")),
    "prior_shifted_on_the_probability": (
        "prior_shift", "return p * ratio / (p * ratio + (1 - p))", "return p * (to_prevalence / from_prevalence)",
        "test_prior_shift"),
    "nudge_partial_windows_counted_as_calm": (
        "nudges", 'label = np.where(windows["frown"] >= 0.5, 1, np.where(windows["frown"] == 0.0, 0, -1))',
        'label = np.where(windows["frown"] >= 0.5, 1, 0)', "test_nudge_precision_recall"),
    "mcnemar_without_continuity_correction": (
        "mcnemar", "statistic = (abs(b - c) - 1) ** 2 / (b + c)", "statistic = (b - c) ** 2 / (b + c)", "test_mcnemar"),
    "peeking_tests_each_batch_alone": (
        "aa_test",
        "    x_a = np.cumsum(rng.binomial(batch, p, size=(n_experiments, n_looks)), axis=1)\n"
        "    x_b = np.cumsum(rng.binomial(batch, p, size=(n_experiments, n_looks)), axis=1)\n"
        "    seen = batch * np.arange(1, n_looks + 1)",
        "    x_a = rng.binomial(batch, p, size=(n_experiments, n_looks))\n"
        "    x_b = rng.binomial(batch, p, size=(n_experiments, n_looks))\n"
        "    seen = batch",
        "test_aa_and_peeking"),
    "invariance_on_the_mean_change": (
        "invariance", "if np.mean(np.abs(after - before) <= 0.1) < 0.98:", "if abs(np.mean(after - before)) > 0.1:",
        "test_invariance_test"),
    "directional_on_the_mean": (
        "directional", "return bool(np.mean(after > before) >= 0.9 and np.mean(after - before) > 0)",
        "return bool(np.mean(after - before) > 0)", "test_directional_test"),
}

VARIANTS = {"wrong_a": WRONG_A, "wrong_b": WRONG_B, "wrong_c": WRONG_C}


def build(perfect, variant: str):
    """The wrong notebook `variant`: the perfect example with that variant's mistakes put in."""
    return H.with_mistakes(perfect, VARIANTS[variant])


def parts(spec) -> tuple[tuple[str, ...], frozenset[str]]:
    """(parts the mistake must fail, parts that may fail too)."""
    return H.parts_of(spec), frozenset()
