"""A graded output folder opened for hand grading: `autograder handgrade export|import|sync`.

A command that changes the folder holds its lock (one batch or command at a time), recovers it
like a batch does (outputs.py), records in the gradebook any result it lacks (gradebook_sync.py),
and commits each changed result as one unit, so grades.csv, results/*.json, the feedback pages and
the commit records agree. The gradebook is the one the folder was graded into: the URL the grader
wrote into the folder's nbgrader_config.py (formgrader.py).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import formgrader
from autograder import results as R
from autograder.errors import DISK_ERRORS, UsageError, disk_failure
from autograder.gradebook import GradebookUnavailable, GradebookWriter, default_url
from autograder.gradebook_sync import FolderGradebook
from autograder.lock import OutputLock
from autograder.outputs import OutputFolder, folder_id, load_results
from autograder.release import load_source


@dataclass
class GradedFolder:
    """What the hand-grading commands need of one graded output folder."""

    out_dir: Path
    assignment: str
    db_url: str
    source_nb: nbformat.NotebookNode
    notebook: str  # the gradebook's name for the assignment's notebook
    notebook_file: str  # the submitted notebook's file name (e.g. 01-problem-framing.ipynb)
    folder: OutputFolder | None = None  # opened for writing (under the lock)
    book: FolderGradebook | None = None

    @property
    def results(self) -> list[R.SubmissionResult]:
        if self.folder is not None:
            return [c.result for _, c in sorted(self.folder.committed.items())]
        return load_results(self.out_dir)


def inspect(out_dir: Path, course) -> GradedFolder:
    """A graded output folder, to read (no lock taken)."""
    out_dir = Path(out_dir).resolve()
    results = load_results(out_dir)
    if not results:
        raise UsageError(f"{out_dir} holds no graded submissions (no state/*.json): grade into it first with "
                         f"`autograder grade ASSIGNMENT SUBMISSIONS --out {out_dir}`")
    assignments = sorted({r.assignment for r in results})
    if len(assignments) != 1:
        raise UsageError(f"{out_dir} holds results of several assignments ({', '.join(assignments)}); "
                         "grade each assignment into a folder of its own")
    assignment = assignments[0]
    course.check_assignment(assignment)
    db_url = formgrader.read_db_url(out_dir) or default_url(out_dir)
    notebook = graded_notebook_id(out_dir, assignment)
    if notebook is not None:  # an nbgrader assignment of several notebooks: each has a folder of its own
        course = course.with_notebook(f"{notebook}.ipynb")
    else:
        notebook = GradebookWriter(db_url).notebook_name(assignment)  # GradebookUnavailable when it is down
    source_nb = load_source(course, assignment)  # as grading read it: autotests expanded, the course's stubs
    return GradedFolder(out_dir, assignment, db_url, source_nb, notebook, course.notebook_name(assignment))


def graded_notebook_id(out_dir: Path, assignment: str) -> str | None:
    """Which notebook of the assignment the folder graded (formgrader's copies are named after it);
    None when that cannot be told."""
    names = {p.stem for p in Path(out_dir).glob(f"autograded/*/{assignment}/*.ipynb")}
    return names.pop() if len(names) == 1 else None


@contextmanager
def opened(out_dir: Path, course, warn=None):
    """A graded output folder opened for writing: locked, recovered, its gradebook caught up."""
    graded = inspect(out_dir, course)
    warn = warn or (lambda message: None)
    try:
        lock = OutputLock(graded.out_dir).__enter__()
    except OSError as error:
        raise disk_failure(error, graded.out_dir) from None
    try:
        graded.folder = OutputFolder(graded.out_dir, graded.assignment, graded.notebook_file,
                                     graded.source_nb, graded.notebook)
        graded.folder.recover()
        writer = GradebookWriter(graded.db_url, batch=folder_id(graded.out_dir))
        graded.book = FolderGradebook(graded.folder, writer, graded.notebook, warn)
        graded.book.catch_up()
        _raise_if_down(graded)
        yield graded
    except OSError as error:
        if error.errno not in DISK_ERRORS:
            raise
        raise disk_failure(error, graded.out_dir) from None
    finally:
        lock.__exit__()


def _raise_if_down(graded: GradedFolder) -> None:
    if graded.book.error is not None:
        raise GradebookUnavailable(f"{graded.book.error}; nothing was changed: start it and run the same command "
                                   "again")


def bring_into_outputs(graded: GradedFolder) -> list[str]:
    """Hand grades from the gradebook into every output; returns the students whose outputs changed."""
    changed = graded.book.bring_hand_grades()
    _raise_if_down(graded)
    graded.folder.write_csv()
    report = graded.out_dir / "report.html"
    if changed and report.exists():
        from autograder.report import write_report

        write_report(graded.out_dir)
    return changed


def sync(out_dir: Path, course, warn=None) -> list[R.SubmissionResult]:
    """`autograder handgrade sync`: the gradebook's hand grades (formgrader's or imported) into every
    output of the folder."""
    with opened(out_dir, course, warn) as graded:
        bring_into_outputs(graded)
        return graded.results
