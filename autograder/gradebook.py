"""Scores into nbgrader's gradebook (SQLite by default, any SQLAlchemy URL), from one writer.

The assignment's cells are registered from the source notebook with nbgrader's own
ComputeChecksums + SaveCells preprocessors, so nbgrader's formgrader and exporters see a normal
course. Each result overwrites that student's auto scores for every part: a re-grade that fails
leaves zeros and a reason, never the previous score.

Beside nbgrader's tables the writer keeps one of its own, `autograder_results`: per student, which
committed record the gradebook holds (its digest), the submission it came from, the batch (host
and output folder) that wrote it, and the answer fingerprints of that result (handgrading.py). With it:

* a batch records only the results the gradebook does not hold yet (a batch killed, or a
  database that was down, is caught up by the next run without grading again);
* hand-given points (nbgrader's `manual_score`, `extra_credit` and the hand-written comment, on
  written answers, tasks and overridden autograded parts) survive a regrade only when the answer
  they graded is unchanged (`handgrading.survives`, applied in the transaction that records the
  result); otherwise they are cleared and the part is marked as needing hand grading again
  (`needs_manual_grade`). The hand grades kept are returned, so the batch puts them on the result;
* a batch that replaces a result another batch wrote for a different version of the same
  submission says so (two output folders sharing one PostgreSQL gradebook).

Late work reaches the gradebook as nbgrader keeps it: the assignment's due date, the submission's
timestamp (when it was handed in) and the notebook's `late_submission_penalty`.

A database that cannot be reached, after retries, raises `GradebookUnavailable`.
"""
from __future__ import annotations

import copy
import functools
import json
import logging
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, delete, insert, inspect, select, text
from sqlalchemy.engine import make_url

from autograder import handgrading
from autograder import results as R
from autograder.errors import InfrastructureError, UsageError

RETRY_SECONDS = 6.0


def _not_nbgrader_rollback(record: logging.LogRecord) -> bool:
    # nbgrader logs a traceback for every failed commit before raising; the writer retries and
    # then reports the failure itself, in one line
    return not str(record.msg).startswith("Rolling back session due to database error")


logging.getLogger("tornado.application").addFilter(_not_nbgrader_rollback)

_meta = MetaData()
RECORDS = Table(
    "autograder_results", _meta,
    Column("assignment", String(128), primary_key=True),
    Column("student_id", String(128), primary_key=True),
    Column("record_digest", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("batch", Text, nullable=False),
    Column("answers", Text, nullable=False),
    Column("recorded_at", String(32), nullable=False),
)


class GradebookUnavailable(InfrastructureError):
    """The gradebook database could not be reached or written."""


def default_url(out_dir) -> str:
    return f"sqlite:///{out_dir}/gradebook.db"


def submission_timestamp(result: R.SubmissionResult) -> datetime:
    """When the gradebook says the submission was made (naive UTC, as nbgrader stores it): the time
    it was handed in when known (late.py), else when it was graded. Taken from the result, so the
    gradebook and formgrader's submitted/.../timestamp.txt always agree (formgrader.py)."""
    text = result.late.get("submitted_at") or result.graded_at
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        when = None
    if when is None:
        when = datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).replace(tzinfo=None)


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy knows: say it as given
        return url


def _retrying(action, url: str, what: str, seconds: float = RETRY_SECONDS):
    """Run `action` (which opens its own gradebook session), retrying when another process
    writing the same database at the same time wins a race (duplicate rows being created, tables
    being created, serialization failures) or the database is briefly unreachable. Gives up
    after about `seconds` with GradebookUnavailable."""
    from nbgrader.api import InvalidEntry
    from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidRequestError, OperationalError

    deadline = time.monotonic() + seconds
    attempt = 0
    while True:
        try:
            return action()
        except (IntegrityError, OperationalError, InvalidRequestError, DBAPIError, InvalidEntry) as error:
            if time.monotonic() >= deadline:
                detail = str(getattr(error, "orig", None) or error).strip().splitlines()
                raise GradebookUnavailable(
                    f"the gradebook {shown_url(url)} could not {what} ({type(error).__name__}: "
                    f"{detail[0] if detail else 'no detail'})") from None
            time.sleep(min(1.0, 0.05 * (2 ** attempt)) * (0.5 + random.random()))
            attempt += 1


@dataclass
class Held:
    """What the gradebook holds for one student (from `autograder_results`)."""

    record_digest: str
    content_hash: str
    batch: str
    answers: dict[str, str]
    recorded_at: str


@dataclass
class Recorded:
    """What recording one result did beyond writing its scores."""

    cleared: list[str] = field(default_factory=list)  # grade ids whose hand-given points were cleared
    replaced_other_batch: Held | None = None  # another batch's result for a different submission
    hand: dict[str, handgrading.HandGrade] = field(default_factory=dict)  # hand grades the gradebook now holds


