"""Wrong-but-plausible answers of 02-data-and-labeling (issue 20), as data.

tests/test_assignment_02.py grades them; benchmarks/visible_catch.py runs them through the visible
tests only (what a student sees before submitting). Both build the wrong notebooks with `build`.
"""
from __future__ import annotations

from tests import helpers as H

ASSIGNMENT = "02-data-and-labeling"

# ---------------------------------------------------------------------------------------------
# wrong-but-plausible answers, one for every graded part, each written from the task text as a
# student would: name -> (answer cell, text of the reference answer or None for the whole cell,
# replacement, the test cells that must fail: the one meant to catch it first). The mistakes of one
# variant touch answers no other mistake of that variant builds on, so each costs its own part only.
# ---------------------------------------------------------------------------------------------
FIRST_K = '''def reservoir_sample(stream, k, seed=0):
    """Keeps the first k items: not a uniform sample of the stream."""
    return list(itertools.islice(stream, k))'''

LIST_THEN_SAMPLE = '''def reservoir_sample(stream, k, seed=0):
    """Uniform, but the whole stream is held in memory first."""
    items = list(stream)
    return random.Random(seed).sample(items, min(k, len(items)))'''

ACTIVE_LEARNING_ALWAYS = 'STRATEGY_FOR_BUDGET = {SMALL_BUDGET: "entropy", LARGE_BUDGET: "entropy"}  # it saves labels'

AGREEMENT_WITH_THE_CROWD = '''mv = np.asarray(majority_vote(hard_crowd.labels))[:N_GOLD]
ds = np.asarray(dawid_skene(hard_crowd.labels)).argmax(axis=1)[:N_GOLD]
gold_accuracy = {"majority_vote": float((mv == mv).mean()), "dawid_skene": float((ds == mv).mean())}
AGGREGATION = max(gold_accuracy, key=gold_accuracy.get)'''

THREE_KEYWORDS = '''def lf_billing(text):
    return 0 if "refund" in text else ABSTAIN


def lf_technical(text):
    return 1 if "crash" in text else ABSTAIN


def lf_account(text):
    return 2 if "password" in text else ABSTAIN


MY_LFS = [lf_billing, lf_technical, lf_account]'''

WRONG_A = {
    "reservoir keeps the first k": ("reservoir", None, FIRST_K, ("test_reservoir_uniform", "test_reservoir_basic")),
    "stratified rounds each class on its own": (
        "stratified", "leftover = n - int(take.sum())", "take = np.round(quotas).astype(int)\n    leftover = 0",
        "test_stratified"),
    "group split rounds the number of test groups down": (
        "group_split", "n_test = int(round(test_size * len(groups)))", "n_test = int(test_size * len(groups))",
        "test_group_split"),
    "compare_splits: the time split without its gap": (
        "compare_splits", '"time": time_split(meta, cutoff, gap=GAP_S),', '"time": time_split(meta, cutoff),',
        "test_compare_splits"),
    "kappa without chance correction": (
        "cohen", "return float(1.0 - (w * observed).sum() / (w * expected).sum())",
        "return float(1.0 - (w * observed).sum())", ("test_cohen_kappa", "test_cohen_weighted")),
    "majority vote gives class 0 to an item nobody labelled": (
        "majority", "return np.where(votes.sum(axis=1) > 0, winner, MISSING).astype(np.int64)",
        "return winner.astype(np.int64)", "test_majority_vote"),
    "Dawid-Skene normalises the confusion matrices over the true class": (
        "dawid_skene", "confusion /= confusion.sum(axis=2, keepdims=True)",
        "confusion /= confusion.sum(axis=1, keepdims=True)", "test_dawid_skene"),
    "labelling-function conflict counts abstentions as disagreement": (
        "lf_summary", "disagree = voted & (L != L[:, [j]])", "disagree = L != L[:, [j]]", "test_lf_summary"),
    "out-of-fold folds drawn row by row (KFold, groups ignored)": (
        "oof", "for train, held_out in GroupKFold(n_splits=n_splits).split(X, y, groups):",
        "from sklearn.model_selection import KFold\n"
        "    for train, held_out in KFold(n_splits=n_splits, shuffle=True, random_state=0).split(X):",
        "test_oof_proba"),
    "over-sampling redraws every class instead of adding copies": (
        "resample", "rows = [np.arange(len(y))]\n    for c, count in zip(classes, counts):\n"
        "        rows.append(rng.choice(np.flatnonzero(y == c), size=counts.max() - count, replace=True))",
        "rows = []\n    for c, count in zip(classes, counts):\n"
        "        rows.append(rng.choice(np.flatnonzero(y == c), size=counts.max(), replace=True))",
        "test_resampling"),
    "a vertical flip turns a frown into a smile": (
        "augment_use", '"flip_vertical": "drop",', '"flip_vertical": "flip_label",', "test_augment_use"),
    "entropy in bits": (
        "uncertainty", "return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)",
        "return -(p * np.log2(np.where(p > 0, p, 1.0))).sum(axis=1)", "test_uncertainty"),
    "active learning for every budget": ("label_strategy", None, ACTIVE_LEARNING_ALWAYS, "test_label_strategy"),
}

