"""Assignment 02 (data and labeling): the examples and wrong-but-plausible answers, graded for real.

One batch through the real grader: the perfect, partial and blank examples plus two variants of
the perfect example, each carrying several wrong answers in different parts. Every wrong answer
must lose the points of the part meant to catch it, and nothing else.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import cells as C
from autograder.examples import example_notebooks
from autograder.release import make_release_notebook
from tests import helpers as H

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


def _variant(perfect, wrong: dict):
    nb = perfect
    for _name, (cell, old, new, _part) in wrong.items():
        if old is None:
            nb = H.with_answers(nb, {cell: new})
        else:
            nb = H.replace_in_answer(nb, cell, old, new)
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    notebooks = {
        "perfect": perfect,
        "partial": H.example(A, "partial"),
        "blank": H.example(A, "blank"),
        "wrong_a": _variant(perfect, WRONG_A),
        "wrong_b": _variant(perfect, WRONG_B),
    }
    return H.grade_notebooks(A, notebooks, tmp_path_factory.mktemp("a02"))


def _outcomes(result):
    return {p.grade_id: p.outcome for p in result.parts if p.kind == "test"}


# ---------------------------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_perfect_gets_full_marks_in_time(graded):
    result = graded["perfect"]
    assert result.status == "graded", result.reason
    failed = {gid: o for gid, o in _outcomes(result).items() if o != "passed"}
    assert not failed, f"the reference solution lost points: {failed}"
    assert result.score == result.max_score
    assert len(_outcomes(result)) >= 15
    assert result.seconds < 30, f"the perfect example took {result.seconds:.1f} s (budget 30 s)"


@pytest.mark.slow
def test_blank_gets_zero(graded):
    result = graded["blank"]
    assert result.status == "graded", result.reason
    assert result.score == 0, {gid: o for gid, o in _outcomes(result).items() if o == "passed"}


@pytest.mark.slow
def test_partial_is_in_between(graded):
    result = graded["partial"]
    assert result.status == "graded", result.reason
    assert 0 < result.score < result.max_score


# ---------------------------------------------------------------------------------------------
# wrong but plausible
# ---------------------------------------------------------------------------------------------
def _parts(spec):
    return (spec[3],) if isinstance(spec[3], str) else spec[3]


CASES = [("wrong_a", name, _parts(spec)[0]) for name, spec in WRONG_A.items()] + \
        [("wrong_b", name, _parts(spec)[0]) for name, spec in WRONG_B.items()]


@pytest.mark.slow
@pytest.mark.parametrize("variant,name,part", CASES, ids=[c[1] for c in CASES])
def test_wrong_answer_loses_its_part(graded, variant, name, part):
    outcome = _outcomes(graded[variant])[part]
    assert outcome == "failed", f"{name!r} should fail {part}, got {outcome}"


@pytest.mark.slow
@pytest.mark.parametrize("variant,wrong", [("wrong_a", WRONG_A), ("wrong_b", WRONG_B)])
def test_wrong_answers_cost_nothing_else(graded, variant, wrong):
    result = graded[variant]
    assert result.status == "graded", result.reason
    expected = {part for spec in wrong.values() for part in _parts(spec)}
    lost = {gid for gid, o in _outcomes(result).items() if o != "passed"}
    assert lost == expected, f"lost {sorted(lost)}, expected exactly {sorted(expected)}"


# ---------------------------------------------------------------------------------------------
# release and examples are what the source makes
# ---------------------------------------------------------------------------------------------
def _sources(nb):
    return [(c.cell_type, C.source(c)) for c in nb.cells]


def test_release_and_examples_match_the_source():
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    release = nbformat.read(H.COURSE.release_notebook(A), as_version=4)
    assert _sources(release) == _sources(make_release_notebook(source)), "run `autograder release 02-data-and-labeling`"
    for kind, nb in example_notebooks(source).items():
        assert _sources(H.example(A, kind)) == _sources(nb), f"run `python -m autograder.examples {A}` ({kind})"
