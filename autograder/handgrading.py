"""Hand-given points: where they live, how they reach every output, and when a regrade keeps them.

Written answers and nbgrader tasks are graded by hand, in nbgrader's formgrader or through an
exported file (handgrade_files.py). Either way the points and comments are stored where
formgrader stores them: the batch's nbgrader gradebook (`Grade.manual_score`,
`Comment.manual_comment`). From there they are applied to each student's result, so grades.csv,
results/*.json, the feedback page and the state agree.

Each hand-graded part carries a fingerprint of the answer that was graded (the written answer, or
for a task the student's cells after it). A regrade keeps the hand-given points only when the
answer's fingerprint is unchanged; otherwise they are cleared in the gradebook and the part needs
hand grading again, everywhere (DESIGN.md, "Hand-given points survive a regrade...").
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


def answers_of(notebook) -> dict[str, str]:
    """What the student wrote for each hand-graded part of an assembled or executed notebook: a
    written answer's cell, or for a task the cells the student added right after it."""
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
        if role == ANSWER_ROLE and gid and C.is_manual(cell):
            answers[gid] = C.source(cell)
        elif gid and C.is_task(cell):
            answers[gid] = ""
            task = gid
    return answers


def fingerprint(text: str) -> str:
    normal = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


def mark_answers(parts: list[R.PartResult], notebook) -> None:
    """Record on each hand-graded part the fingerprint of the answer it grades."""
    answers = answers_of(notebook)
    for part in parts:
        if part.kind == "manual":
            part.answer_hash = fingerprint(answers.get(part.grade_id, ""))


def apply(result: R.SubmissionResult, grades: dict[str, HandGrade]) -> bool:
    """Put hand-given points and comments on the result's parts; True when anything changed."""
    changed = False
    for part in result.parts:
        if part.kind != "manual":
            continue
        grade = grades.get(part.grade_id)
        if grade is None:
            new = (0.0, R.MANUAL, "")
        else:
            new = (float(grade.points), R.HAND_GRADED, grade.comment)
        if (part.points, part.outcome, part.message) != new:
            part.points, part.outcome, part.message = new
            changed = True
    return changed


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


def read(db_url: str, assignment: str, student_id: str, parts: list[R.PartResult],
         notebook: str | None = None) -> dict[str, HandGrade]:
    """Hand grades recorded for a student's hand-graded parts (only those given)."""
    from nbgrader.api import MissingEntry

    notebook = notebook or notebook_id(db_url, assignment)
    found: dict[str, HandGrade] = {}
    with _gradebook(db_url) as gb:
        for part in parts:
            if part.kind != "manual":
                continue
            try:
                grade = gb.find_grade(part.grade_id, notebook, assignment, student_id)
            except MissingEntry:
                continue
            if grade.manual_score is None:
                continue
            try:
                comment = gb.find_comment(part.grade_id, notebook, assignment, student_id).manual_comment or ""
            except MissingEntry:
                comment = ""
            found[part.grade_id] = HandGrade(float(grade.manual_score) + float(grade.extra_credit or 0), comment)
    return found


def write(db_url: str, assignment: str, student_id: str, grades: dict[str, HandGrade | None],
          notebook: str | None = None) -> None:
    """Store hand grades as formgrader does (None clears a part's hand grade)."""
    notebook = notebook or notebook_id(db_url, assignment)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)
        with _gradebook(db_url) as gb:
            for gid, grade in grades.items():
                row = gb.find_grade(gid, notebook, assignment, student_id)
                comment = gb.find_comment(gid, notebook, assignment, student_id)
                if grade is None:
                    row.manual_score = None
                    row.extra_credit = None
                    comment.manual_comment = None
                    row.needs_manual_grade = True
                else:
                    row.manual_score = float(grade.points)
                    row.extra_credit = None
                    comment.manual_comment = grade.comment or None
                    row.needs_manual_grade = False
            gb.db.commit()


def reconcile(db_url: str, result: R.SubmissionResult, previous: R.SubmissionResult | None,
              notebook: str | None = None) -> None:
    """After a (re)grade was recorded: keep hand grades whose answer is unchanged since it was
    graded, clear the others in the gradebook, and apply what is kept to the result."""
    grades = read(db_url, result.assignment, result.student_id, result.parts, notebook)
    before = {p.grade_id: p.answer_hash for p in (previous.parts if previous else []) if p.kind == "manual"}
    stale = {}
    for part in result.parts:
        if part.grade_id in grades and (not part.answer_hash or before.get(part.grade_id) != part.answer_hash):
            stale[part.grade_id] = None
    if stale:
        write(db_url, result.assignment, result.student_id, stale, notebook)
        for gid in stale:
            grades.pop(gid)
        result.notes.append("hand-given points cleared because the answer changed since it was graded by hand: "
                            + ", ".join(sorted(stale)) + " (to be graded by hand again)")
    if grades:  # a kept hand grade needs no grading, whatever the regrade's record said
        _mark_graded(db_url, result.assignment, result.student_id, list(grades), notebook)
    apply(result, grades)


def _mark_graded(db_url: str, assignment: str, student_id: str, grade_ids: list[str], notebook: str | None) -> None:
    notebook = notebook or notebook_id(db_url, assignment)
    with _gradebook(db_url) as gb:
        for gid in grade_ids:
            gb.find_grade(gid, notebook, assignment, student_id).needs_manual_grade = False
        gb.db.commit()
