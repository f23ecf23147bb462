"""Scores into nbgrader's gradebook (SQLite by default, any SQLAlchemy URL), from one writer.

The assignment's cells are registered from the source notebook with nbgrader's own
ComputeChecksums + SaveCells preprocessors, so nbgrader's formgrader and exporters see a normal
course. Each result overwrites that student's auto scores for every part: a re-grade that fails
leaves zeros and a reason, never the previous score.
"""
from __future__ import annotations

import copy
import os
import random
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ComputeChecksums, SaveCells

from autograder import results as R
from autograder.errors import UsageError


def default_url(out_dir) -> str:
    return f"sqlite:///{out_dir}/gradebook.db"


def _retrying(action, attempts: int = 8):
    """Run `action` (which opens its own gradebook session), retrying when another process
    writing the same database at the same time wins a race (duplicate rows being created,
    tables being created, serialization failures)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidRequestError, OperationalError

    for attempt in range(attempts):
        try:
            return action()
        except (IntegrityError, OperationalError, InvalidRequestError, DBAPIError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (2 ** attempt) * (0.5 + random.random()))


class GradebookWriter:
    """The only process of a batch that writes grades. Several batches may write one database
    (PostgreSQL, say) at once: each write is retried if another batch wins a race."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        # nbgrader runs the `alembic` command when it creates a database; make sure the one
        # installed beside this Python is found even when the virtualenv is not activated.
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")

    def register(self, assignment: str, notebook_id: str, source_nb: nbformat.NotebookNode) -> None:
        nb = copy.deepcopy(source_nb)
        resources = {"nbgrader": {"db_url": self.db_url, "assignment": assignment, "notebook": notebook_id}}
        nb, resources = ComputeChecksums().preprocess(nb, resources)
        def create():
            with Gradebook(self.db_url) as gb:
                gb.update_or_create_assignment(assignment)

        _retrying(create)
        try:
            _retrying(lambda: SaveCells().preprocess(copy.deepcopy(nb), resources))
        except RuntimeError as error:
            if "Cannot add or remove cells" not in str(error):
                raise
            raise UsageError(
                f"the gradebook {self.db_url} holds submissions of {assignment} graded against an older "
                "version of its source notebook (cells were added or removed since). Grade into a new "
                "--out folder or --db, or remove that gradebook if its scores are no longer needed."
            ) from None

    def record(self, result: R.SubmissionResult, notebook_id: str) -> None:
        with warnings.catch_warnings():
            # nbgrader's own update_or_create_submission trips SQLAlchemy autoflush warnings
            warnings.simplefilter("ignore", category=Warning)
            _retrying(lambda: self._record(result, notebook_id))

    def _record(self, result: R.SubmissionResult, notebook_id: str) -> None:
        submitted = result.late.get("submitted_at")  # nbgrader's timestamp is when it was handed in
        timestamp = datetime.fromisoformat(submitted) if submitted else datetime.now(timezone.utc)
        timestamp = timestamp.astimezone(timezone.utc).replace(tzinfo=None)
        with Gradebook(self.db_url) as gb:
            if result.late.get("due_at"):
                due = datetime.fromisoformat(result.late["due_at"]).astimezone(timezone.utc).replace(tzinfo=None)
                gb.update_or_create_assignment(result.assignment, duedate=due)
            gb.update_or_create_student(result.student_id)
            gb.update_or_create_submission(result.assignment, result.student_id, timestamp=timestamp)
            by_id = {p.grade_id: p for p in result.parts}
            notebook = gb.find_notebook(notebook_id, result.assignment)
            gb.find_submission_notebook(notebook_id, result.assignment, result.student_id) \
                .late_submission_penalty = result.late_penalty or None
            for grade_cell in notebook.grade_cells:
                grade = gb.find_grade(grade_cell.name, notebook_id, result.assignment, result.student_id)
                part = by_id.get(grade_cell.name)
                if part is not None and part.kind == "manual":
                    grade.auto_score = None
                    grade.needs_manual_grade = result.status == R.GRADED
                else:
                    grade.auto_score = part.points if part is not None else 0.0
                    grade.needs_manual_grade = False
            for solution_cell in notebook.solution_cells:
                comment = gb.find_comment(solution_cell.name, notebook_id, result.assignment, result.student_id)
                comment.auto_comment = None if result.status == R.GRADED else f"{result.status}: {result.reason}"
            gb.db.commit()

    def total(self, assignment: str, student_id: str) -> float:
        with Gradebook(self.db_url) as gb:
            return float(gb.find_submission(assignment, student_id).score)
