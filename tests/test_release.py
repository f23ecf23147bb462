"""The release: never leaks, matches a fresh regeneration, and release notebooks score zero."""
from __future__ import annotations

import json

import nbformat
import pytest

from autograder import cells as C
from autograder.errors import ReleaseLeakError, SourceNotebookError
from autograder.examples import example_notebooks
from autograder.release import LEAK_MARKERS, find_leaks, make_release_notebook, release_assignment, validate_source
from tests import minicourse as M
from tests.helpers import COURSE


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_committed_release_equals_a_fresh_regeneration(assignment):
    source = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
    fresh = nbformat.writes(make_release_notebook(source)) + "\n"
    committed = COURSE.release_notebook(assignment).read_text()
    assert committed == fresh, f"release/{assignment} is stale: run `autograder release {assignment}`"
    for path in COURSE.supporting_files(assignment):
        copy = COURSE.release / assignment / path.relative_to(COURSE.source / assignment)
        assert copy.read_bytes() == path.read_bytes(), f"{copy} differs from its source"


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_committed_examples_equal_a_fresh_regeneration(assignment):
    source = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
    for kind, fresh in example_notebooks(source).items():
        committed = nbformat.read(COURSE.examples / assignment / kind / f"{assignment}.ipynb", as_version=4)
        assert [(c.cell_type, C.source(c)) for c in committed.cells] == \
            [(c.cell_type, C.source(c)) for c in fresh.cells], \
            f"examples/{assignment}/{kind} is stale: run `python -m autograder.examples {assignment}`"


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_no_release_file_carries_a_solution_hidden_test_or_output(assignment):
    source = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
    release = nbformat.read(COURSE.release_notebook(assignment), as_version=4)
    assert find_leaks(source, release) == []
    text = json.dumps(release)
    for marker in LEAK_MARKERS:
        assert marker not in text
    for cell in release.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_source_notebooks_follow_the_authoring_rules(assignment):
    source = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
    validate_source(source, assignment)
    tests = [c for c in source.cells if C.is_test(c)]
    manual = sum(C.points(c) for c in source.cells if C.is_manual(c))
    total = sum(C.points(c) for c in source.cells if C.is_grade(c))
    assert len(tests) >= 12, "at least 12 autograded parts"
    assert manual <= 0.25 * total, "hand-graded points are a small share"


def test_release_refuses_a_leak(tmp_path):
    course = M.build(tmp_path)
    nb = nbformat.read(course.source_notebook(M.ASSIGNMENT), as_version=4)
    for cell in nb.cells:
        if C.grade_id(cell) == "test_add":  # an author's typo: nbgrader does not see this block
            cell.source += "\n### BEGIN HIDDEN TEST\nassert add(10, 20) == 30\n### END HIDDEN TEST"
    nbformat.write(nb, course.source_notebook(M.ASSIGNMENT))
    before = course.release_notebook(M.ASSIGNMENT).read_text()
    with pytest.raises(ReleaseLeakError, match="BEGIN HIDDEN"):
        release_assignment(course, M.ASSIGNMENT)
    assert course.release_notebook(M.ASSIGNMENT).read_text() == before, "a refused release leaves the old one"


def test_release_refuses_outputs_and_missing_metadata(tmp_path):
    course = M.build(tmp_path)
    nb = nbformat.read(course.source_notebook(M.ASSIGNMENT), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('no metadata')"))
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x")]
    nbformat.write(nb, course.source_notebook(M.ASSIGNMENT))
    with pytest.raises(SourceNotebookError) as error:
        release_assignment(course, M.ASSIGNMENT)
    assert "every code cell must be locked" in str(error.value)
    assert "without outputs" in str(error.value)


def test_release_refuses_answer_cells_that_do_not_parse(tmp_path):
    course = M.build(tmp_path)
    nb = nbformat.read(course.source_notebook(M.ASSIGNMENT), as_version=4)
    for cell in nb.cells:
        if C.grade_id(cell) == "add":  # markers inside an expression: the stub breaks the syntax
            cell.source = "TABLE = {\n    ### BEGIN SOLUTION\n    'a': 1,\n    ### END SOLUTION\n}"
    nbformat.write(nb, course.source_notebook(M.ASSIGNMENT))
    with pytest.raises(SourceNotebookError, match="not valid Python"):
        release_assignment(course, M.ASSIGNMENT)


def test_release_strips_solutions_and_hidden_tests(tmp_path):
    course = M.build(tmp_path)
    release = nbformat.read(course.release_notebook(M.ASSIGNMENT), as_version=4)
    text = "\n".join(C.source(c) for c in release.cells)
    assert "return a + b" not in text and "raise NotImplementedError()" in text
    assert "rng.normal" not in text and "add(2, 3) == 5" in text
    assert "Mentions hard-coding" not in text
