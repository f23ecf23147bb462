"""The release: never leaks, matches a fresh regeneration, and release notebooks score zero."""
from __future__ import annotations

import json

import nbformat
import pytest

from autograder import cells as C
from autograder.errors import ReleaseLeakError, SourceNotebookError
from autograder.examples import example_notebooks
from autograder.release import (LEAK_MARKERS, find_leaks, make_release_notebook, release_assignment, release_files,
                                validate_source)
from tests import minicourse as M
from tests.helpers import COURSE


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_committed_release_equals_a_fresh_regeneration(assignment):
    fresh = release_files(COURSE, assignment)
    folder = COURSE.release / assignment
    committed = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
                 if p.is_file() and ".ipynb_checkpoints" not in p.parts}
    assert sorted(committed) == sorted(fresh), f"release/{assignment} is stale: run `autograder release {assignment}`"
    for name, data in fresh.items():
        assert committed[name] == data, f"release/{assignment}/{name} is stale: run `autograder release {assignment}`"


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


def _extra_notebook(cells) -> nbformat.NotebookNode:
    from autograder.authoring import notebook

    return notebook(cells)


def test_a_second_notebook_with_graded_parts_is_refused_not_copied(tmp_path):
    """nbgrader's own documentation example: problem1.ipynb plus problem2.ipynb in one folder."""
    from autograder.authoring import answer, tests

    course = M.build(tmp_path)
    folder = course.source / M.ASSIGNMENT
    nbformat.write(_extra_notebook([
        answer("squares", "def squares(n):\n    ### BEGIN SOLUTION\n    return [i * i for i in range(n)]\n"
                          "    ### END SOLUTION"),
        tests("test_squares", 2, visible="assert squares(2) == [0, 1]",
              hidden="assert squares(4) == [0, 1, 4, 9], 'four squares from zero'"),
    ]), folder / "problem2.ipynb")
    with pytest.raises(ReleaseLeakError) as error:
        release_assignment(course, M.ASSIGNMENT)
    message = str(error.value)
    assert "problem2.ipynb" in message and "test_squares" in message
    assert f"{M.ASSIGNMENT}.ipynb" in message, "the message says where the parts must go"
    assert not (course.release / M.ASSIGNMENT / "problem2.ipynb").exists()


def test_a_second_notebook_without_graded_parts_is_released_through_nbgrader(tmp_path):
    from autograder.authoring import answer, locked, markdown

    course = M.build(tmp_path)
    folder = course.source / M.ASSIGNMENT / "extra"
    folder.mkdir()
    practice = _extra_notebook([
        markdown("# Practice (not graded)"),
        locked("setup", "import math"),
        answer("practice_cube", "def cube(x):\n    ### BEGIN SOLUTION\n    return x * x * x  # the cube, by hand\n"
                                "    ### END SOLUTION"),
    ])
    practice.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="an old output")]
    practice.cells[1].execution_count = 3
    nbformat.write(practice, folder / "practice.ipynb")
    release_assignment(course, M.ASSIGNMENT)
    released = course.release / M.ASSIGNMENT / "extra" / "practice.ipynb"
    text = released.read_text()
    assert "return x * x * x" not in text and "BEGIN SOLUTION" not in text
    assert "raise NotImplementedError()" in text and "an old output" not in text
    assert find_leaks(practice, nbformat.read(released, as_version=4)) == []


def test_a_solution_notebook_without_nbgrader_metadata_is_refused(tmp_path):
    course = M.build(tmp_path)
    solutions = _extra_notebook([nbformat.v4.new_code_cell(
        "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION")])
    nbformat.write(solutions, course.source / M.ASSIGNMENT / "solutions.ipynb")
    with pytest.raises(ReleaseLeakError, match="solutions.ipynb"):
        release_assignment(course, M.ASSIGNMENT)
    assert not (course.release / M.ASSIGNMENT / "solutions.ipynb").exists()


@pytest.mark.parametrize("name, text", [
    ("hints.py", "# a helper shipped with the assignment\n"
                 "np.testing.assert_allclose(float(add(a, b)), a + b, rtol=1e-12)\n"),  # a hidden-test line
    ("notes/answers.md", "The mark scheme:\n=== BEGIN MARK SCHEME ===\nanything\n=== END MARK SCHEME ===\n"),
    ("data/key.txt", "### BEGIN HIDDEN TESTS\n"),
])
def test_every_supporting_file_passes_the_leak_check(tmp_path, name, text):
    course = M.build(tmp_path)
    path = course.source / M.ASSIGNMENT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    before = course.release_notebook(M.ASSIGNMENT).read_text()
    with pytest.raises(ReleaseLeakError) as error:
        release_assignment(course, M.ASSIGNMENT)
    assert name in str(error.value)
    assert not (course.release / M.ASSIGNMENT / name).exists()
    assert course.release_notebook(M.ASSIGNMENT).read_text() == before


def test_harmless_supporting_files_are_copied(tmp_path):
    course = M.build(tmp_path)
    data = course.source / M.ASSIGNMENT / "data"
    data.mkdir()
    (data / "x.txt").write_text("1,2,3\n")
    (data / "blob.bin").write_bytes(bytes(range(256)) * 4)
    release_assignment(course, M.ASSIGNMENT)
    assert (course.release / M.ASSIGNMENT / "data" / "x.txt").read_text() == "1,2,3\n"
    assert (course.release / M.ASSIGNMENT / "data" / "blob.bin").read_bytes() == bytes(range(256)) * 4
