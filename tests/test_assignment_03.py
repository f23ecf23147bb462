"""Assignment 03 (metrics and baselines) through the real grader.

The tests every assignment gets (tests/assignment_batch.py) on one batch: the perfect, partial and
blank examples and three "wrong" notebooks built from the perfect example with the wrong-but-plausible
answers of tests/variants/a03.py, plus a student who solved only the later sections.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import cells as C
from autograder import results as R
from tests import helpers as H
from tests import variants
from tests.assignment_batch import AssignmentBatch

pytestmark = pytest.mark.slow

# Answer cells solved by a student who skipped sections 1-5 (and the parts that test them): the
# parts of the later sections must not depend on the skipped answers.
LATE_ANSWERS = ["heuristic", "reliability", "recalibration", "prior_shift", "slices", "bootstrap", "mcnemar", "choose_model",
                "ab_test", "aa_test", "invariance", "directional", "minimum_functionality"]
LATE_PARTS = ["test_heuristic_baseline", "test_reliability_table", "test_ece", "test_recalibration", "test_prior_shift",
              "test_slices",
              "test_bootstrap_ci", "test_mcnemar", "test_choose_model", "test_ztest", "test_sample_size_mde",
              "test_aa_and_peeking", "test_invariance_test", "test_directional_test",
              "test_minimum_functionality_test"]


class TestAssignment03(AssignmentBatch):
    ASSIGNMENT = "03-metrics-and-baselines"
    VARIANTS = variants.module("03")
    MIN_PARTS = 15

    @classmethod
    def extra_notebooks(cls, perfect: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
        answers = {C.grade_id(c): c.source for c in perfect.cells if C.grade_id(c) in LATE_ANSWERS}
        return {"late_only": H.with_answers(H.example(cls.ASSIGNMENT, "blank"), answers)}

    def test_partial_solves_the_first_half(self, graded):
        # the partial example solves the first half of the answer cells: sections 1 to 5b
        passed = {p.grade_id for p in graded["partial"].parts if p.passed}
        assert {"test_confusion_matrix", "test_roc_auc", "test_average_precision", "test_threshold_cost"} <= passed
        assert "test_minimum_functionality_test" not in passed

    def test_later_parts_do_not_need_earlier_answers(self, graded):
        result = graded["late_only"]
        assert result.status == R.GRADED, result.reason
        passed = {p.grade_id for p in result.parts if p.passed}
        assert set(LATE_PARTS) <= passed, H.summary(result)
        assert result.score == sum(p.max_points for p in result.parts if p.grade_id in LATE_PARTS), H.summary(result)
