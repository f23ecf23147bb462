"""Assignment 02 (data and labeling): the examples and wrong-but-plausible answers, graded for real.

One batch through the real grader: the perfect, partial and blank examples plus two variants of
the perfect example that together carry a wrong-but-plausible answer for every graded part (each
variant several, in parts that do not build on each other). Every wrong answer must lose the points
of the part meant to catch it, and nothing else.
"""
from __future__ import annotations

import pytest

from tests import helpers as H
from tests import honest_globals as HG

A = "02-data-and-labeling"

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


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("a02"), wrong_a=H.with_mistakes(perfect, WRONG_A),
                            wrong_b=H.with_mistakes(perfect, WRONG_B),
                            honest_and_memory=H.honest_with_memory_mistake(A))


def test_honest_globals_named_like_test_names_keep_full_marks(graded):
    """Issue 19: a test's temporaries and the grader's aliases never reach the student's globals."""
    HG.check_full_marks(graded["honest_and_memory"])


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
    H.check_memory_mistake(graded["honest_and_memory"])


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
    result = graded[variant]
    H.check_lost_exactly(result, must=expected)
    by_id = {p.grade_id: p for p in result.parts}
    assert result.max_score - result.score == sum(by_id[part].max_points for part in expected)


# ---------------------------------------------------------------------------------------------
# release and examples are what the source makes
# ---------------------------------------------------------------------------------------------
def _source():
    import nbformat

    return nbformat.read(H.COURSE.source_notebook(A), as_version=4)


def test_every_graded_part_has_a_wrong_variant():
    """Issue 20: for every autograded part, a plausible wrong answer that must lose it."""
    from autograder import cells as C

    parts = {C.grade_id(c) for c in _source().cells if C.is_test(c)}
    covered = {part for wrong in (WRONG_A, WRONG_B) for spec in wrong.values() for part in H.parts_of(spec)}
    assert parts - covered == set(), f"parts without a wrong-but-plausible variant: {sorted(parts - covered)}"
    assert covered <= parts, f"variants name parts the notebook does not have: {sorted(covered - parts)}"


def test_wrong_variants_still_apply_to_the_perfect_example():
    """Every wrong answer's text is still in the reference answer (a stale variant would test nothing)."""
    perfect = H.example(A, "perfect")
    for wrong in (WRONG_A, WRONG_B):
        changed = H.with_mistakes(perfect, wrong)
        for cell_id, old, new, *_ in wrong.values():
            [cell] = [c for c in changed.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell_id]
            assert new in cell.source


def test_design_judgment_is_at_least_a_fifth_of_the_points():
    """Issue 15: the memo (graded by hand) and the `decision`-tagged choices carry >= 20% of the points."""
    cells = [c for c in _source().cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    points = {c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points) for c in cells}
    judgment = {c.metadata.nbgrader.grade_id for c in cells
                if c.cell_type == "markdown" or "decision" in c.metadata.get("tags", [])}
    assert {"memo", "test_split_choice", "test_aggregation_choice", "test_augment_use", "test_label_strategy"} <= judgment
    share = sum(points[g] for g in judgment) / sum(points.values())
    assert share >= 0.2, f"design judgment is {share:.0%} of the points"
