"""Hand-given points: what they grade, the one rule that decides whether a regrade keeps them,
and how they reach every output.

Written answers and nbgrader tasks are graded by hand, in nbgrader's formgrader or through an
exported file (handgrade_files.py); an instructor may also override an autograded part in
formgrader. Either way the points and comments are stored where formgrader stores them: the batch's
nbgrader gradebook (`Grade.manual_score`, `Grade.extra_credit`, `Comment.manual_comment`). From
there they are applied to each student's result, so grades.csv, results/*.json, the feedback page
and the commit record agree (gradebook_sync.py). A written answer left blank needs no hand grading:
it scores 0 with "No response." (nbgrader's rule, `results.is_blank`) unless someone gives it a
hand grade anyway.

**Answer fingerprints.** Every result carries `answer_fingerprints`: for each cell of the
gradebook, a fingerprint of what it graded - an answer cell's text, a task's work (the cells the
student added right after it), a test's answers (those of the answer cells it tests). The
gradebook remembers the fingerprints of the result it holds (gradebook.py, `autograder_results`).

**The rule** (README.md, "For instructors": hand-given points survive a regrade only when the graded answer is
unchanged): when a new result is recorded, a cell's hand-given points and comment are kept only if
its fingerprint equals the one the gradebook held; otherwise they are cleared and the part is
marked as needing hand grading again. `survives` is that rule; the gradebook writer applies it in
the same transaction that records the result, and the batch puts what was kept on the result.
"""
from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass

from autograder import cells as C
from autograder import results as R
from autograder.assemble import ANSWER_ROLE, EXTRA_ROLE

_MARK_SCHEME = re.compile(r"=== BEGIN MARK SCHEME ===\n?(.*?)\n?=== END MARK SCHEME ===", re.S)
CLEARED_NOTE = "hand-given points cleared because the answer changed since it was graded by hand"


@dataclass
class HandGrade:
    points: float
    comment: str = ""


def rubric_of(source_cell) -> str:
    """The mark scheme an author wrote into a written answer or task cell ('' when none)."""
    return "\n\n".join(block.strip() for block in _MARK_SCHEME.findall(C.source(source_cell))).strip()


def _role(cell) -> dict:
    value = cell.get("metadata", {}).get("autograder", {})
    return value if isinstance(value, dict) else {}


def answers_of(notebook, hand_graded_only: bool = True) -> dict[str, str]:
    """What the student wrote, by cell name, in an assembled or executed notebook: each answer
    cell's text (only the hand-graded ones unless `hand_graded_only` is False), and for a task the
    cells the student added right after it."""
    answers: dict[str, str] = {}
    task: str | None = None
    for cell in notebook.cells:
        role = _role(cell).get("role")
        if task is not None:
            if role == EXTRA_ROLE:
                answers[task] += (C.source(cell).rstrip() + "\n\n")
                continue
            task = None
        gid = C.grade_id(cell)
        if role == ANSWER_ROLE and gid and (C.is_manual(cell) or not hand_graded_only):
            answers[gid] = C.source(cell)
        elif gid and C.is_task(cell):
            answers[gid] = ""
            task = gid
    return answers


def fingerprint(text: str) -> str:
    """Of an answer's text; trailing spaces and blank lines around it do not count as a change."""
    normal = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


def answer_fingerprints(notebook, parts) -> dict[str, str]:
    """Cell name -> fingerprint of what it graded (see the module docstring). `parts` are the
    assembled notebook's parts: a test part's `answer_ids` are the answers it tests."""
    prints = {gid: fingerprint(text) for gid, text in answers_of(notebook, hand_graded_only=False).items()}
    for part in parts:
        if part.kind == "test":
            joined = "|".join(f"{a}={prints.get(a, 'missing')}" for a in part.answer_ids)
            prints[part.grade_id] = fingerprint(joined)
    return prints


def survives(name: str, held: dict[str, str] | None, new: dict[str, str]) -> bool:
    """The rule: may hand-given points on cell `name` stay when a result with fingerprints `new`
    replaces the one whose fingerprints the gradebook `held`? Yes when the fingerprint is unchanged,
    or when the gradebook held none (a first grading, or a gradebook written by an older grader:
    nothing to compare with, so nothing is thrown away)."""
    return held is None or held.get(name) == new.get(name)


def apply(result: R.SubmissionResult, grades: dict[str, HandGrade]) -> bool:
    """Put the gradebook's hand grades on the result; True when anything changed. A hand-graded
    part gets its points and comment (without a hand grade it is to be graded by hand, or "No
    response." when left blank); an autograded part that an instructor gave other points (an
    override in formgrader) counts those instead of its autograded points, which come back when the
    override is gone."""
    changed = False
    for part in result.parts:
        grade = grades.get(part.grade_id)
        if part.kind == R.HAND:
            if grade is None and R.is_blank(result, part):
                new = (0.0, R.NO_RESPONSE, R.NO_RESPONSE_MESSAGE)
            elif grade is None:
                new = (0.0, R.MANUAL, "graded by hand")
            else:
                new = (float(grade.points), R.HAND_GRADED, grade.comment)
            if (part.points, part.outcome, part.message) != new:
                part.points, part.outcome, part.message = new
                changed = True
            continue
        auto = part.points if part.auto_points is None else part.auto_points
        new_points, new_auto = (auto, None) if grade is None else (float(grade.points), auto)
        if (part.points, part.auto_points) != (new_points, new_auto):
            part.points, part.auto_points = new_points, new_auto
            changed = True
    return changed


