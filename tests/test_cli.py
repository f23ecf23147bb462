"""The CLI contract of DESIGN.md: commands, files, columns, JSON fields, exit codes, statuses."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import nbformat
import pytest

from autograder import results as R
from autograder.exports import GRADES_COLUMNS
from tests import minicourse as M


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    course = M.build(base / "course")
    subs = base / "subs"
    for student, answers in {"ada": M.PERFECT, "bob": M.WRONG, "cy": None}.items():
        (subs / student).mkdir(parents=True)
        nbformat.write(M.submission(course, answers), subs / student / f"{M.ASSIGNMENT}.ipynb")
    (subs / "dee.ipynb").write_text("{broken")
    nested = subs / "eve" / M.ASSIGNMENT
    nested.mkdir(parents=True)  # nbgrader's submitted/<student>/<assignment>/ layout
    nbformat.write(M.submission(course, M.PERFECT), nested / f"{M.ASSIGNMENT}.ipynb")
    out = base / "out"
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "2")
    return {"proc": proc, "out": out, "course": course, "subs": subs, "base": base}


def test_grade_exits_zero_and_prints_the_table(graded):
    proc = graded["proc"]
    assert proc.returncode == 0, proc.stderr
    assert "student" in proc.stdout and "ada" in proc.stdout
    assert "isolation:" in proc.stderr


def test_grades_csv_columns_and_rows(graded):
    rows = list(csv.DictReader(open(graded["out"] / "grades.csv")))
    assert list(rows[0].keys()) == GRADES_COLUMNS
    by = {r["student_id"]: r for r in rows}
    assert set(by) == {"ada", "bob", "cy", "dee", "eve"}
    assert float(by["ada"]["score"]) == 7 and float(by["ada"]["max_score"]) == 7
    assert float(by["eve"]["score"]) == 7, "nbgrader's submitted/ layout is accepted"
    assert float(by["cy"]["score"]) == 0 and by["cy"]["status"] == R.GRADED
    assert float(by["bob"]["score"]) < 7
    assert by["dee"]["status"] == R.INVALID_NOTEBOOK and by["dee"]["reason"]
    assert all(r["manual_points_pending"] == "1" for r in rows)


def test_gradescope_results_json(graded):
    data = json.loads((graded["out"] / "results" / "ada.json").read_text())
    assert data["score"] == 7
    assert {"score", "tests", "output", "execution_time"} <= set(data)
    assert len(data["tests"]) == 3
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] == "passed"
    bob = json.loads((graded["out"] / "results" / "bob.json").read_text())
    assert any(t["status"] == "failed" and t["output"] for t in bob["tests"])


def test_feedback_pages_exist_and_hide_hidden_tests(graded):
    for student in ("ada", "bob", "cy", "dee", "eve"):
        page = (graded["out"] / "feedback" / student / f"{M.ASSIGNMENT}.html").read_text()
        assert "<table>" in page and "BEGIN HIDDEN" not in page
    cy = (graded["out"] / "feedback" / "cy" / f"{M.ASSIGNMENT}.html").read_text()
    assert "not attempted" in cy


def test_submissions_are_never_modified(graded):
    before = {p: p.read_bytes() for p in graded["subs"].rglob("*") if p.is_file()}
    proc = run("--course", graded["course"].root, "grade", M.ASSIGNMENT, graded["subs"], "--out",
               graded["base"] / "out-again", "--workers", "1", "--quiet")
    assert proc.returncode == 0
    after = {p: p.read_bytes() for p in graded["subs"].rglob("*") if p.is_file()}
    assert before == after


def test_rerun_reuses_unchanged_results_and_regrades_changed_ones(graded, tmp_path):
    out = graded["out"]
    before = json.loads((out / "state" / "ada.json").read_text())["graded_at"]
    nbformat.write(M.submission(graded["course"], M.PERFECT), graded["subs"] / "bob" / f"{M.ASSIGNMENT}.ipynb")
    proc = run("--course", graded["course"].root, "grade", M.ASSIGNMENT, graded["subs"], "--out", out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "unchanged since the last run" in proc.stderr
    assert json.loads((out / "state" / "ada.json").read_text())["graded_at"] == before
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert float(rows["bob"]["score"]) == 7, "a changed submission is graded again"
    assert len(rows) == 5


def test_usage_errors_exit_2_with_a_message(graded, tmp_path):
    course = graded["course"].root
    proc = run("--course", course, "grade", "99-nothing", graded["subs"], "--out", tmp_path / "x")
    assert proc.returncode == 2 and "unknown assignment" in proc.stderr
    proc = run("--course", course, "grade", M.ASSIGNMENT, tmp_path / "missing", "--out", tmp_path / "x")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = run("--course", course, "grade", M.ASSIGNMENT, graded["subs"], "--workers", "0")
    assert proc.returncode == 2 and "must be positive" in proc.stderr
    proc = run("grade", M.ASSIGNMENT, graded["subs"], cwd=tmp_path)
    assert proc.returncode == 2 and "no course found" in proc.stderr


def test_check_reports_each_part(graded, tmp_path):
    nb_path = tmp_path / f"{M.ASSIGNMENT}.ipynb"
    nbformat.write(M.submission(graded["course"], {"add": M.PERFECT["add"], "mean": M.WRONG["mean"]}), nb_path)
    proc = run("check", nb_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("add") and "passed" in line for line in lines)
    assert any(line.startswith("mean") and "FAILED" in line for line in lines)
    assert any(line.startswith("scale") and "not attempted" in line for line in lines)
    assert "the mean of 1, 2, 3 is 2" in proc.stdout
    proc = run("check", tmp_path / "nope.ipynb")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_a_failed_regrade_never_leaves_the_old_score(graded, tmp_path):
    """A submission that was fine and is now broken gets a zero and a reason, not its old score."""
    out = tmp_path / "out"
    subs = tmp_path / "subs"
    (subs / "zoe").mkdir(parents=True)
    nb_path = subs / "zoe" / f"{M.ASSIGNMENT}.ipynb"
    nbformat.write(M.submission(graded["course"], M.PERFECT), nb_path)
    args = ["--course", graded["course"].root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1", "--quiet"]
    assert run(*args).returncode == 0
    assert json.loads((out / "results" / "zoe.json").read_text())["score"] == 7
    nb_path.write_text("{ this is not json")
    assert run(*args).returncode == 0
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["zoe"]["status"] == R.INVALID_NOTEBOOK and float(rows["zoe"]["score"]) == 0
    assert json.loads((out / "results" / "zoe.json").read_text())["score"] == 0
    from autograder.gradebook import GradebookWriter

    assert GradebookWriter(f"sqlite:///{out}/gradebook.db").total(M.ASSIGNMENT, "zoe") == 0
