"""Assignment 06 (monitoring and iteration): the examples and wrong-but-plausible answers, graded for real.

The tests every assignment gets (tests/assignment_batch.py) on one batch: the perfect, partial and
blank examples plus two variants of the perfect example (tests/variants/a06.py), each carrying
several wrong answers in different parts. Every wrong answer must lose the points of the part meant
to catch it (and of the parts listed as its knock-on effects), and nothing else.
"""
from __future__ import annotations

import pytest

from autograder import cells as C
from tests import variants
from tests.assignment_batch import HONEST_APART, AssignmentBatch

pytestmark = pytest.mark.slow


class TestAssignment06(AssignmentBatch):
    ASSIGNMENT = "06-monitoring-and-iteration"
    VARIANTS = variants.module("06")
    MIN_PARTS = 20
    BLANK_ALL_NOT_ATTEMPTED = False
    HONEST = HONEST_APART
    EXACT_LOSS = False  # knock-on parts may fail too

    def test_decision_parts_are_a_fifth_of_the_points(self):
        """Issue 15: the memo and the tagged decisions hold at least a fifth of the points."""
        source = self.source()
        points = {C.grade_id(c): float(c.metadata["nbgrader"]["points"]) for c in source.cells
                  if c.metadata.get("nbgrader", {}).get("grade")}
        judged = sum(points[C.grade_id(c)] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")
                     and (c.cell_type == "markdown" or "decision" in c.metadata.get("tags", [])))
        assert judged / sum(points.values()) >= 0.2, (judged, sum(points.values()))

    def test_every_answer_cell_has_a_test_after_it(self):
        pending = []
        for cell in self.source().cells:
            if C.is_solution(cell) and cell.cell_type == "code":
                pending.append(C.grade_id(cell))
            elif C.is_test(cell):
                pending = []
        assert not pending, f"answer cells with no test after them: {pending}"
