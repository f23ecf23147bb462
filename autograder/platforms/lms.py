"""Grades for an LMS gradebook: Canvas's and Moodle's CSV import formats, from a graded batch.

    autograder lms-export OUT_DIR --lms canvas --roster canvas-export.csv --id-column "SIS Login ID"
    autograder lms-export OUT_DIR --lms moodle --roster roster.csv

OUT_DIR is the output folder of `autograder grade` (its grades.csv). The grade exported is the
whole grade, `total_score` (autograded and hand-given points, after any late penalty), with
`total_max_score` as the points possible; `--score-column` picks another column. The roster maps the grader's
student ids to the LMS's: a CSV with one row per student, a column holding the grader's student id
(`--id-column`, default `student_id`) and the LMS's own columns. The gradebook export of the LMS
itself makes a good roster when the grader's ids are one of its columns (a login, an email).

Canvas (the format its gradebook importer reads; instructure/canvas-lms, lib/gradebook_importer.rb):
the header is `Student, ID, SIS User ID, SIS Login ID, Section`, then one column per assignment,
titled `Title` or `Title (assignment id)`; a row whose first cell is `Points Possible` gives the
points of a new assignment; students are matched by `ID` (Canvas's user id), else by SIS User ID,
SIS Login ID or name. The roster must have `Student` and `ID` (as Canvas's own export has them).

Moodle (grade import from a CSV file; moodle/moodle, grade/import/csv/classes/load_data.php): any
header; on the import page one column is mapped to the user field it holds (user id, ID number,
email address or username) and each grade column to a grade item or a new one. An unknown user
stops the whole import. The file has the roster's user column (`--lms-id-column`, default the first
of `Email address`, `ID number`, `Username`, `User ID` it has) and the grade column.

Every graded student must be on the roster (or pass --skip-unmatched to leave them out, listed);
students on the roster without a grade are left out (their LMS grade is left as it is).
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import UsageError

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_ID_COLUMNS = ["Email address", "ID number", "Username", "User ID"]
LMSES = ("canvas", "moodle")
# The grade an LMS gets is the whole grade (grades.csv `total_score`: autograded and hand-given
# points after the late penalty, the one rule of late.py) out of the whole maximum; another column
# of grades.csv can be chosen, with its own maximum.
MAX_COLUMNS = {"total_score": "total_max_score", "score": "max_score", "raw_score": "max_score"}


@dataclass
class Export:
    text: str
    rows: int
    unmatched: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read_csv(path: Path, what: str) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist ({what})") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"{path} is not a readable UTF-8 CSV file ({what}): {error}") from None


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def read_grades(out_dir: Path, score_column: str) -> tuple[list[dict[str, str]], str]:
    path = Path(out_dir) / "grades.csv"
    rows = _read_csv(path, "the output folder of `autograder grade`")
    if not rows:
        raise UsageError(f"{path} has no rows: grade the assignment first")
    for column in ("student_id", "assignment", score_column):
        if column not in rows[0]:
            raise UsageError(f"{path} has no {column!r} column (it has: {', '.join(rows[0])})")
    assignments = sorted({row["assignment"] for row in rows})
    if len(assignments) != 1:
        raise UsageError(f"{path} holds several assignments ({', '.join(assignments)}); export one output folder "
                         "per assignment")
    return rows, assignments[0]


def read_roster(path: Path, id_column: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    rows = _read_csv(path, "the roster")
    columns = list(rows[0]) if rows else []
    if id_column not in columns:
        raise UsageError(f"the roster {path} has no column {id_column!r} holding the grader's student ids "
                         f"(its columns: {', '.join(columns) or 'none'}); name it with --id-column")
    roster: dict[str, dict[str, str]] = {}
    for row in rows:
        key = (row.get(id_column) or "").strip()
        if not key or key.lower() == "points possible":  # Canvas's export has a points row
            continue
        if key in roster:
            raise UsageError(f"the roster {path} lists {key!r} twice in {id_column!r}; each student once")
        roster[key] = row
    return roster, columns


def export(out_dir: Path, lms: str, roster_path: Path, id_column: str = "student_id", title: str | None = None,
           score_column: str = "total_score", points_possible: float | None = None, lms_id_column: str | None = None,
           skip_unmatched: bool = False) -> Export:
    if lms not in LMSES:
        raise UsageError(f"--lms must be one of {', '.join(LMSES)}")
    grades, assignment = read_grades(out_dir, score_column)
    roster, columns = read_roster(roster_path, id_column)
    title = title or assignment
    unmatched = sorted(row["student_id"] for row in grades if row["student_id"] not in roster)
    if unmatched and not skip_unmatched:
        raise UsageError(f"{len(unmatched)} graded student(s) are not on the roster {roster_path} (by {id_column!r}): "
                         f"{', '.join(unmatched[:10])}{' ...' if len(unmatched) > 10 else ''}. Add them, or pass "
                         "--skip-unmatched to leave them out of the file")
    result = Export("", 0, unmatched)
    pending = [row["student_id"] for row in grades if float(row.get("manual_points_pending") or 0) > 0]
    if pending:
        result.warnings.append(f"{len(pending)} student(s) still have points to be graded by hand: the file holds the "
                               f"{score_column!r} column of grades.csv as it is now")
    try:
        scores = {row["student_id"]: float(row[score_column]) for row in grades}
        maximum = MAX_COLUMNS.get(score_column)
        if points_possible is None and maximum in grades[0]:
            points_possible = max(float(row[maximum] or 0) for row in grades)
    except ValueError as error:
        raise UsageError(f"grades.csv has a value that is not a number: {error}") from None
    graded = [sid for sid in sorted(scores) if sid in roster]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if lms == "canvas":
        missing = [c for c in ("Student", "ID") if c not in columns]
        if missing:
            raise UsageError(f"a Canvas roster needs the columns Student and ID (Canvas's user id), as Canvas's "
                             f"gradebook export has them; {roster_path} lacks {', '.join(missing)}")
        writer.writerow([*CANVAS_COLUMNS, title])
        if points_possible is not None:
            writer.writerow(["Points Possible", "", "", "", "", _number(points_possible)])
        for sid in graded:
            person = roster[sid]
            writer.writerow([*(person.get(c, "") for c in CANVAS_COLUMNS), _number(scores[sid])])
    else:
        lms_id_column = lms_id_column or next((c for c in MOODLE_ID_COLUMNS if c in columns), None)
        if not lms_id_column or lms_id_column not in columns:
            raise UsageError(f"a Moodle roster needs a column identifying the Moodle user ({', '.join(MOODLE_ID_COLUMNS)}"
                             f", or name yours with --lms-id-column); {roster_path} has: {', '.join(columns)}")
        writer.writerow([lms_id_column, title])
        for sid in graded:
            value = (roster[sid].get(lms_id_column) or "").strip()
            if not value:
                raise UsageError(f"{sid!r} has no {lms_id_column!r} in the roster: Moodle would stop the whole import")
            writer.writerow([value, _number(scores[sid])])
    result.text = buffer.getvalue()
    result.rows = len(graded)
    return result


def write(text: str, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(path)
    return path


HOW_TO_IMPORT = {
    "canvas": "In Canvas: Grades > Import, choose this file; a new column creates an assignment with the Points "
              "Possible given (name an existing one as `Title (assignment id)` with --title to fill it instead).",
    "moodle": "In Moodle: Grades > Import > CSV file; map the user column to the user field it holds (email address, "
              "ID number, ...) and the grade column to its grade item or a new one.",
}
