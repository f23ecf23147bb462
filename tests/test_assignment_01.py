"""Assignment 01 (problem framing) through the real grader.

The tests every assignment gets (tests/assignment_batch.py) on one batch: the perfect, partial and
blank examples and three "wrong" notebooks built from the perfect example with the wrong-but-plausible
answers of tests/variants/a01.py. Every wrong answer must lose the points of the part(s) meant to
catch it, and only those.
"""
from __future__ import annotations

import math

import pytest

from autograder import cells as C
from autograder import results as R
from course import framing
from course.spec import SPEC
from tests import variants
from tests.assignment_batch import AssignmentBatch

pytestmark = pytest.mark.slow


class TestAssignment01(AssignmentBatch):
    ASSIGNMENT = "01-problem-framing"
    VARIANTS = variants.module("01")
    MIN_PARTS = 12

    def test_source_shape(self):
        nb = self.source()
        tests = [c for c in nb.cells if C.is_test(c)]
        manual = [c for c in nb.cells if C.is_manual(c)]
        assert len(tests) >= 12
        total = sum(C.points(c) for c in tests + manual)
        assert 0 < sum(C.points(c) for c in manual) < 0.25 * total, "hand-graded points must stay a small share"
        assert all("=== BEGIN MARK SCHEME ===" in C.source(c) for c in manual), "every written part has a rubric"

    def test_partial_solves_the_first_half(self, graded):
        # the partial example solves the first half of the answer cells: sections 1 to 3b
        passed = {p.grade_id for p in graded["partial"].parts if p.passed}
        assert {"test_task_types_frown", "test_peak_qps", "test_servers_needed", "test_bayes_threshold"} <= passed
        assert not passed & {"test_best_threshold", "test_spec_product", "test_choose_deployment"}

    def test_hard_coded_answer_passes_the_visible_test_but_not_the_hidden_one(self, graded):
        part = {p.grade_id: p for p in graded["wrong_a"].parts}["test_peak_qps"]
        assert part.outcome == R.FAILED
        assert "peak_qps(" in part.message, f"the hidden random check should be the one that failed: {part.message}"

    def test_the_reference_spec_is_the_course_spec(self):
        """The reference write_spec() derives exactly the decisions later assignments read from course.spec."""
        cell = next(c for c in self.source().cells if c.metadata.get("nbgrader", {}).get("grade_id") == "spec")
        namespace = {"math": math, **{name: getattr(framing, name) for name in framing.__all__}}
        exec(C.source(cell), namespace)
        assert namespace["write_spec"]() == SPEC.as_problem_spec()
