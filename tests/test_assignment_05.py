"""Assignment 05 (deployment and compression): the examples and wrong-but-plausible answers, graded for real.

The tests every assignment gets (tests/assignment_batch.py) on one batch: the perfect, partial and
blank examples plus two variants of the perfect example (tests/variants/a05.py), each carrying
several wrong answers in different parts. Every wrong answer must lose the points of the part meant to catch it. A few parts build on another part (the
throughput sweep calls the latency harness, the sparsity curve calls the pruning function, the
student is trained with the distillation loss); when the wrong answer sits upstream, those parts
are listed as "may also fail" and nothing else may.
"""
from __future__ import annotations

import re

import pytest

from autograder import cells as C
from tests import variants
from tests.assignment_batch import AssignmentBatch

pytestmark = pytest.mark.slow


class TestAssignment05(AssignmentBatch):
    ASSIGNMENT = "05-deployment-and-compression"
    VARIANTS = variants.module("05")
    MIN_PARTS = 15
    BLANK_ALL_NOT_ATTEMPTED = False
    EXACT_LOSS = False  # parts downstream of a mistake may fail too

    def test_the_spec_comes_from_the_course_not_from_literals(self):
        """Issue 14: part 9 and 10 ship against the course's one spec (course.spec.SPEC), its metric per
        nudge window and its budgets, not against numbers restated in the notebook or an accuracy floor."""
        source = self.source()
        spec = next(C.source(c) for c in source.cells if C.grade_id(c) == "spec")
        for name in ("SPEC.target_recall", "SPEC.worst_tone_recall", "SPEC.latency_budget_ms", "SPEC.model_mb"):
            assert name in spec
        code = "\n".join(line.split("#")[0] for line in spec.splitlines())
        assert not re.search(r"(?<![\w.])\d", code), f"the spec cell restates a number: {code}"
        everything = "\n".join(C.source(c) for c in source.cells)
        assert "accuracy_floor" not in everything

    def test_nothing_is_chosen_on_the_test_calls(self):
        """Issue 14: the variants are measured and chosen on validation calls; the test calls are read in
        the cell that loads them and once more, after the choice, in the cell that ships."""
        source = self.source()
        readers = [C.grade_id(c) for c in source.cells if "test_calls" in C.source(c)]
        assert readers == ["data_and_teacher", "ship"], readers
        order = [C.grade_id(c) for c in source.cells]
        assert order.index("ship") > order.index("pareto_plot")
