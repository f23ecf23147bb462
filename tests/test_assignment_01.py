"""Assignment 01 (problem framing) through the real grader.

One batch grades the perfect, partial and blank examples and two "wrong" notebooks, each built
from the perfect example with several wrong-but-plausible answers in different parts. Every
wrong answer must lose the points of the part(s) meant to catch it, and only those.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import cells as C
from autograder import results as R
from tests import helpers as H
from tests import honest_globals as HG
from tests.helpers import COURSE
from tests.variants.a01 import WRONG_A, WRONG_B, WRONG_C, build

pytestmark = pytest.mark.slow

A = "01-problem-framing"
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("grade01"), wrong_a=build(perfect, "wrong_a"),
                            wrong_b=build(perfect, "wrong_b"), wrong_c=build(perfect, "wrong_c"),
                            honest_and_memory=H.honest_with_memory_mistake(A))


def test_honest_globals_named_like_test_names_keep_full_marks(graded):
    """Issue 19: a test's temporaries and the grader's aliases never reach the student's globals."""
    HG.check_full_marks(graded["honest_and_memory"])


def test_source_shape():
    nb = nbformat.read(COURSE.source_notebook(A), as_version=4)
    tests = [c for c in nb.cells if C.is_test(c)]
    manual = [c for c in nb.cells if C.is_manual(c)]
    assert len(tests) >= 12
    total = sum(C.points(c) for c in tests + manual)
    assert 0 < sum(C.points(c) for c in manual) < 0.25 * total, "hand-graded points must stay a small share"
    assert all("=== BEGIN MARK SCHEME ===" in C.source(c) for c in manual), "every written part has a rubric"


def test_perfect_gets_full_marks(graded):
    H.check_perfect(graded["perfect"], min_parts=12)


def test_blank_gets_zero(graded):
    H.check_blank(graded["blank"])


def test_partial_is_in_between(graded):
    result = graded["partial"]
    H.check_partial(result)
    # the partial example solves the first half of the answer cells: sections 1 to 3b
    passed = {p.grade_id for p in result.parts if p.passed}
    assert {"test_task_types_frown", "test_peak_qps", "test_servers_needed", "test_bayes_threshold"} <= passed
    assert not passed & {"test_best_threshold", "test_spec_product", "test_choose_deployment"}


def test_memory_mistake_costs_no_other_part(graded):
    H.check_memory_mistake(graded["honest_and_memory"])


@pytest.mark.parametrize("variant, mistakes", [("wrong_a", WRONG_A), ("wrong_b", WRONG_B), ("wrong_c", WRONG_C)])
def test_each_wrong_answer_loses_its_part_only(graded, variant, mistakes):
    result = graded[variant]
    expected_to_fail = {part for *_, parts in mistakes.values() for part in parts}
    H.check_lost_exactly(result, must=expected_to_fail)
    by_id = {p.grade_id: p for p in result.parts}
    assert result.max_score - result.score == sum(by_id[part].max_points for part in expected_to_fail)


def test_hard_coded_answer_passes_the_visible_test_but_not_the_hidden_one(graded):
    part = {p.grade_id: p for p in graded["wrong_a"].parts}["test_peak_qps"]
    assert part.outcome == R.FAILED
    assert "peak_qps(" in part.message, f"the hidden random check should be the one that failed: {part.message}"


def test_the_reference_spec_is_the_course_spec():
    """The reference write_spec() derives exactly the decisions later assignments read from course.spec."""
    import math

    from course import framing
    from course.spec import SPEC

    nb = nbformat.read(COURSE.source_notebook(A), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "spec")
    namespace = {"math": math, **{name: getattr(framing, name) for name in framing.__all__}}
    exec(C.source(cell), namespace)
    assert namespace["write_spec"]() == SPEC.as_problem_spec()
