"""Canvas and Moodle gradebook imports from a graded batch (`autograder lms-export`).

The files are read back the way each LMS's importer reads them: Canvas by the header rules of
instructure/canvas-lms lib/gradebook_importer.rb (Student, ID, then SIS User ID and SIS Login ID,
the student columns ending with Section, an optional "Points Possible" row, students matched by
ID), Moodle as grade/import/csv/classes/load_data.php does (one column mapped to a user field,
one to a grade item; "-" or empty is no grade)."""
from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import results as R
from autograder.exports import grades_csv, write_atomic
from tests import minicourse as M

CANVAS_ROSTER = ("Student,ID,SIS User ID,SIS Login ID,Section,Homework 1 (11),Current Score\n"
                 "    Points Possible,,,,,10,(read only)\n"
                 '"Lovelace, Ada",1001,S-17,ada,Section A,9,90\n'
                 '"Babbage, Charles",1002,S-18,bob,Section A,,\n'
                 '"Hopper, Grace",1003,S-19,grace,Section B,10,100\n')
MOODLE_ROSTER = ("student_id,First name,Last name,Email address\n"
                 "ada,Ada,Lovelace,ada@example.edu\nbob,Charles,Babbage,bob@example.edu\n"
                 "grace,Grace,Hopper,grace@example.edu\n")


def graded_folder(folder: Path, scores: dict[str, float], pending: float = 0.0) -> Path:
    """An output folder as `autograder grade` writes it (its own grades.csv writer)."""
    results = []
    for student, score in scores.items():
        parts = [R.PartResult("test_a", "a", "test", score, 7.0, R.PASSED if score == 7 else R.FAILED)]
        if pending:
            parts.append(R.PartResult("why", "why", "manual", 0.0, pending, R.MANUAL))
        results.append(R.SubmissionResult(student, M.ASSIGNMENT, R.GRADED, parts=parts))
    write_atomic(folder / "grades.csv", grades_csv(results))
    return folder


def export(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "lms-export", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def canvas_reads(text: str) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Assignments, points possible and grades by Canvas user id, per Canvas's gradebook importer."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], "row_has_student_headers?"
    assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3])
    student_columns = 5
    assert "Section" in header[student_columns - 1], "the last student column must be Section"
    assignments = header[student_columns:]
    points, grades = {}, {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            points = dict(zip(assignments, row[student_columns:]))
            continue
        for title, value in zip(assignments, row[student_columns:]):
            grades[(row[1], title)] = value
    return assignments, points, grades


def test_canvas_export_reads_as_canvas_imports_it(tmp_path):
    out = graded_folder(tmp_path / "graded", {"ada": 7.0, "bob": 2.5})
    roster = tmp_path / "canvas-export.csv"
    roster.write_text(CANVAS_ROSTER)
    proc = export(out, "--lms", "canvas", "--roster", roster, "--id-column", "SIS Login ID",
                  "--title", "Mini assignment (12)")
    assert proc.returncode == 0, proc.stderr
    assert "Grades > Import" in proc.stdout
    text = (out / "canvas-grades.csv").read_text()
    assignments, points, grades = canvas_reads(text)
    assert assignments == ["Mini assignment (12)"], "Title (id) names an existing Canvas assignment"
    assert points == {"Mini assignment (12)": "7"}
    assert grades == {("1001", "Mini assignment (12)"): "7", ("1002", "Mini assignment (12)"): "2.5"}, \
        "students by Canvas user id; grace (not graded) is left as she is"
    assert '"Lovelace, Ada",1001,S-17,ada,Section A' in text, "names with commas stay one field"


def test_moodle_export_maps_by_email(tmp_path):
    out = graded_folder(tmp_path / "graded", {"ada": 7.0, "bob": 0.0}, pending=2.0)
    roster = tmp_path / "roster.csv"
    roster.write_text(MOODLE_ROSTER)
    proc = export(out, "--lms", "moodle", "--roster", roster, "--output", tmp_path / "moodle.csv")
    assert proc.returncode == 0, proc.stderr
    assert "graded by hand" in proc.stderr, "pending hand-graded points are said out loud"
    rows = list(csv.reader((tmp_path / "moodle.csv").open()))
    assert rows[0] == ["Email address", M.ASSIGNMENT]
    assert rows[1:] == [["ada@example.edu", "7"], ["bob@example.edu", "0"]]


def test_unmatched_students_and_bad_rosters_are_usage_errors(tmp_path):
    out = graded_folder(tmp_path / "graded", {"ada": 7.0, "zed": 1.0})
    roster = tmp_path / "roster.csv"
    roster.write_text(MOODLE_ROSTER)
    proc = export(out, "--lms", "moodle", "--roster", roster)
    assert proc.returncode == 2 and "zed" in proc.stderr and "--skip-unmatched" in proc.stderr
    assert not (out / "moodle-grades.csv").exists()
    proc = export(out, "--lms", "moodle", "--roster", roster, "--skip-unmatched")
    assert proc.returncode == 0 and "left out (not on the roster): zed" in proc.stderr
    assert "zed" not in (out / "moodle-grades.csv").read_text()
    proc = export(out, "--lms", "canvas", "--roster", roster, "--skip-unmatched")
    assert proc.returncode == 2 and "needs the columns Student and ID" in proc.stderr
    proc = export(out, "--lms", "canvas", "--roster", roster, "--id-column", "login")
    assert proc.returncode == 2 and "no column 'login'" in proc.stderr and "Email address" in proc.stderr
    proc = export(tmp_path / "nowhere", "--lms", "canvas", "--roster", roster)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


@pytest.mark.slow
def test_a_graded_batch_goes_to_canvas(tmp_path):
    """From `autograder grade` to Canvas's import, through the CLI contract only."""
    course = M.build(tmp_path / "course")
    subs = tmp_path / "subs"
    for student, answers in {"ada": M.PERFECT, "bob": M.WRONG}.items():
        (subs / student).mkdir(parents=True)
        nbformat.write(M.submission(course, answers), subs / student / f"{M.ASSIGNMENT}.ipynb")
    out = tmp_path / "graded"
    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT,
                           str(subs), "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    roster = tmp_path / "canvas-export.csv"
    roster.write_text(CANVAS_ROSTER)
    proc = export(out, "--lms", "canvas", "--roster", roster, "--id-column", "SIS Login ID")
    assert proc.returncode == 0, proc.stderr
    assignments, points, grades = canvas_reads((out / "canvas-grades.csv").read_text())
    # the whole grade: out of every point, those graded by hand too (2 in the mini course, pending here)
    assert points == {M.ASSIGNMENT: f"{M.MAX_SCORE + 2:g}"}
    assert grades[("1001", M.ASSIGNMENT)] == f"{M.MAX_SCORE:g}" and float(grades[("1002", M.ASSIGNMENT)]) < M.MAX_SCORE
