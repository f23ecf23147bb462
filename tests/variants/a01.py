"""Wrong-but-plausible answers of 01-problem-framing (issue 20), as data.

tests/test_assignment_01.py grades them; benchmarks/visible_catch.py runs them through the visible
tests only (what a student sees before submitting). Both build the wrong notebooks with `build`.
"""
from __future__ import annotations

from tests import helpers as H

ASSIGNMENT = "01-problem-framing"

# name: (answer cell, text in the reference answer, wrong replacement, parts that must catch it)
# Each is the commonest wrong-but-plausible answer of its part, written from the task text.
CLASSIFIER_INSIDE_THE_HEURISTIC = '''def frown_score(images):
    """Larger for faces that look more like a frown; a float array of shape (n,)."""
    images = np.asarray(images, dtype=float)
    return images[:, 17:21, 13:19].mean(axis=(1, 2)) - images[:, 22:26, 13:19].mean(axis=(1, 2))


def predict_frown(images):
    """1 = frown, 0 = smile; an int array of shape (n,)."""
    from sklearn.linear_model import LogisticRegression
    X = faces.images.reshape(len(faces.images), -1)
    clf = LogisticRegression(C=0.1, max_iter=2000).fit(X, faces.labels)
    return clf.predict(np.asarray(images, dtype=float).reshape(len(images), -1)).astype(int)
'''
WRONG_A = {
    "F5_tags_as_one_class": (
        "task_types_frown", '"F5": "multilabel_classification"', '"F5": "multiclass_classification"',
        ("test_task_types_frown",)),
    "B2_reported_fraud_as_anomalies": (
        "task_types_business", '"B2": "binary_classification"', '"B2": "anomaly_detection"',
        ("test_task_types_business",)),
    "peak_qps_hard_codes_the_visible_example": (
        "peak_qps", "return float(daily_users * requests_per_user / 86_400 * peak_to_mean)", "return 20.0",
        ("test_peak_qps",)),
    "budget_goes_negative": (
        "model_budget", "sequential = max(0.0, interval - float(np.sum(np.asarray(other_stages_ms, dtype=float))))",
        "sequential = interval - float(np.sum(np.asarray(other_stages_ms, dtype=float)))", ("test_model_budget",)),
    "servers_rounded_to_nearest": (
        "servers_needed", "int(math.ceil(peak_qps / (qps_per_server * target_utilisation)))",
        "int(round(peak_qps / (qps_per_server * target_utilisation)))", ("test_servers_needed",)),
    "threshold_ties_to_the_smallest": (
        "best_threshold", "k = np.flatnonzero(costs <= costs.min())[-1]", "k = int(np.argmin(costs))",
        ("test_best_threshold",)),
    "costs_decide_the_operating_point": (
        "operating_decision", 'PRIMARY_METRIC = "recall_at_precision"\nadmissible = OPERATING_POINTS[OPERATING_POINTS["precision"] >= SCENARIO.min_precision]\nOPERATING_THRESHOLD = float(admissible["expected_cost"].idxmin())\nWHY = {"a", "c", "d"}',
        'PRIMARY_METRIC = "expected_cost"\nOPERATING_THRESHOLD = float(OPERATING_POINTS["expected_cost"].idxmin())\nWHY = {"b", "e"}',
        ("test_operating_decision",)),
    "spec_runs_on_a_device_that_cannot_keep_up": (
        "spec", 'deployment="server" if S.device_pipeline_ms > interval else "edge"', 'deployment="edge"',
        ("test_spec_product",)),
    "spec_model_size_without_a_real_cap": (
        "spec", '"model_mb": S.device_model_mb', '"model_mb": 1e9', ("test_spec_metrics",)),
    "majority_taken_from_the_test_labels": (
        "majority", "np.bincount(y_train, minlength=2)", "np.bincount(y_test, minlength=2)",
        ("test_majority_baseline",)),
    "classifier_trained_inside_predict_frown": (
        "heuristic", None, CLASSIFIER_INSIDE_THE_HEURISTIC, ("test_heuristic_realistic",)),
    "server_latency_without_round_trip": (
        "latency", "return float(upload_ms + rtt_ms + server_ms)", "return float(upload_ms + server_ms)",
        ("test_latency",)),
    "server_chosen_despite_privacy": (
        "choose_deployment", "bool(faces_may_leave_device) and ", "", ("test_choose_deployment",)),
}
WRONG_B = {
    "F2_boxes_as_a_yes_no": (
        "task_types_frown", '"F2": "object_detection"', '"F2": "binary_classification"',
        ("test_task_types_frown_outputs",)),
    "B5_unlabelled_anomalies_as_clusters": (
        "task_types_business", '"B5": "anomaly_detection"', '"B5": "clustering"',
        ("test_task_types_business_unlabelled",)),
    "budget_ignores_the_faces_per_frame": (
        "model_budget", "return float(min(sequential, overlapped))", "return float(sequential)",
        ("test_model_budget",)),
    "memory_in_mebibytes": (
        "model_memory", "return float(values * bytes_per_param / 1e6)",
        "return float(values * bytes_per_param / 2**20)", ("test_model_memory",)),
    "storage_forgets_replicas": (
        "storage", "* bytes_per_record * replicas * 365", "* bytes_per_record * 365", ("test_storage",)),
    "cost_summed_not_averaged": (
        "expected_cost", "return float((c_fp * fp + c_fn * fn) / y_true.size)",
        "return float(c_fp * fp + c_fn * fn)", ("test_expected_cost",)),
    "bayes_threshold_upside_down": (
        "bayes_threshold", "return float(c_fp / (c_fp + c_fn))", "return float(c_fn / (c_fp + c_fn))",
        ("test_bayes_threshold",)),
    "spec_latency_budget_far_too_tight": (
        "spec", "latency_budget_ms=budget,", "latency_budget_ms=0.001,", ("test_spec_product",)),
    "spec_optimises_accuracy": (
        "spec", 'primary_metric="recall_at_precision"', 'primary_metric="accuracy"', ("test_spec_metrics",)),
    "heuristic_reads_the_mouth_upside_down": (
        "heuristic", "return corners - centre", "return centre - corners",
        ("test_heuristic_clean", "test_heuristic_realistic")),
    "bandwidth_in_bytes_not_bits": (
        "bandwidth", "return float(fps * frame_bytes * 8 / 1e6)", "return float(fps * frame_bytes / 1e6)",
        ("test_stream_mbps",)),
    "edge_counts_every_participant_as_a_donor": (
        "face_bytes", "daily_users * opt_in_rate * donated_per_user * crop_bytes",
        "daily_users * donated_per_user * crop_bytes", ("test_face_bytes",)),
}
WRONG_C = {
    "a_safe_threshold_far_above_the_floor": (
        "operating_decision", 'OPERATING_THRESHOLD = float(admissible["expected_cost"].idxmin())',
        "OPERATING_THRESHOLD = 0.9", ("test_operating_decision",)),
    "spec_worst_tone_recall_any_detector_meets": (
        "spec", '"worst_tone_recall": 0.8', '"worst_tone_recall": 0.01', ("test_spec_metrics",)),
    "spec_keeps_every_face": (
        "spec", 'stores_raw_faces="opt_in_sample"', 'stores_raw_faces="all"', ("test_spec_product",)),
    "edge_must_finish_strictly_within_the_interval": (
        "choose_deployment", "edge_ms <= 1000 / fps", "edge_ms < 1000 / fps", ("test_choose_deployment",)),
}

VARIANTS = {"wrong_a": WRONG_A, "wrong_b": WRONG_B, "wrong_c": WRONG_C}


def build(perfect, variant: str):
    """The wrong notebook `variant`: the perfect example with that variant's mistakes put in."""
    return H.with_mistakes(perfect, VARIANTS[variant])


def parts(spec) -> tuple[tuple[str, ...], frozenset[str]]:
    """(parts the mistake must fail, parts that may fail too)."""
    return H.parts_of(spec), frozenset()
