"""Assignment 04 (modeling) through the real grader.

One batch grades the perfect, partial and blank examples and four "wrong" notebooks, each built
from the perfect example with several wrong-but-plausible answers in different parts. Every wrong
answer must lose the points of the part meant to catch it (and of the parts that build on it,
listed with it), and every other part must still pass.
"""
from __future__ import annotations

import nbformat
import pytest

from tests import helpers as H
from tests import honest_globals as HG
from tests.helpers import COURSE
from tests.variants.a04 import VARIANTS, build

pytestmark = pytest.mark.slow

A = "04-modeling"
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("grade04"),
                            **{variant: build(perfect, variant) for variant in VARIANTS},
                            honest_and_memory=H.honest_with_memory_mistake(A))


def test_honest_globals_named_like_test_names_keep_full_marks(graded):
    """Issue 19: a test's temporaries and the grader's aliases never reach the student's globals."""
    HG.check_full_marks(graded["honest_and_memory"], may={"test_stable_bucket"})


def test_source_has_enough_graded_parts():
    nb = nbformat.read(COURSE.source_notebook(A), as_version=4)
    tests = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")
             and c.cell_type == "code"]
    assert len(tests) >= 15


def test_perfect_gets_full_marks(graded):
    H.check_perfect(graded["perfect"], min_parts=15)


def test_blank_gets_zero(graded):
    H.check_blank(graded["blank"])


def test_partial_is_in_between(graded):
    result = graded["partial"]
    H.check_partial(result)
    # the partial example solves the first half of the answer cells: parts 1 to 3 and the CNN's model
    passed = {p.grade_id for p in result.parts if p.passed}
    assert {"test_stable_bucket", "test_featurize_train_only", "test_minibatch_sgd", "test_more_data_will_help"} <= passed
    assert "test_random_search" not in passed and "test_top_loss" not in passed


def test_memory_mistake_costs_no_other_part(graded):
    # test_stable_bucket runs its answer cell again in a fresh process, the mistake included
    H.check_memory_mistake(graded["honest_and_memory"], may={"test_stable_bucket"})


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_wrong_answer_loses_its_part_only(graded, variant):
    mistakes = VARIANTS[variant]
    result = graded[variant]
    expected_to_fail = set().union(*(parts for *_, parts in mistakes.values()))
    H.check_lost_exactly(result, must=expected_to_fail)
    by_id = {p.grade_id: p for p in result.parts}
    assert result.max_score - result.score == sum(by_id[part].max_points for part in expected_to_fail)
