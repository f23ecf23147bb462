"""Hand grades in a batch's outputs: what the grader's one writer does after recording a result,
and `autograder handgrade sync` (re-export after grading in formgrader or importing a file).

For each student the writer keeps the notebook as graded (state/<student>.ipynb, private to
instructors), so the feedback page and formgrader's copy can be rebuilt with hand grades at any
time without running anything again.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder import exports, feedback, formgrader, handgrading
from autograder import results as R
from autograder.errors import UsageError


def graded_notebook_path(out_dir: Path, student_id: str) -> Path:
    return Path(out_dir) / "state" / f"{student_id}.ipynb"


class BatchHandGrading:
    """Everything hand grading needs from one batch; `finish` is called by the writer for each
    result after the gradebook recorded it and before the student's files are written."""

    def __init__(self, out_dir: Path, db_url: str, source_nb, source_dir: Path, assignment: str):
        self.out_dir = Path(out_dir)
        self.db_url = db_url
        self.source_nb = source_nb
        self.assignment = assignment
        self.secret = C.hidden_lines(source_nb)
        formgrader.write_config(self.out_dir, db_url, source_dir)
        self.notebook = handgrading.notebook_id(db_url, assignment)

    def graded_notebook(self, result: R.SubmissionResult, reused: bool):
        path = graded_notebook_path(self.out_dir, result.student_id)
        if result.executed_notebook:
            exports.write_atomic(path, result.executed_notebook)
            nb = nbformat.reads(result.executed_notebook, as_version=4)
            result.executed_notebook = ""  # kept on disk, not in memory for the whole batch
            return nb
        if not reused:  # a new result without a notebook: an old one would be stale
            path.unlink(missing_ok=True)
            return None
        return nbformat.read(path, as_version=4) if path.exists() else None

    def finish(self, result: R.SubmissionResult, previous: R.SubmissionResult | None) -> None:
        reused = previous is result
        graded_nb = self.graded_notebook(result, reused)
        handgrading.reconcile(self.db_url, result, previous, self.notebook)
        self.publish(result, graded_nb)

    def publish(self, result: R.SubmissionResult, graded_nb) -> None:
        """Feedback page and formgrader's copy, with the hand grades now on the result."""
        if graded_nb is not None:
            # render() needs the graded notebook only (its cells carry their roles)
            result.feedback_html = feedback.render(result, graded_nb, graded_nb, self.secret)
        timestamp = formgrader.submission_timestamp(self.db_url, result.assignment, result.student_id)
        formgrader.write_submission(self.out_dir, result, graded_nb, self.source_nb, self.notebook, timestamp)


def load_results(out_dir: Path) -> list[R.SubmissionResult]:
    results = []
    for path in sorted((Path(out_dir) / "state").glob("*.json")):
        try:
            results.append(R.SubmissionResult.from_dict(json.loads(path.read_text())))
        except (ValueError, TypeError, KeyError) as error:
            raise UsageError(f"{path} is not a grading state file ({error}); grade the batch again") from None
    return results


def open_batch(out_dir: Path, course) -> tuple[BatchHandGrading, list[R.SubmissionResult]]:
    """A graded output folder, ready to read and write hand grades."""
    out_dir = Path(out_dir).resolve()
    results = load_results(out_dir) if (out_dir / "state").is_dir() else []
    if not results:
        raise UsageError(f"{out_dir} holds no graded submissions (no state/*.json): grade into it first with "
                         f"`autograder grade ASSIGNMENT SUBMISSIONS --out {out_dir}`")
    assignments = sorted({r.assignment for r in results})
    if len(assignments) != 1:
        raise UsageError(f"{out_dir} holds results of several assignments ({', '.join(assignments)}); "
                         "grade each assignment into a folder of its own")
    assignment = assignments[0]
    course.check_assignment(assignment)
    db_url = formgrader.read_db_url(out_dir) or f"sqlite:///{out_dir}/gradebook.db"
    source_nb = nbformat.read(course.source_notebook(assignment), as_version=4)
    batch = BatchHandGrading(out_dir, db_url, source_nb, course.source, assignment)
    return batch, results


def sync(out_dir: Path, course) -> list[R.SubmissionResult]:
    """Bring the gradebook's hand grades (formgrader's or imported) into every output of a batch."""
    batch, results = open_batch(out_dir, course)
    notebook_name = course.notebook_name(batch.assignment)
    for result in results:
        grades = handgrading.read(batch.db_url, result.assignment, result.student_id, result.parts, batch.notebook)
        handgrading.apply(result, grades)
        path = graded_notebook_path(batch.out_dir, result.student_id)
        batch.publish(result, nbformat.read(path, as_version=4) if path.exists() else None)
        exports.write_student_files(batch.out_dir, result, notebook_name)
    exports.write_results(batch.out_dir, results)
    return results