class GradebookWriter:
    """The only process of a batch that writes grades. Several batches may write one database
    (PostgreSQL, say) at once: each write is retried if another batch wins a race."""

    def __init__(self, db_url: str, batch: str = ""):
        self.db_url = db_url
        self.batch = batch
        # nbgrader runs the `alembic` command when it creates a database; make sure the one
        # installed beside this Python is found even when the virtualenv is not activated.
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")

    def _gradebook(self) -> "Gradebook":  # noqa: F821 (nbgrader is imported where a gradebook is opened)
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url)

    def create_schema(self) -> None:
        """nbgrader's tables in a new gradebook, stamped with nbgrader's schema revision as nbgrader
        stamps them, without the `alembic heads` command nbgrader runs for it (a second Python
        that costs seconds of CPU for each new gradebook)."""
        from nbgrader.api import Base

        engine = create_engine(self.db_url)
        try:
            with engine.begin() as connection:
                if inspect(connection).get_table_names():
                    return  # an existing gradebook: nbgrader's own code checks and uses it
                Base.metadata.create_all(connection)
                connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
                connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                                   {"head": nbgrader_schema_head()})
        finally:
            engine.dispose()

    def register(self, assignment: str, notebook_id: str, source_nb: nbformat.NotebookNode) -> None:
        from nbgrader.preprocessors import ComputeChecksums, SaveCells

        nb = copy.deepcopy(source_nb)
        resources = {"nbgrader": {"db_url": self.db_url, "assignment": assignment, "notebook": notebook_id}}
        nb, resources = ComputeChecksums().preprocess(nb, resources)

        def create():
            self.create_schema()
            with self._gradebook() as gb:
                gb.update_or_create_assignment(assignment)
                _meta.create_all(gb.engine, checkfirst=True)

        _retrying(create, self.db_url, "be opened")
        try:
            _retrying(lambda: SaveCells().preprocess(copy.deepcopy(nb), resources), self.db_url,
                      "register the assignment's cells")
        except RuntimeError as error:
            if "Cannot add or remove cells" not in str(error):
                raise
            raise UsageError(
                f"the gradebook {shown_url(self.db_url)} holds submissions of {assignment} graded against an "
                "older version of its source notebook (cells were added or removed since). Grade into a new "
                "--out folder or --db, or remove that gradebook if its scores are no longer needed."
            ) from None

    def add_students(self, student_ids: list[str]) -> None:
        def add():
            with self._gradebook() as gb:
                for student in student_ids:
                    gb.update_or_create_student(student)

        _retrying(add, self.db_url, "add the roster's students")

    def held(self, assignment: str) -> dict[str, Held]:
        """What the gradebook holds for every student of `assignment`."""
        def read():
            engine = create_engine(self.db_url)
            try:
                with engine.connect() as connection:
                    rows = connection.execute(select(RECORDS).where(RECORDS.c.assignment == assignment)).mappings().all()
            finally:
                engine.dispose()
            return {row["student_id"]: _held(row) for row in rows}

        return _retrying(read, self.db_url, "be read")

    def notebook_name(self, assignment: str) -> str:
        """The gradebook's name for the assignment's notebook (formgrader's file name)."""
        return _retrying(lambda: handgrading.notebook_id(self.db_url, assignment), self.db_url, "be read")

    def hand_grades(self, assignment: str) -> dict[str, dict[str, handgrading.HandGrade]]:
        """Every hand grade the gradebook holds for `assignment`, by student and cell."""
        def read():
            with self._gradebook() as gb:
                return handgrading.grades_in(gb, assignment)

        return _retrying(read, self.db_url, "be read")

    def set_record_digest(self, assignment: str, student_id: str, old: str, new: str) -> None:
        """The folder committed a result again with hand grades on it (nothing the gradebook holds
        changed): remember the new record, if the gradebook still holds the old one."""
        def update():
            engine = create_engine(self.db_url)
            try:
                with engine.begin() as connection:
                    connection.execute(RECORDS.update().where(
                        (RECORDS.c.assignment == assignment) & (RECORDS.c.student_id == student_id)
                        & (RECORDS.c.record_digest == old)).values(record_digest=new))
            finally:
                engine.dispose()

        _retrying(update, self.db_url, f"update the record of {student_id}")

    def set_late_penalty(self, result: R.SubmissionResult, notebook_id: str) -> None:
        """The result's late penalty into the gradebook (nbgrader's `late_submission_penalty`),
        after hand grades changed it: the penalty is taken off the whole grade (late.py)."""
        def update():
            with self._gradebook() as gb:
                notebook = gb.find_submission_notebook(notebook_id, result.assignment, result.student_id)
                notebook.late_submission_penalty = result.late_penalty or None
                gb.db.commit()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=Warning)
            _retrying(update, self.db_url, f"update the late penalty of {result.student_id}")

    def record(self, result: R.SubmissionResult, notebook_id: str, record_digest: str = "") -> Recorded:
        with warnings.catch_warnings():
            # nbgrader's own update_or_create_submission trips SQLAlchemy autoflush warnings
            warnings.simplefilter("ignore", category=Warning)
            return _retrying(lambda: self._record(result, notebook_id, record_digest), self.db_url,
                             f"record the result of {result.student_id}")

    def _record(self, result: R.SubmissionResult, notebook_id: str, record_digest: str) -> Recorded:
        outcome = Recorded()
        timestamp = submission_timestamp(result)
        key = (RECORDS.c.assignment == result.assignment) & (RECORDS.c.student_id == result.student_id)
        with self._gradebook() as gb:
            session = gb.db
            query = select(RECORDS).where(key)
            if gb.engine.dialect.name == "postgresql":
                query = query.with_for_update()
            row = session.execute(query).mappings().first()
            held = _held(row) if row else None
            if held and held.batch != self.batch and held.content_hash != result.content_hash:
                outcome.replaced_other_batch = held
            if result.late.get("due_at"):
                due = datetime.fromisoformat(result.late["due_at"]).astimezone(timezone.utc).replace(tzinfo=None)
                gb.update_or_create_assignment(result.assignment, duedate=due)
            gb.update_or_create_student(result.student_id)
            gb.update_or_create_submission(result.assignment, result.student_id, timestamp=timestamp)
            by_id = {p.grade_id: p for p in result.parts}
            notebook = gb.find_notebook(notebook_id, result.assignment)
            gb.find_submission_notebook(notebook_id, result.assignment, result.student_id) \
                .late_submission_penalty = result.late_penalty or None
            before = held.answers if held is not None else None
            new = result.answer_fingerprints
            if not new and held is not None and held.content_hash == result.content_hash:
                new = held.answers  # nothing was assembled (a grader error): the same bytes, the same answers
            for cell in notebook.grade_cells + notebook.task_cells:
                name = cell.name
                grade = gb.find_grade(name, notebook_id, result.assignment, result.student_id)
                kept = handgrading.survives(name, before, new)
                if not kept and (grade.manual_score is not None or grade.extra_credit):
                    grade.manual_score = None
                    grade.extra_credit = None
                    outcome.cleared.append(name)
                part = by_id.get(name)
                if part is not None and part.kind == R.HAND and R.is_blank(result, part):
                    # left blank: nbgrader's "No response.", nothing to grade by hand (a manual score
                    # given in formgrader still overrides it)
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
                elif part is not None and part.kind == R.HAND:
                    grade.auto_score = None
                    grade.needs_manual_grade = result.status == R.GRADED and grade.manual_score is None
                else:
                    grade.auto_score = part.points if part is not None else 0.0
                    if name in outcome.cleared:
                        grade.needs_manual_grade = True
                    elif held is None or not kept:
                        grade.needs_manual_grade = False
            for cell in notebook.solution_cells + notebook.task_cells:
                comment = gb.find_comment(cell.name, notebook_id, result.assignment, result.student_id)
                if result.status != R.GRADED:
                    comment.auto_comment = f"{result.status}: {result.reason}"
                elif cell.name in result.unanswered:
                    comment.auto_comment = R.NO_RESPONSE_MESSAGE
                else:
                    comment.auto_comment = None
                if not handgrading.survives(cell.name, before, new):
                    comment.manual_comment = None
            session.execute(delete(RECORDS).where(key))
            session.execute(insert(RECORDS).values(
                assignment=result.assignment, student_id=result.student_id, record_digest=record_digest,
                content_hash=result.content_hash, batch=self.batch, answers=json.dumps(new),
                recorded_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
            session.flush()
            outcome.hand = handgrading.grades_in(gb, result.assignment, [result.student_id]).get(result.student_id, {})
            session.commit()
        return outcome

    def total(self, assignment: str, student_id: str) -> float:
        with self._gradebook() as gb:
            return float(gb.find_submission(assignment, student_id).score)


@functools.lru_cache(maxsize=None)
def nbgrader_schema_head() -> str:
    """The schema revision of the installed nbgrader (its alembic head), read in this process."""
    import nbgrader
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic")).get_current_head()


def _held(row) -> Held:
    try:
        answers = json.loads(row["answers"])
    except (TypeError, ValueError):
        answers = {}
    return Held(row["record_digest"], row["content_hash"], row["batch"], answers, row["recorded_at"])
