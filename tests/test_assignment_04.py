"""Assignment 04 (modeling) through the real grader.

The tests every assignment gets (tests/assignment_batch.py) on one batch: the perfect, partial and
blank examples and four "wrong" notebooks built from the perfect example with the wrong-but-plausible
answers of tests/variants/a04.py. Every wrong answer must lose the points of the part meant to catch
it (and of the parts that build on it, listed with it), and every other part must still pass.
"""
from __future__ import annotations

import pytest

from tests import variants
from tests.assignment_batch import AssignmentBatch

pytestmark = pytest.mark.slow


class TestAssignment04(AssignmentBatch):
    ASSIGNMENT = "04-modeling"
    VARIANTS = variants.module("04")
    MIN_PARTS = 15
    # test_stable_bucket runs its answer cell again in a fresh process, the memory mistake included
    HONEST_MAY = MEMORY_MAY = frozenset({"test_stable_bucket"})

    def test_partial_solves_the_first_half(self, graded):
        # the partial example solves the first half of the answer cells: parts 1 to 3 and the CNN's model
        passed = {p.grade_id for p in graded["partial"].parts if p.passed}
        assert {"test_stable_bucket", "test_featurize_train_only", "test_minibatch_sgd", "test_more_data_will_help"} <= passed
        assert "test_random_search" not in passed and "test_top_loss" not in passed
