"""The per-submission pipeline's steps (autograder/pipeline.py), each on its own: a change shows
which step broke. The steps that run a kernel are exercised whole by the batch tests
(test_results.py, test_faults.py); the ones here stop before a kernel starts."""
from __future__ import annotations

import nbformat
import pytest

from autograder import pipeline, prestart
from autograder import results as R
from autograder.collect import Submission
from autograder.engine import RunEnd
from autograder.execute import Execution
from autograder.plan import make_plan
from autograder.sandbox.config import KernelConfig
from autograder.sandbox.isolation import Isolation
from tests import minicourse as M

NO_ISOLATION = Isolation(bwrap=None, uid=None, gid=None, user=None, layers=(), missing=())


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return M.build(tmp_path_factory.mktemp("pipeline") / "course")


@pytest.fixture(scope="module")
def plan(course):
    return make_plan(course, M.ASSIGNMENT, KernelConfig())


def submission(course, answers=None, **fields) -> Submission:
    notebook = nbformat.writes(M.submission(course, answers)).encode()
    return Submission(student_id="zoe", origin="zoe/00-mini.ipynb", **{"notebook": notebook, **fields})


def test_a_collected_problem_ends_the_pipeline(course, plan):
    sub = submission(course, problem=(R.INVALID_NOTEBOOK, "the zip could not be read"))
    result = pipeline.new_result(plan, sub)
    assert pipeline.collected(sub, result) is False
    assert (result.status, result.reason) == (R.INVALID_NOTEBOOK, "the zip could not be read")
    assert pipeline.collected(submission(course), pipeline.new_result(plan, submission(course))) is True


def test_an_unreadable_notebook_ends_at_read(course, plan):
    sub = submission(course, notebook=b"{not json")
    result = pipeline.new_result(plan, sub)
    assert pipeline.read(sub, result) is None
    assert result.status == R.INVALID_NOTEBOOK and result.reason
    good = submission(course, M.PERFECT)
    assert pipeline.read(good, pipeline.new_result(plan, good)).cells


def test_a_notebook_of_another_assignment_ends_at_assembly(course, plan):
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    sub = submission(course)
    result = pipeline.new_result(plan, sub)
    assert pipeline.assembled(plan, other, result) is None
    assert result.status == R.WRONG_NOTEBOOK and plan.notebook_name in result.reason


def test_assembly_records_what_each_part_graded(course, plan):
    sub = submission(course, M.PERFECT)
    result = pipeline.new_result(plan, sub)
    built = pipeline.assembled(plan, pipeline.read(sub, result), result)
    assert built is not None and built.recognised
    assert set(result.answer_fingerprints) >= {"add", "mean", "scale"}


def _execution(status: RunEnd, reason: str = "", kernel_log: str = "") -> Execution:
    return Execution(notebook=nbformat.v4.new_notebook(), status=status, reason=reason, receipts=[],
                     isolation=NO_ISOLATION, seconds=0.0, kernel_log=kernel_log)


@pytest.mark.parametrize("end, status", [
    (RunEnd.COMPLETED, R.GRADED), (RunEnd.TIMEOUT, R.TIMEOUT), (RunEnd.KERNEL_DIED, R.KERNEL_DIED),
    (RunEnd.KILLED, R.GRADER_ERROR), (RunEnd.FAILED_TO_START, R.GRADER_ERROR),
])
def test_how_the_run_ended_decides_the_status(end, status):
    assert pipeline.status_of(_execution(end, "why"))[0] == status
    assert set(pipeline.STATUS_OF_RUN) == set(RunEnd), "every way a run can end has a status"


def test_a_kernel_that_never_started_shows_its_log():
    status, reason = pipeline.status_of(_execution(RunEnd.FAILED_TO_START, "no answer", "line\nbwrap: denied"))
    assert status == R.GRADER_ERROR and reason.startswith("no answer | kernel log:") and "bwrap: denied" in reason


def test_grade_one_stops_early_without_starting_a_kernel(course, plan):
    sub = submission(course, notebook=b"{not json")
    result = pipeline.grade_one(plan, sub, prestart_next=True)
    assert result.status == R.INVALID_NOTEBOOK
    assert [p.points for p in result.parts] == [0.0] * len(plan.parts)
    assert "readable notebook" in result.feedback_html and not result.executed_notebook
    assert not prestart.waiting(), "no kernel is started ahead for a submission that never ran"


def test_a_grader_bug_in_a_step_becomes_a_grader_error_row(course, plan, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(pipeline, "assemble", broken)
    result = pipeline.grade_one(plan, submission(course, M.PERFECT))
    assert result.status == R.GRADER_ERROR and "simulated bug" in result.reason
    assert any(note.startswith("grader traceback:") for note in result.notes)
    assert [p.points for p in result.parts] == [0.0] * len(plan.parts) and result.feedback_html


def test_a_failed_job_still_gets_a_row(course, plan):
    result = pipeline.failed(plan, submission(course), RuntimeError("worker died"))
    assert result.status == R.GRADER_ERROR and "worker died" in result.reason
    assert len(result.parts) == len(plan.parts)
