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
from tests.variants.a02 import WRONG_A, WRONG_B, build

A = "02-data-and-labeling"
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("a02"), wrong_a=build(perfect, "wrong_a"),
                            wrong_b=build(perfect, "wrong_b"),
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
