"""nbgrader's own fixture notebooks, laid out as an instructor's nbgrader course.

The notebooks ship in the nbgrader package (`nbgrader/tests/apps/files/` and
`nbgrader/tests/preprocessors/files/`); nbgrader's own tests (tests/apps/test_nbgrader_autograde.py,
tests/test_validator.py) grade them and state the scores below. The course is laid out the way
those tests lay it out: `source/<assignment>/p1.ipynb`, `submitted/<student>/<assignment>/p1.ipynb`,
`autotests.yml` at the root, a plain `nbgrader_config.py`.

Two courses, because nbgrader's hidden-tests test sets a course-wide answer stub
(`ClearSolutions.code_stub = "# YOUR CODE HERE"`) that the other tests do not:
- `main`: ps1 (one source, eight kinds of submission), timeout, envvar, relfile, autotest;
- `stubbed`: hidden (test-hidden-tests.ipynb, its released copy submitted as is).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbgrader

TESTS = Path(nbgrader.__file__).resolve().parent / "tests"
APPS = TESTS / "apps" / "files"
PREPROCESSORS = TESTS / "preprocessors" / "files"
NOTEBOOK = "p1.ipynb"


@dataclass(frozen=True)
class Case:
    assignment: str
    student: str
    fixture: Path
    nbgrader_score: float  # what nbgrader's own tests (or nbgrader's own run, see `source`) give
    max_score: float  # nbgrader's max_score: every point, hand-graded ones included
    ours: float | None = None  # where we are deliberately stricter (see docs/nbgrader-courses.md)
    source: str = "nbgrader's tests"


# assignment -> (source fixture, supporting files)
SOURCES = {
    "ps1": (APPS / "submitted-unchanged.ipynb", []),
    "timeout": (APPS / "timeout.ipynb", []),
    "envvar": (APPS / "validating-environment-variable.ipynb", []),
    "relfile": (APPS / "open_relative_file.ipynb", [APPS / "data.txt"]),
    "autotest": (APPS / "autotest-simple.ipynb", []),
}
STUBBED_SOURCES = {"hidden": (APPS / "test-hidden-tests.ipynb", [APPS / "jupyter.png"])}
STUB = "# YOUR CODE HERE"

CASES = [
    # test_grade: unchanged 1/7 (three "No response." comments), changed 2/7 needing hand grading
    Case("ps1", "unchanged", APPS / "submitted-unchanged.ipynb", 1, 7),
    Case("ps1", "changed", APPS / "submitted-changed.ipynb", 2, 7),
    # test_showtraceback_exploit: hiding tracebacks gains nothing
    Case("ps1", "cheat", APPS / "submitted-cheat-attempt.ipynb", 1, 7),
    Case("ps1", "cheatalt", APPS / "submitted-cheat-attempt-alternative.ipynb", 1, 7),
    # test_validator.py's fixtures: nbgrader autograde overwrites locked cells, and generate_assignment
    # locks grade cells in its gradebook, so an edited cell counts for nothing. A retyped cell
    # (code <-> markdown) costs the whole notebook under stock nbgrader (0 of 7, measured by the
    # benchmark); ours puts the cell type back and grades the rest (1 of 7, as unchanged)
    Case("ps1", "lockedchanged", PREPROCESSORS / "submitted-locked-cell-changed.ipynb", 1, 7,
         source="stock nbgrader autograde (benchmarks/bench_nbgrader_course.py)"),
    Case("ps1", "gradechanged", PREPROCESSORS / "submitted-grade-cell-changed.ipynb", 1, 7,
         source="stock nbgrader autograde (benchmarks/bench_nbgrader_course.py)"),
    Case("ps1", "answertype", PREPROCESSORS / "submitted-answer-cell-type-changed.ipynb", 0, 7, ours=1,
         source="stock nbgrader autograde (benchmarks/bench_nbgrader_course.py)"),
    Case("ps1", "gradetype", PREPROCESSORS / "submitted-grade-cell-type-changed.ipynb", 0, 7, ours=1,
         source="stock nbgrader autograde (benchmarks/bench_nbgrader_course.py)"),
    # test_autograde_timeout: the default timeout lets a 5 s cell finish (Execute.timeout=2: 0, below)
    Case("timeout", "sleeper", APPS / "timeout.ipynb", 1, 1),
    # test_grade_with_validating_envvar: NBGRADER_EXECUTION is set while grading
    Case("envvar", "envcheck", APPS / "validating-environment-variable.ipynb", 0, 1),
    # test_nbgrader_validate.py::test_validate_subdir: passes with its data.txt beside it
    Case("relfile", "reader", APPS / "open_relative_file.ipynb", 10, 10),
    # test_grade_autotest: AUTOTEST lines expanded from autotests.yml
    Case("autotest", "autoblank", APPS / "autotest-simple-unchanged.ipynb", 0, 1),
    Case("autotest", "autoright", APPS / "autotest-simple-changed.ipynb", 1, 1),
]
# test_hidden_tests_single_notebook: the released copy passes its visible tests, scores 1.5 of 3.
# Ours: 1. Its test `sum_of_squares_uses_squares` does `del squares` to see sum_of_squares fail;
# our tests run in a namespace of their own (they cannot bind or unbind the student's names), so
# the student's `squares` stays and that 0.5 is lost (docs/nbgrader-courses.md).
HIDDEN_CASE = Case("hidden", "released", Path("release/hidden/p1.ipynb"), 1.5, 3, ours=1.0)
HIDDEN_NAMESPACE_TEST = "sum_of_squares_uses_squares"


def _lay(root: Path, sources: dict, config: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n" + config)
    for assignment, (notebook, files) in sources.items():
        folder = root / "source" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, folder / NOTEBOOK)
        for extra in files:
            shutil.copyfile(extra, folder / extra.name)
    return root


def lay_main_course(root: Path, cases: list[Case] = CASES) -> Path:
    """The main course with every submission of `cases` under submitted/."""
    _lay(root, SOURCES, "")
    shutil.copyfile(APPS / "autotests.yml", root / "autotests.yml")
    for case in cases:
        target = root / "submitted" / case.student / case.assignment / NOTEBOOK
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case.fixture, target)
    return root


def lay_stubbed_course(root: Path) -> Path:
    """The hidden-tests course (its submission is its own release: copy it after releasing)."""
    return _lay(root, STUBBED_SOURCES, f"c.ClearSolutions.code_stub = dict(python={STUB!r})\n")


def submit_release(root: Path, case: Case = HIDDEN_CASE) -> Path:
    target = root / "submitted" / case.student / case.assignment / NOTEBOOK
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / case.fixture, target)
    return target
