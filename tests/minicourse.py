"""A tiny course used by the grader's own tests: quick to run, written by the authoring rules.

`build(root)` writes a course with one assignment, 00-mini, and releases it with the real
release command. Its three autograded parts are worth 2 + 3 + 2 points; a written answer is
worth 1 point by hand, and an nbgrader task cell (with a mark scheme students must never see)
1 point by hand.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder.authoring import answer, locked, markdown, notebook, parameters, task, tests, written
from autograder.layout import Course
from autograder.release import release_assignment

ASSIGNMENT = "00-mini"
MAX_SCORE = 7.0
MARK_SCHEME = "Full marks only if the answer names an empty float array of shape (0,)."

PERFECT = {
    "add": "def add(a, b):\n    return a + b",
    "mean": "def mean_of(xs):\n    return sum(xs) / len(xs)",
    "scale": "import numpy as np\n\ndef scale(values, factor):\n    return np.asarray(values, dtype=float) * factor",
}
WRONG = {
    "add": "def add(a, b):\n    return a - b",
    "mean": "def mean_of(xs):\n    return 0.0",
    "scale": "import numpy as np\n\ndef scale(values, factor):\n    return np.asarray(values, dtype=float)",
}


def source_notebook() -> nbformat.NotebookNode:
    return notebook([
        markdown("# A tiny assignment\n\nThree functions, each with visible and hidden tests."),
        parameters("SEED = 0"),
        locked("imports", "import math\nimport numpy as np"),
        markdown("## Part 1\nWrite `add(a, b)`."),
        answer("add", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"),
        tests("test_add", 2,
              visible="assert add(2, 3) == 5, 'add(2, 3) should be 5'",
              hidden="import numpy as np\nrng = np.random.default_rng(SEED + 1)\n"
                     "for a, b in rng.normal(size=(20, 2)):\n"
                     "    np.testing.assert_allclose(float(add(a, b)), a + b, rtol=1e-12)"),
        markdown("## Part 2\nWrite `mean_of(xs)`."),
        answer("mean", "def mean_of(xs):\n    ### BEGIN SOLUTION\n    return sum(xs) / len(xs)\n    ### END SOLUTION"),
        tests("test_mean", 3,
              visible="assert mean_of([1, 2, 3]) == 2, 'the mean of 1, 2, 3 is 2'",
              hidden="import math\nassert math.isclose(float(mean_of([1.5, 2.5])), 2.0), 'mean of 1.5 and 2.5'\n"
                     "assert math.isclose(float(mean_of([4.0])), 4.0), 'mean of one value'\n"
                     "assert abs(float(mean_of([-1.0, 1.0, 3.0])) - 1.0) < 1e-12, 'mean with negatives'"),
        markdown("## Part 3\nWrite `scale(values, factor)` returning a float array."),
        answer("scale", "import numpy as np\n\ndef scale(values, factor):\n    ### BEGIN SOLUTION\n"
                        "    return np.asarray(values, dtype=float) * factor\n    ### END SOLUTION"),
        tests("test_scale", 2,
              visible="import numpy as np\nnp.testing.assert_allclose(scale([1, 2], 3), [3.0, 6.0])",
              hidden="import numpy as np\ngot = np.asarray(scale([0.5, -2.0, 4.0], 2.0), dtype=float)\n"
                     "assert got.shape == (3,), f'expected shape (3,), got {got.shape}'\n"
                     "np.testing.assert_allclose(got, [1.0, -4.0, 8.0])"),
        *written("why", 1, rubric="Mentions hard-coding.", prompt="In one sentence: why test on fresh inputs?"),
        task("task_edge_cases", 1, "Task: in a cell of your own, call `scale` on an empty list and say what it "
                                   "should return.", mark_scheme=MARK_SCHEME),
    ])


def build(root: Path, source: nbformat.NotebookNode | None = None, assignment: str = ASSIGNMENT) -> Course:
    """A course of one released assignment at `root` (this module's notebook unless `source` is given)."""
    root = Path(root)
    (root / "source" / assignment).mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    nbformat.write(source or source_notebook(), root / "source" / assignment / f"{assignment}.ipynb")
    course = Course(root)
    release_assignment(course, assignment)
    return course


def release_nb(course: Course) -> nbformat.NotebookNode:
    return nbformat.read(course.release_notebook(ASSIGNMENT), as_version=4)


def submission(course: Course, answers: dict[str, str] | None = None, extra_cells: list | None = None,
               after: str | None = None) -> nbformat.NotebookNode:
    """The release with the given answers filled in, plus extra code cells after answer `after`
    (default: at the end)."""
    nb = copy.deepcopy(release_nb(course))
    for cell in nb.cells:
        gid = C.grade_id(cell)
        if answers and gid in answers:
            cell.source = answers[gid]
    extra = [nbformat.v4.new_code_cell(text) for text in (extra_cells or [])]
    if after is None:
        nb.cells.extend(extra)
    else:
        index = next(i for i, c in enumerate(nb.cells) if C.grade_id(c) == after)
        nb.cells[index + 1:index + 1] = extra
    return nb
