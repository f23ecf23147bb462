"""Hand grading without formgrader: one CSV file per hand-graded part, filled in and imported.

    autograder handgrade export OUT_DIR     # OUT_DIR/handgrading/<part>.csv
    autograder handgrade import OUT_DIR FILE.csv [...]

Each row is one student's answer to the part, with the part's rubric beside it and columns to fill
in: `points` and `comment` (rows left without points are skipped). `answer_fingerprint` ties the
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
from autograder.errors import UsageError
from autograder.handgrade_batch import graded_notebook_path, open_batch, sync

COLUMNS = ["student_id", "part", "points", "max_points", "comment", "answer", "rubric", "answer_fingerprint"]
REQUIRED = ["student_id", "part", "points", "comment", "answer_fingerprint"]
MAX_ERRORS_SHOWN = 20


def export(out_dir: Path, course, to_dir: Path | None = None) -> list[Path]:
    """Write one CSV per hand-graded part; returns the files written."""
    import nbformat

    batch, results = open_batch(out_dir, course)
    to_dir = Path(to_dir) if to_dir else batch.out_dir / "handgrading"
    rubrics = {C.grade_id(c): handgrading.rubric_of(c) for c in batch.source_nb.cells
               if C.grade_id(c) and C.is_hand_graded(c)}
    rows: dict[str, list[list[str]]] = {gid: [] for gid in rubrics}
    for result in sorted(results, key=lambda r: r.student_id):
        path = graded_notebook_path(batch.out_dir, result.student_id)
        answers = handgrading.answers_of(nbformat.read(path, as_version=4)) if path.exists() else {}
        given = handgrading.read(batch.db_url, result.assignment, result.student_id, result.parts, batch.notebook)
        for part in result.parts:
            if part.kind != "manual" or part.grade_id not in rows:
                continue
            grade = given.get(part.grade_id)
            answer = answers.get(part.grade_id)
            if answer is None:
                answer = f"(no answer to show: the submission's status is {result.status}: {result.reason})"
            rows[part.grade_id].append([
                result.student_id, part.grade_id, "" if grade is None else f"{grade.points:g}",
                f"{part.max_points:g}", "" if grade is None else grade.comment, answer.strip(),
                rubrics[part.grade_id], part.answer_hash,
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
    students: set[str] = field(default_factory=set)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def import_files(out_dir: Path, course, files: list[Path]) -> Imported:
    """Check every row of every file, then store the hand grades and re-export the batch."""
    batch, results = open_batch(out_dir, course)
    by_student = {r.student_id: r for r in results}
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
            if part is None or part.kind != "manual":
                hand = [p.grade_id for p in result.parts if p.kind == "manual"]
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
            if (row.get("answer_fingerprint") or "").strip() != part.answer_hash:
                errors.append(f"{where}: the answer of {student} / {gid} changed since this file was exported "
                              "(the submission was graded again): export again and grade the new answer")
                continue
            grades.setdefault(student, {})[gid] = handgrading.HandGrade(points, comment)
    if errors:
        shown = "\n  ".join(errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise UsageError(f"nothing was imported; fix these rows and import again:\n  {shown}{more}")
    for student, given in grades.items():
        handgrading.write(batch.db_url, batch.assignment, student, dict(given), batch.notebook)
        summary.graded += len(given)
        summary.students.add(student)
    sync(batch.out_dir, course)
    return summary