def note_cleared(result: R.SubmissionResult, names: list[str]) -> None:
    """Say on the result which hand grades the rule cleared (the feedback and results json show it)."""
    hand = {p.grade_id for p in result.parts if p.kind == "manual"}
    shown = sorted(names, key=lambda n: (n not in hand, n))
    if shown:
        result.notes.append(f"{CLEARED_NOTE}: {', '.join(shown)} (to be graded by hand again)")


# --- the gradebook, where formgrader keeps hand grades -------------------------------------------

def _gradebook(db_url: str):
    from nbgrader.api import Gradebook

    return Gradebook(db_url)


def notebook_id(db_url: str, assignment: str) -> str:
    """The gradebook's name for the assignment's notebook (the grader registers one)."""
    from nbgrader.api import MissingEntry

    with _gradebook(db_url) as gb:
        try:
            names = [nb.name for nb in gb.find_assignment(assignment).notebooks]
        except MissingEntry:
            names = []
    return names[0] if len(names) == 1 else assignment


def grades_in(gb, assignment: str, student_ids=None) -> dict[str, dict[str, HandGrade]]:
    """The hand grades an open gradebook holds for `assignment`: student -> cell name -> grade
    (the cell's score as nbgrader counts it: the manual score, else the autograded one, plus extra
    credit; and the hand-written comment). Only cells given points or extra credit by hand."""
    from nbgrader.api import Assignment, BaseCell, Comment, Grade, SubmittedAssignment, SubmittedNotebook

    def query(*columns):
        q = (gb.db.query(SubmittedAssignment.student_id, BaseCell.name, *columns)
             .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
             .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
             .filter(Assignment.name == assignment))
        if student_ids is not None:
            q = q.filter(SubmittedAssignment.student_id.in_(list(student_ids)))
        return q

    grades = (query(Grade.manual_score, Grade.extra_credit, Grade.auto_score, Grade.score)
              .join(Grade, Grade.notebook_id == SubmittedNotebook.id).join(BaseCell, BaseCell.id == Grade.cell_id)
              .filter(Grade.manual_score.isnot(None) | Grade.extra_credit.isnot(None)).all())
    comments = (query(Comment.manual_comment)
                .join(Comment, Comment.notebook_id == SubmittedNotebook.id).join(BaseCell, BaseCell.id == Comment.cell_id)
                .filter(Comment.manual_comment.isnot(None)).all())
    said = {(student, name): text for student, name, text in comments}
    found: dict[str, dict[str, HandGrade]] = {}
    for student, name, manual, extra, auto, score in grades:
        if manual is None and (not extra or auto is None):  # extra credit alone on an ungraded answer counts 0
            continue
        # nbgrader's own score of the cell: the manual score (else the autograded one) plus extra credit
        found.setdefault(student, {})[name] = HandGrade(float(score), said.get((student, name)) or "")
    return found


def read_all(db_url: str, assignment: str, student_ids=None) -> dict[str, dict[str, HandGrade]]:
    """`grades_in` on the gradebook at `db_url`."""
    with _gradebook(db_url) as gb:
        return grades_in(gb, assignment, student_ids)


def write(db_url: str, assignment: str, grades: dict[str, dict[str, HandGrade | None]],
          notebook: str | None = None) -> None:
    """Store hand grades (student -> cell name -> grade) as formgrader does, all in one transaction
    (None clears a part's hand grade: a written answer is to be graded by hand again, unless it was
    left blank)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    notebook = notebook or notebook_id(db_url, assignment)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=Warning)
            with _gradebook(db_url) as gb:
                for student_id, given in grades.items():
                    for gid, grade in given.items():
                        row = gb.find_grade(gid, notebook, assignment, student_id)
                        comment = gb.find_comment(gid, notebook, assignment, student_id)
                        if grade is None:
                            row.manual_score = None
                            row.extra_credit = None
                            comment.manual_comment = None
                            # to be graded by hand again, unless the grader scored the cell: an
                            # autograded part, or a written answer left blank (0, "No response.")
                            row.needs_manual_grade = row.auto_score is None
                        else:
                            row.manual_score = float(grade.points)
                            row.extra_credit = None
                            comment.manual_comment = grade.comment or None
                            row.needs_manual_grade = False
                gb.db.commit()
    except (OperationalError, DBAPIError) as error:
        from autograder.gradebook import GradebookUnavailable

        raise GradebookUnavailable(f"the gradebook could not store the hand grades ({type(error).__name__}); "
                                   "nothing was stored: run the same command again") from None
