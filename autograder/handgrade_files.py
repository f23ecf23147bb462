"""Hand grading without formgrader: one CSV file per hand-graded part, filled in and imported.

    autograder handgrade export OUT_DIR     # OUT_DIR/handgrading/<part>.csv
    autograder handgrade import OUT_DIR FILE.csv [...]

Each row is one student's answer to the part, with the part's rubric beside it and columns to fill
in: `points` and `comment` (rows left without points are skipped). An answer left blank is not
pending: its row comes filled in with 0 and "No response." (nbgrader's rule); change them to grade
it anyway, or leave them and the import changes nothing. `answer_fingerprint` ties the
row to the answer that was exported: if a regrade changed that answer since, the row is refused.
An import checks every row of every file first and writes nothing unless all are valid; then the
points go to the gradebook (where formgrader keeps them too) and into every output of the batch.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from autograder import cells as C
from autograder import exports, handgrading
from autograder import results as R
from autograder.errors import UsageError
from autograder.handgrade_batch import bring_into_outputs, inspect, opened

COLUMNS = ["student_id", "part", "points", "max_points", "comment", "answer", "rubric", "answer_fingerprint"]
REQUIRED = ["student_id", "part", "points", "comment", "answer_fingerprint"]
MAX_ERRORS_SHOWN = 20


def export(out_dir: Path, course, to_dir: Path | None = None) -> list[Path]:
    """Write one CSV per hand-graded part; returns the files written."""
    import nbformat

    batch = inspect(out_dir, course)
    results = batch.results
    to_dir = Path(to_dir) if to_dir else batch.out_dir / "handgrading"
    rubrics = {C.grade_id(c): handgrading.rubric_of(c) for c in batch.source_nb.cells
               if C.grade_id(c) and C.is_hand_graded(c)}
    rows: dict[str, list[list[str]]] = {gid: [] for gid in rubrics}
    given_all = handgrading.read_all(batch.db_url, batch.assignment)
    for result in sorted(results, key=lambda r: r.student_id):
        path = batch.out_dir / "state" / f"{result.student_id}.ipynb"  # the notebook as graded (outputs.py)
        answers = handgrading.answers_of(nbformat.read(path, as_version=4)) if path.exists() else {}
        given = given_all.get(result.student_id, {})
        for part in result.parts:
            if part.kind != R.HAND or part.grade_id not in rows:
                continue
            grade = given.get(part.grade_id)
            if grade is None and R.is_blank(result, part):  # graded already: 0, "No response."
                grade = handgrading.HandGrade(0.0, R.NO_RESPONSE_MESSAGE)
            answer = answers.get(part.grade_id)
            if answer is None:
                answer = f"(no answer to show: the submission's status is {result.status}: {result.reason})"
            rows[part.grade_id].append([
                result.student_id, part.grade_id, "" if grade is None else f"{grade.points:g}",
                f"{part.max_points:g}", "" if grade is None else grade.comment, answer.strip(),
                rubrics[part.grade_id], result.answer_fingerprints.get(part.grade_id, ""),
            ])
    written = []
    for gid, part_rows in rows.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(part_rows)
        path = to_dir / f"{gid}.csv"
        exports.write_atomic(path, buffer.getvalue())
        written.append(path)
    return written


@dataclass
class Imported:
    graded: int = 0  # (student, part) pairs given points
    skipped: int = 0  # rows left without points
    no_response: int = 0  # blank answers left at 0, "No response." (nothing to store)
    students: set[str] = field(default_factory=set)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def import_files(out_dir: Path, course, files: list[Path], warn=None) -> Imported:
    """Check every row of every file, then store the hand grades and bring them into every output
    (holding the folder's lock, so no batch changes an answer in between)."""
    with opened(out_dir, course, warn) as batch:
        return _import(batch, files)


def _import(batch, files: list[Path]) -> Imported:
    by_student = {r.student_id: r for r in batch.results}
    errors: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    grades: dict[str, dict[str, handgrading.HandGrade]] = {}
    summary = Imported()
    for file in files:
        file = Path(file)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            errors.append(f"{file}: no such file")
            continue
        except (UnicodeDecodeError, IsADirectoryError) as error:
            errors.append(f"{file}: not a UTF-8 CSV file ({type(error).__name__}); save it as CSV UTF-8")
            continue
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            errors.append(f"{file}: missing column(s) {', '.join(missing)}; the file needs the header row "
                          f"`autograder handgrade export` wrote ({', '.join(COLUMNS)})")
            continue
        for row in reader:
            where = f"{file}:{reader.line_num}"
            student, gid = (row.get("student_id") or "").strip(), (row.get("part") or "").strip()
            points_text, comment = (row.get("points") or "").strip(), (row.get("comment") or "").strip()
            result = by_student.get(student)
            if result is None:
                errors.append(f"{where}: student {student!r} was not graded in {batch.out_dir}")
                continue
            part = next((p for p in result.parts if p.grade_id == gid), None)
            if part is None or part.kind != R.HAND:
                hand = [p.grade_id for p in result.parts if p.kind == R.HAND]
                errors.append(f"{where}: {gid!r} is not a hand-graded part of {result.assignment} "
                              f"(those are: {', '.join(hand) or 'none'})")
                continue
            if (student, gid) in seen:
                errors.append(f"{where}: {student} / {gid} is graded twice (also at {seen[student, gid]})")
                continue
            seen[student, gid] = where
            if not points_text:
                if comment:
                    errors.append(f"{where}: a comment without points for {student} / {gid}: give points too, "
                                  "or clear the comment to leave the part ungraded")
                summary.skipped += 1
                continue
            points = _number(points_text)
            if points is None:
                errors.append(f"{where}: points {points_text!r} for {student} / {gid} is not a number "
                              "(write e.g. 2 or 1.5, with a dot)")
                continue
            if not 0 <= points <= part.max_points:
                errors.append(f"{where}: points {points:g} for {student} / {gid} is outside 0..{part.max_points:g}")
                continue
            if (row.get("answer_fingerprint") or "").strip() != result.answer_fingerprints.get(gid, ""):
                errors.append(f"{where}: the answer of {student} / {gid} changed since this file was exported "
                              "(the submission was graded again): export again and grade the new answer")
                continue
            if part.outcome == R.NO_RESPONSE and points == 0 and comment == R.NO_RESPONSE_MESSAGE:
                summary.no_response += 1  # the blank answer's row as exported: it is graded already
                continue
            grades.setdefault(student, {})[gid] = handgrading.HandGrade(points, comment)
    if errors:
        shown = "\n  ".join(errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise UsageError(f"nothing was imported; fix these rows and import again:\n  {shown}{more}")
    handgrading.write(batch.db_url, batch.assignment, grades, batch.notebook)
    for student, given in grades.items():
        summary.graded += len(given)
        summary.students.add(student)
    bring_into_outputs(batch)
    return summary
