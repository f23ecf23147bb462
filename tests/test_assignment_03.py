"""Assignment 03 (metrics and baselines) through the real grader.

One batch grades the perfect, partial and blank examples and two "wrong" notebooks, each built
from the perfect example with several wrong-but-plausible answers in different parts. Every
wrong answer must lose the points of the part meant to catch it, and only those.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import results as R
from autograder import cells as C
from tests import helpers as H
from tests import honest_globals as HG
from tests.helpers import COURSE, example, with_answers
from tests.variants.a03 import WRONG_A, WRONG_B, WRONG_C, build

pytestmark = pytest.mark.slow

A = "03-metrics-and-baselines"
# Answer cells solved by a student who skipped sections 1-5 (and the parts that test them): the
# parts of the later sections must not depend on the skipped answers.
LATE_ANSWERS = ["heuristic", "reliability", "recalibration", "prior_shift", "slices", "bootstrap", "mcnemar", "choose_model",
                "ab_test", "aa_test", "invariance", "directional", "minimum_functionality"]
LATE_PARTS = ["test_heuristic_baseline", "test_reliability_table", "test_ece", "test_recalibration", "test_prior_shift",
              "test_slices",
              "test_bootstrap_ci", "test_mcnemar", "test_choose_model", "test_ztest", "test_sample_size_mde",
              "test_aa_and_peeking", "test_invariance_test", "test_directional_test",
              "test_minimum_functionality_test"]


def _late_only() -> nbformat.NotebookNode:
    perfect = example(A, "perfect")
    answers = {C.grade_id(c): c.source for c in perfect.cells if C.grade_id(c) in LATE_ANSWERS}
    return with_answers(example(A, "blank"), answers)



@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("grade03"), wrong_a=build(perfect, "wrong_a"),
                            wrong_b=build(perfect, "wrong_b"),
                            wrong_c=build(perfect, "wrong_c"), late_only=_late_only(),
                            honest_and_memory=H.honest_with_memory_mistake(A))


def test_honest_globals_named_like_test_names_keep_full_marks(graded):
    """Issue 19: a test's temporaries and the grader's aliases never reach the student's globals."""
    HG.check_full_marks(graded["honest_and_memory"])


def test_source_has_enough_graded_parts():
    nb = nbformat.read(COURSE.source_notebook(A), as_version=4)
    graded_cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert len(graded_cells) >= 15


def test_perfect_gets_full_marks(graded):
    H.check_perfect(graded["perfect"], min_parts=15)


def test_blank_gets_zero(graded):
    H.check_blank(graded["blank"])


def test_partial_is_in_between(graded):
    result = graded["partial"]
    H.check_partial(result)
    # the partial example solves the first half of the answer cells: sections 1 to 5b
    passed = {p.grade_id for p in result.parts if p.passed}
    assert {"test_confusion_matrix", "test_roc_auc", "test_average_precision", "test_threshold_cost"} <= passed
    assert "test_minimum_functionality_test" not in passed


def test_memory_mistake_costs_no_other_part(graded):
    H.check_memory_mistake(graded["honest_and_memory"])


@pytest.mark.parametrize("variant, mistakes", [("wrong_a", WRONG_A), ("wrong_b", WRONG_B), ("wrong_c", WRONG_C)])
def test_each_wrong_answer_loses_its_part_only(graded, variant, mistakes):
    result = graded[variant]
    expected_to_fail = {part for spec in mistakes.values() for part in H.parts_of(spec)}
    H.check_lost_exactly(result, must=expected_to_fail)
    lost = result.max_score - result.score
    by_id = {p.grade_id: p for p in result.parts}
    assert lost == sum(by_id[part].max_points for part in expected_to_fail)


def test_later_parts_do_not_need_earlier_answers(graded):
    result = graded["late_only"]
    assert result.status == R.GRADED, result.reason
    passed = {p.grade_id for p in result.parts if p.passed}
    assert set(LATE_PARTS) <= passed, H.summary(result)
    assert result.score == sum(p.max_points for p in result.parts if p.grade_id in LATE_PARTS), H.summary(result)
