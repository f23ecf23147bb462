"""Assignment 02 (data and labeling): the examples and wrong-but-plausible answers, graded for real.

The tests every assignment gets (tests/assignment_batch.py) on one batch: the perfect, partial and
blank examples plus two variants of the perfect example (tests/variants/a02.py) that together carry a
wrong-but-plausible answer for every graded part (each variant several, in parts that do not build
on each other). Every wrong answer must lose the points of the part meant to catch it, and nothing else.
"""
from __future__ import annotations

import pytest

from tests import variants
from tests.assignment_batch import AssignmentBatch

pytestmark = pytest.mark.slow


class TestAssignment02(AssignmentBatch):
    ASSIGNMENT = "02-data-and-labeling"
    VARIANTS = variants.module("02")
    MIN_PARTS = 15
    BLANK_ALL_NOT_ATTEMPTED = False

    def test_design_judgment_is_at_least_a_fifth_of_the_points(self):
        """Issue 15: the memo (graded by hand) and the `decision`-tagged choices carry >= 20% of the points."""
        cells = [c for c in self.source().cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        points = {c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points) for c in cells}
        judgment = {c.metadata.nbgrader.grade_id for c in cells
                    if c.cell_type == "markdown" or "decision" in c.metadata.get("tags", [])}
        assert {"memo", "test_split_choice", "test_aggregation_choice", "test_augment_use", "test_label_strategy"} <= judgment
        share = sum(points[g] for g in judgment) / sum(points.values())
        assert share >= 0.2, f"design judgment is {share:.0%} of the points"
