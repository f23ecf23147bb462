"""Assignment 05 (deployment and compression): the examples and wrong-but-plausible answers, graded for real.

One batch through the real grader: the perfect, partial and blank examples plus two variants of
the perfect example, each carrying several wrong answers in different parts. Every wrong answer
must lose the points of the part meant to catch it. A few parts build on another part (the
throughput sweep calls the latency harness, the sparsity curve calls the pruning function, the
student is trained with the distillation loss); when the wrong answer sits upstream, those parts
are listed as "may also fail" and nothing else may.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import cells as C
from tests import helpers as H
from tests import honest_globals as HG
from tests.variants.a05 import WRONG_A, WRONG_B, _must_and_may, build

A = "05-deployment-and-compression"
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("a05"), wrong_a=build(perfect, "wrong_a"),
                            wrong_b=build(perfect, "wrong_b"), honest_and_memory=H.honest_with_memory_mistake(A))


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
CASES = [("wrong_a", name, spec[-2]) for name, spec in WRONG_A.items()] + \
        [("wrong_b", name, spec[-2]) for name, spec in WRONG_B.items()]


@pytest.mark.slow
@pytest.mark.parametrize("variant,name,part", CASES, ids=[c[1] for c in CASES])
def test_wrong_answer_loses_its_part(graded, variant, name, part):
    outcome = H.outcomes(graded[variant])[part]
    assert outcome == "failed", f"{name!r} should fail {part}, got {outcome}"


@pytest.mark.slow
@pytest.mark.parametrize("variant,wrong", [("wrong_a", WRONG_A), ("wrong_b", WRONG_B)])
def test_wrong_answers_cost_nothing_else(graded, variant, wrong):
    must, may = _must_and_may(wrong)
    H.check_lost_exactly(graded[variant], must=must, may=may)


# ---------------------------------------------------------------------------------------------
# release and examples are what the source makes
# ---------------------------------------------------------------------------------------------


def test_the_spec_comes_from_the_course_not_from_literals():
    """Issue 14: part 9 and 10 ship against the course's one spec (course.spec.SPEC), its metric per
    nudge window and its budgets, not against numbers restated in the notebook or an accuracy floor."""
    import re

    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    spec = next(C.source(c) for c in source.cells if C.grade_id(c) == "spec")
    for name in ("SPEC.target_recall", "SPEC.worst_tone_recall", "SPEC.latency_budget_ms", "SPEC.model_mb"):
        assert name in spec
    code = "\n".join(line.split("#")[0] for line in spec.splitlines())
    assert not re.search(r"(?<![\w.])\d", code), f"the spec cell restates a number: {code}"
    everything = "\n".join(C.source(c) for c in source.cells)
    assert "accuracy_floor" not in everything


def test_nothing_is_chosen_on_the_test_calls():
    """Issue 14: the variants are measured and chosen on validation calls; the test calls are read in
    the cell that loads them and once more, after the choice, in the cell that ships."""
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    readers = [C.grade_id(c) for c in source.cells if "test_calls" in C.source(c)]
    assert readers == ["data_and_teacher", "ship"], readers
    order = [C.grade_id(c) for c in source.cells]
    assert order.index("ship") > order.index("pareto_plot")