WRONG_B = {
    "reservoir holds the whole stream in memory": ("reservoir", None, LIST_THEN_SAMPLE, "test_reservoir_basic"),
    "time split leaves the row at the cutoff out of test": (
        "time_split", "return df[when < cutoff - gap], df[when >= cutoff]",
        "return df[when < cutoff - gap], df[when > cutoff]", "test_time_split"),
    "leakage: any train row after the first test row overlaps": (
        "find_leakage", "start = max(train[time_col].min(), test[time_col].min())\n"
        "        end = min(train[time_col].max(), test[time_col].max())",
        "start, end = test[time_col].min(), train[time_col].max()", "test_find_leakage"),
    "the time split is trusted for validation": (
        "split_choice", 'VALIDATION_SPLIT = "participant"', 'VALIDATION_SPLIT = "time"', "test_split_choice"),
    "weighted kappa weighs by the category values": (
        "cohen", "w = np.abs(i - j).astype(float)", "w = np.abs(categories[i] - categories[j]).astype(float)",
        "test_cohen_weighted"),
    "Fleiss kappa without chance correction": (
        "fleiss", "return float((p_bar - p_e) / (1.0 - p_e))", "return float(p_bar)", "test_fleiss_kappa"),
    "annotator accuracy counts missing labels as disagreements": (
        "annotator_accuracy", "return np.where(n > 0, agree.sum(axis=0) / np.maximum(n, 1), np.nan).astype(float)",
        "return (agree.sum(axis=0) / len(labels)).astype(float)", "test_annotator_accuracy"),
    "aggregation judged by agreement with the crowd's majority": (
        "aggregation", None, AGREEMENT_WITH_THE_CROWD, "test_aggregation_choice"),
    "label model breaks ties instead of abstaining": (
        "label_model", "np.where((top > 0) & unique_winner,", "np.where(top > 0,", "test_label_model"),
    "three case-sensitive keywords": ("my_lfs", None, THREE_KEYWORDS, "test_my_lfs"),
    "every disagreement with the argmax is a label issue": (
        "label_issues", "return above.any(axis=1) & (likely != labels)", "return P.argmax(axis=1) != labels",
        "test_label_issues"),
    "SMOTE samples outside the segment (one lambda per feature)": (
        "smote", "lam = rng.random((n_new, 1))", "lam = rng.random((n_new, X.shape[1]))", "test_smote"),
    "balanced weights without the number of classes": (
        "class_weights", "float(len(y) / (len(classes) * n))", "float(len(y) / n)", "test_class_weights"),
    "augment skips a dropped transform silently": (
        "augment", "raise ValueError(f\"{name!r} is marked 'drop': it makes faces production never sends\")",
        "continue", "test_augment"),
    "active learning asks about the most confident examples": (
        "active_loop", "picked = unlabelled[select_most_uncertain(probs, batch, SCORES[strategy])]",
        "picked = unlabelled[np.argsort(SCORES[strategy](probs), kind='stable')[:batch]]", "test_active_learning"),
}

VARIANTS = {"wrong_a": WRONG_A, "wrong_b": WRONG_B}


def build(perfect, variant: str):
    """The wrong notebook `variant`: the perfect example with that variant's mistakes put in."""
    return H.with_mistakes(perfect, VARIANTS[variant])


def parts(spec) -> tuple[tuple[str, ...], frozenset[str]]:
    """(parts the mistake must fail, parts that may fail too)."""
    return H.parts_of(spec), frozenset()
