"""Marks for the whole suite.

A test is ``slow`` when it runs whole notebooks through the grader. Most such tests share a batch
graded once per module by a fixture; every test that asks for one of those fixtures is marked here,
so a new test that uses the batch is marked too and ``pytest -m "not slow"`` stays a quick loop
(the unit tests, the source checks, the usage errors). Tests that grade a batch of their own
without such a fixture carry ``@pytest.mark.slow`` themselves.
"""
from __future__ import annotations

import pytest

#: Module fixtures that grade a batch (or build a course whose every test then grades one).
WHOLE_BATCH_FIXTURES = frozenset({
    "graded",             # tests/test_assignment_NN.py, test_cli, test_handgrading, test_feedback_page
    "batch",              # test_redteam, test_late, test_leaderboard, test_report_and_cli, 07
    "hand_graded_late",   # test_late
    "course",             # test_faults, test_scale, test_dask_security: each test grades the mini course
    "course_with_data",   # test_cli: `check` runs the release's tests in a kernel
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if WHOLE_BATCH_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
