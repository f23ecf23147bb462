"""Assignment 06 (monitoring and iteration): the examples and wrong-but-plausible answers, graded for real.

One batch through the real grader: the perfect, partial and blank examples plus two variants of
the perfect example, each carrying several wrong answers in different parts. Every wrong answer
must lose the points of the part meant to catch it (and of the parts listed as its knock-on
effects), and nothing else.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import cells as C
from tests import helpers as H
from tests import honest_globals as HG
from tests.variants.a06 import WRONG_A, WRONG_B, build

A = "06-monitoring-and-iteration"
pytestmark = pytest.mark.xdist_group("assignment-06")  # one worker grades the batch once
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("a06"), wrong_a=build(perfect, "wrong_a"),
                            wrong_b=build(perfect, "wrong_b"), honest_globals=HG.for_assignment(A),
                            memory_mistake=H.with_memory_mistake(perfect))


def test_honest_globals_named_like_test_names_keep_full_marks(graded):
    """Issue 19: a test's temporaries and the grader's aliases never reach the student's globals."""
    HG.check_full_marks(graded["honest_globals"])


# ---------------------------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_perfect_gets_full_marks(graded):
    H.check_perfect(graded["perfect"], min_parts=20)


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


def test_every_graded_part_has_a_wrong_answer():
    """Issue 20: every autograded part of 06 is the first target of some wrong-but-plausible answer."""
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    parts = {C.grade_id(cell) for cell in source.cells if C.is_test(cell)}
    caught = {part for wrong in (WRONG_A, WRONG_B) for spec in wrong.values() for part in H.parts_of(spec)}
    assert parts - caught == set(), f"graded parts without a wrong answer: {sorted(parts - caught)}"


def test_decision_parts_are_a_fifth_of_the_points():
    """Issue 15: the memo and the tagged decisions hold at least a fifth of the points."""
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    points = {C.grade_id(c): float(c.metadata["nbgrader"]["points"]) for c in source.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    judged = sum(points[C.grade_id(c)] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")
                 and (c.cell_type == "markdown" or "decision" in c.metadata.get("tags", [])))
    assert judged / sum(points.values()) >= 0.2, (judged, sum(points.values()))


# ---------------------------------------------------------------------------------------------
# release and examples are what the source makes
# ---------------------------------------------------------------------------------------------


def test_every_answer_cell_has_a_test_after_it():
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    pending = []
    for cell in source.cells:
        if C.is_solution(cell) and cell.cell_type == "code":
            pending.append(C.grade_id(cell))
        elif C.is_test(cell):
            pending = []
    assert not pending, f"answer cells with no test after them: {pending}"
