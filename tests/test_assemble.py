"""Assembling a submission: what the student received is what their cells are compared with,
and nothing of the source that students must not see reaches the notebook that runs."""
from __future__ import annotations

import copy
import json

from pathlib import Path

import nbformat

from autograder import feedback
from autograder import results as R
from autograder.assemble import assemble
from tests import minicourse as M


def test_task_cells_leak_no_mark_scheme_and_raise_no_false_notes(tmp_path):
    course = M.build(tmp_path)
    source = nbformat.read(course.source_notebook(M.ASSIGNMENT), as_version=4)
    assert M.MARK_SCHEME in json.dumps(source), "the fixture has a task cell with a mark scheme"
    assert M.MARK_SCHEME not in json.dumps(M.release_nb(course))
    assembled = assemble(source, M.submission(course, M.PERFECT))
    assert assembled.notes == [], "an unchanged release notebook changes no locked cell"
    assert M.MARK_SCHEME not in json.dumps(assembled.notebook), "the notebook that runs never holds the mark scheme"
    result = R.SubmissionResult(student_id="s", assignment=M.ASSIGNMENT, status=R.GRADED)
    page = feedback.render(result, assembled, assembled.notebook, set())
    assert "Task: in a cell of your own" in page and M.MARK_SCHEME not in page
    assert "MARK SCHEME" not in page


def test_an_edited_task_cell_is_noted_and_restored_from_the_release(tmp_path):
    course = M.build(tmp_path)
    source = nbformat.read(course.source_notebook(M.ASSIGNMENT), as_version=4)
    submission = M.submission(course, M.PERFECT)
    for cell in submission.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "task_edge_cases":
            cell.source = "I rewrote the task."
    assembled = assemble(source, submission)
    assert assembled.notes == ["locked cell 'task_edge_cases' was changed in the submission; the original was used"]
    assert "I rewrote the task." not in json.dumps(assembled.notebook)
    assert M.MARK_SCHEME not in json.dumps(assembled.notebook)


def test_a_notebook_of_another_assignment_is_not_taken_for_this_one():
    """03's notebook handed in as 01 shares 01's `parameters` and `setup` cells and one answer id
    (`heuristic`): that is not a match (it used to be graded as a blank 01)."""
    root = Path(__file__).resolve().parent.parent
    first = nbformat.read(root / "source" / "01-problem-framing" / "01-problem-framing.ipynb", as_version=4)
    third = nbformat.read(root / "source" / "03-metrics-and-baselines" / "03-metrics-and-baselines.ipynb", as_version=4)
    blank = nbformat.read(root / "examples" / "01-problem-framing" / "blank" / "01-problem-framing.ipynb", as_version=4)
    assert not assemble(first, third).recognised
    assert assemble(first, blank).recognised, "the blank 01 is 01's notebook"
    half = copy.deepcopy(blank)
    half.cells = half.cells[: len(half.cells) // 2]
    assert assemble(first, half).recognised, "a notebook cut in half is still this assignment's"
