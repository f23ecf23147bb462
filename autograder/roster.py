"""The class roster of an output folder.

An output folder is one class: the union of every student ever graded into it. A student missing
from a later batch's SUBMISSIONS keeps their last result. Only a roster says who is in the class:
`--roster FILE` (one student id per line, or a CSV with a `student_id` column) is kept in the
folder as `roster.txt` and used by every later batch until another one is given. With a roster,
students on it who were never graded get a row with status `absent`, and every row says whether
its student is on the roster (`on_roster` in grades.csv); nobody's result is deleted.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder import results as R
from autograder.errors import UsageError
from autograder.exports import write_atomic

ROSTER_FILE = "roster.txt"


def read_roster(path: Path) -> list[str]:
    """Student ids from a roster file, in the form the grader uses them (see collect.safe_id)."""
    from autograder.collect import safe_id

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the roster {path}: {error}") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if lines and "," in lines[0]:
        reader = csv.DictReader(io.StringIO("\n".join(lines)))
        column = next((c for c in reader.fieldnames or [] if c.strip().lower() in ("student_id", "id", "student")), None)
        if column is None:
            raise UsageError(f"the roster {path} is a CSV file without a student_id column")
        names = [row[column] for row in reader if row.get(column)]
    else:
        names = lines
    ids = sorted({safe_id(name.strip()) for name in names if name.strip()})
    if not ids:
        raise UsageError(f"the roster {path} lists no students (one id per line, or a CSV with student_id)")
    return ids


def load(out_dir: Path) -> list[str] | None:
    path = Path(out_dir) / ROSTER_FILE
    if not path.exists():
        return None
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def save(out_dir: Path, ids: list[str]) -> None:
    write_atomic(Path(out_dir) / ROSTER_FILE, "".join(f"{i}\n" for i in ids))


def absent_results(roster: list[str] | None, graded: set[str], assignment: str,
                   template: list[R.PartResult]) -> list[R.SubmissionResult]:
    """A row for every roster student never graded into the folder (score 0, parts not run)."""
    rows = []
    for student in roster or []:
        if student in graded:
            continue
        parts = [R.PartResult(p.grade_id, p.title, p.kind, 0.0, p.max_points,
                              R.MANUAL if p.kind == "manual" else R.NOT_RUN, "no submission") for p in template]
        rows.append(R.SubmissionResult(student_id=student, assignment=assignment, status=R.ABSENT,
                                       reason="on the roster, but no submission was found", parts=parts))
    return rows
