"""Assignment 02 (data and labeling): the examples and wrong-but-plausible answers, graded for real.

One batch through the real grader: the perfect, partial and blank examples plus two variants of
the perfect example, each carrying several wrong answers in different parts. Every wrong answer
must lose the points of the part meant to catch it, and nothing else.
"""
from __future__ import annotations

import pytest

from tests import helpers as H
from tests import honest_globals as HG

A = "02-data-and-labeling"

# ---------------------------------------------------------------------------------------------
# wrong-but-plausible answers: (answer cell, text in the reference answer, replacement)
# ---------------------------------------------------------------------------------------------
FIRST_K = '''def reservoir_sample(stream, k, seed=0):
    """Keeps the first k items: not a uniform sample of the stream."""
    return list(itertools.islice(stream, k))'''

# name -> (answer cell, text of the reference answer or None for the whole cell, replacement,
#          the test cells that must fail: the one meant to catch it first)
WRONG_A = {
    "reservoir keeps the first k": ("reservoir", None, FIRST_K, ("test_reservoir_uniform", "test_reservoir_basic")),
    "leaky group split (a random split of the rows)": (
        "group_split", None,
        "def group_split(df, test_size=0.25, seed=0, group_col='user_id'):\n    return random_split(df, test_size, seed)",
        ("test_group_split", "test_leaky_gap")),
    "stratified rounds each class on its own": (
        "stratified", "leftover = n - int(take.sum())", "take = np.round(quotas).astype(int)\n    leftover = 0",
        "test_stratified"),
    "kappa without chance correction": (
        "cohen", "return float(1.0 - (w * observed).sum() / (w * expected).sum())",
        "return float(1.0 - (w * observed).sum())", ("test_cohen_kappa", "test_cohen_weighted")),
    "SMOTE samples outside the segment (one lambda per feature)": (
        "smote", "lam = rng.random((n_new, 1))", "lam = rng.random((n_new, X.shape[1]))", "test_smote"),
    "vertical flip keeps the label": (
        "augment", '"flip_vertical": False,', '"flip_vertical": True,', "test_augment"),
    "labelling-function conflict counted as overlap": (
        "lf_summary", '"conflict": conflict,', '"conflict": (voted & (others_voting > 0)).mean(axis=0),',
        "test_lf_summary"),
}

WRONG_B = {
    "reservoir draws j from 0..i+1, one too many": (
        "reservoir", "j = rng.randint(0, i)", "j = rng.randint(0, i + 1)", "test_reservoir_uniform"),
    "time split puts the cutoff instant in train": (
        "time_split", "before = df[time_col] < cutoff", "before = df[time_col] <= cutoff", "test_time_split"),
    "Fleiss kappa without chance correction": (
        "fleiss", "return float((p_bar - p_e) / (1.0 - p_e))", "return float(p_bar)", "test_fleiss_kappa"),
    "majority vote breaks ties towards the largest class": (
        "majority", "winner = votes.argmax(axis=1)", "winner = n_classes - 1 - votes[:, ::-1].argmax(axis=1)",
        "test_majority_vote"),
    "in-sample probabilities instead of out-of-fold": (
        "oof", "fitted = clone(model).fit(X[train], y[train])", "fitted = clone(model).fit(X, y)", "test_oof_proba"),
    "balanced weights without the number of classes": (
        "class_weights", "float(len(y) / (len(classes) * n))", "float(len(y) / n)", "test_class_weights"),
    "active learning asks about the most confident examples": (
        "active_loop", "picked = unlabelled[select_most_uncertain(probs, batch, SCORES[strategy])]",
        "picked = unlabelled[np.argsort(SCORES[strategy](probs), kind='stable')[:batch]]", "test_active_learning"),
}



@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("a02"), wrong_a=H.with_mistakes(perfect, WRONG_A),
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


# ---------------------------------------------------------------------------------------------
# release and examples are what the source makes
# ---------------------------------------------------------------------------------------------
