"""`autograder check` and grading say the same thing about the same notebook, and `check` exits
non-zero when a visible test does not pass (so a student's own CI can use it)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import cells as C
from autograder import results as R
from autograder import authoring as A
from autograder.layout import Course
from autograder.release import release_assignment
from tests.helpers import grade_notebooks

ASSIGNMENT = "00-agree"


def _source() -> nbformat.NotebookNode:
    return A.notebook([
        A.markdown("# Agreement"),
        A.parameters("SEED = 0"),
        # text outside the solution block, like 03's task 5c: the release keeps it around the stub
        A.answer("pick", "TARGET = 0.95\n# set CHOSEN below\n### BEGIN SOLUTION\nCHOSEN = 0.5\n### END SOLUTION"),
        A.tests("test_pick", 2, visible="assert 'CHOSEN' in globals(), 'set CHOSEN in the cell above'",
              hidden="assert CHOSEN == 0.5"),
        A.answer("double", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
        A.tests("test_double", 1, visible="assert double(2) == 4, 'double(2) should be 4'",
              hidden="assert double(-1) == -2"),
    ])


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    root = tmp_path_factory.mktemp("agree")
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    nbformat.write(_source(), root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    course = Course(root)
    release_assignment(course, ASSIGNMENT)
    return course


def _copy(course: Course, folder: Path, answers: dict[str, str] | None = None) -> Path:
    nb = nbformat.read(course.release_notebook(ASSIGNMENT), as_version=4)
    for cell in nb.cells:
        if answers and C.grade_id(cell) in answers:
            cell.source = answers[C.grade_id(cell)]
    folder.mkdir(parents=True)
    path = folder / f"{ASSIGNMENT}.ipynb"
    nbformat.write(nb, path)
    return path


def _check(course: Course, path: Path):
    return subprocess.run([sys.executable, "-m", "autograder", "check", str(path), "--release", str(course.root)],
                          capture_output=True, text=True, timeout=600, env={**os.environ})


def _outcomes_from_check(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        for title in ("pick", "double"):
            if line.startswith(title + " "):
                found[title] = line[len(title):].strip().rsplit(" ", 2)[0].strip()
    return found


def test_blank_and_half_done_notebooks_agree(course, tmp_path):
    blank = _copy(course, tmp_path / "blank")
    half = _copy(course, tmp_path / "half", {"double": "def double(x):\n    return 2 * x"})
    graded = grade_notebooks(ASSIGNMENT, {"blank": nbformat.read(blank, as_version=4),
                                          "half": nbformat.read(half, as_version=4)},
                             tmp_path / "graded", course=course, use_namespaces=False, sandbox_user=None)
    labels = {R.PASSED: "passed", R.FAILED: "FAILED", R.NOT_ATTEMPTED: "not attempted", R.NOT_RUN: "did not run"}
    for student, path in (("blank", blank), ("half", half)):
        proc = _check(course, path)
        checked = _outcomes_from_check(proc.stdout)
        assert set(checked) == {"pick", "double"}, proc.stdout + proc.stderr
        by_title = {p.title: p for p in graded[student].parts if p.kind == "test"}
        for title, shown in checked.items():
            assert shown == labels[by_title[title].outcome], (
                f"{student}/{title}: check says {shown!r}, grading says {by_title[title].outcome!r}\n{proc.stdout}")
        assert proc.returncode == 1, f"a visible test did not pass, so check exits 1 (got {proc.returncode})"
    assert graded["blank"].parts[0].outcome == R.NOT_ATTEMPTED, "the blank 'pick' answer is not attempted"


def test_check_exits_zero_when_every_visible_test_passes(course, tmp_path):
    done = _copy(course, tmp_path / "done", {"pick": "TARGET = 0.95\nCHOSEN = 0.5",
                                             "double": "def double(x):\n    return 2 * x"})
    proc = _check(course, done)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "visible tests passed in 2 of 2 parts" in proc.stdout
