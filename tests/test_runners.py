"""The runners (autograder/jobs.py): which one grades a batch, and that a pool worker receives the
assignment's plan once, not once per submission."""
from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from autograder import jobs

UNPICKLED_HERE = 0  # how often a `Plan` was unpickled in this process


def _unpickled(name: str) -> "Plan":
    global UNPICKLED_HERE
    UNPICKLED_HERE += 1
    return Plan(name)


@dataclass
class Plan:
    """Stands for the assignment's plan: counts how often a process received it."""

    name: str

    def __reduce__(self):
        return _unpickled, (self.name,)


def job(plan: Plan, sub: str, prestart_next: bool) -> tuple:
    return sub, os.getpid(), UNPICKLED_HERE, plan.name, prestart_next


@pytest.mark.parametrize("workers, count, dask, runner", [
    (1, 5, None, jobs.IN_PROCESS),
    (4, 1, None, jobs.IN_PROCESS),
    (2, 5, None, jobs.POOL),
    (1, 5, "tcp://127.0.0.1:8786", jobs.DASK),
    (4, 1, "tcp://127.0.0.1:8786", jobs.DASK),
])
def test_runner_selection(workers, count, dask, runner):
    assert jobs.runner_for(workers, count, dask) == runner


def test_one_worker_grades_in_this_process_and_starts_kernels_ahead_but_for_the_last():
    rows = [result for _, result in jobs.run_jobs(job, Plan("00-mini"), ["a", "b", "c"], 1, None,
                                                    failed=None, log=lambda *a: None)]
    assert [row[0] for row in rows] == ["a", "b", "c"]
    assert {row[1] for row in rows} == {os.getpid()}
    assert [row[4] for row in rows] == [True, True, False]


def test_a_pool_worker_receives_the_plan_once():
    todo = [f"s{i}" for i in range(6)]
    rows = [result for _, result in jobs.run_jobs(job, Plan("00-mini"), todo, 2, None, failed=None,
                                                    log=lambda *a: None)]
    assert sorted(row[0] for row in rows) == todo
    pids = {row[1] for row in rows}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {row[2] for row in rows} == {1}, "each worker unpickled the plan once, whatever it graded"
    assert {row[3] for row in rows} == {"00-mini"}
