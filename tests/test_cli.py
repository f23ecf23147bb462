"""The CLI contract (README.md, "For instructors"): commands, files, columns, JSON fields, exit codes,
statuses."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder import results as R
from autograder import exports
from autograder.exports import GRADES_COLUMNS
from tests import minicourse as M


def run(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600, env={**os.environ, **env} if env else None)


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
    # the task cell is graded by hand; the written answer was left blank: 0, "No response.", not pending;
    # a notebook that could not be read has both still to be graded by hand
    assert all(r["manual_points_pending"] == ("1" if r["status"] == R.GRADED else "2") for r in rows)
    assert all(r["total_max_score"] == "9" for r in rows), "7 autograded + 1 written + 1 task"
    assert "why=no response/1" in by["ada"]["hand_parts"] and "task_edge_cases=pending/1" in by["ada"]["hand_parts"]
    assert (by["ada"]["hand_points"], by["ada"]["total_score"]) == ("0", "7")


def test_gradescope_results_json(graded):
    data = json.loads((graded["out"] / "results" / "ada.json").read_text())
    assert data["score"] == 7
    assert {"score", "tests", "output", "execution_time"} <= set(data)
    autograded = [t for t in data["tests"] if "graded by hand" not in t["name"]]
    assert len(autograded) == 3
    for test in autograded:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] == "passed"
    # the hand-graded parts are there too: the blank answer scored, the task still to be graded
    hand = {t["tags"][0]: t for t in data["tests"] if "graded by hand" in t["name"]}
    assert (hand["why"]["score"], hand["why"]["output"]) == (0, "No response.")
    pending = hand["task_edge_cases"]  # counts 0 until graded, says so, and claims no pass or fail
    assert (pending["score"], pending["max_score"], pending["output"]) == (0, 1, exports.PENDING_OUTPUT)
    assert "status" not in pending
    assert sum(t["max_score"] for t in data["tests"]) == 9
    bob = json.loads((graded["out"] / "results" / "bob.json").read_text())
    assert any(t["status"] == "failed" and t["output"] for t in bob["tests"])


def test_feedback_pages_exist_and_hide_hidden_tests(graded):
    for student in ("ada", "bob", "cy", "dee", "eve"):
        page = (graded["out"] / "feedback" / student / f"{M.ASSIGNMENT}.html").read_text()
        # an unreadable notebook (dee) gets how to fix the file instead of a table of parts
        assert ("How to fix it" if student == "dee" else "<table>") in page and "BEGIN HIDDEN" not in page
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
    # on copies: the module's batch and its output stay as graded for every other test, in any order
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(graded["subs"], subs)
    shutil.copytree(graded["out"], out)
    before = json.loads((out / "state" / "ada.json").read_text())["graded_at"]
    nbformat.write(M.submission(graded["course"], M.PERFECT), subs / "bob" / f"{M.ASSIGNMENT}.ipynb")
    proc = run("--course", graded["course"].root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1")
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
    proc = run("check", nb_path, "--release", graded["course"].root)
    assert proc.returncode == 1, "a visible test failed, so check exits 1\n" + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("add") and "passed" in line for line in lines)
    assert any(line.startswith("mean") and "FAILED" in line for line in lines)
    assert any(line.startswith("scale") and "not attempted" in line for line in lines)
    assert "the mean of 1, 2, 3 is 2" in proc.stdout
    assert "changed" not in proc.stdout, "an untouched notebook gets no warning"
    proc = run("check", tmp_path / "nope.ipynb")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


@pytest.fixture(scope="module")
def course_with_data(tmp_path_factory):
    """A course whose assignment ships data/x.txt, and a student's notebook whose `add` reads it."""
    from autograder.release import release_assignment

    course = M.build(tmp_path_factory.mktemp("check") / "course")
    data = course.source / M.ASSIGNMENT / "data"
    data.mkdir()
    (data / "x.txt").write_text("0\n")
    release_assignment(course, M.ASSIGNMENT)
    return course


READS_DATA = {"add": "def add(a, b):\n    return a + b + int(open('data/x.txt').read())"}


def _student_copy(course, folder, answers, edit=None):
    folder.mkdir(parents=True, exist_ok=True)
    nb = M.submission(course, answers)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if edit and gid in edit:
            cell.source = edit[gid]
    path = folder / f"{M.ASSIGNMENT}.ipynb"
    nbformat.write(nb, path)
    return path


def test_check_runs_the_release_tests_and_files_not_the_students_copy(course_with_data):
    """A student's copy inside the course (a work folder of their own): the release is found from
    the notebook, its visible tests run (not the student's edited ones) with its data files."""
    course = course_with_data
    edited = {"test_mean": "assert True  # I made this pass", "test_scale": "pass"}
    path = _student_copy(course, course.root / "work", {**READS_DATA, "mean": M.WRONG["mean"]}, edited)
    before = path.read_bytes()
    proc = run("check", path, cwd=course.root / "work")
    assert proc.returncode == 1, proc.stderr  # mean fails
    lines = proc.stdout.splitlines()
    assert any(line.startswith("add") and "passed" in line for line in lines), \
        f"data/x.txt of the release is there, as when graded:\n{proc.stdout}"
    assert any(line.startswith("mean") and "FAILED" in line for line in lines), \
        f"the release's test ran, not the student's edited copy:\n{proc.stdout}"
    assert "the contents of 2 test cell(s) have changed" in proc.stdout
    assert "test_mean" in proc.stdout and "test_scale" in proc.stdout
    assert path.read_bytes() == before, "the student's notebook is never modified"
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{M.ASSIGNMENT}.ipynb"], "nothing written beside it"


def test_check_of_the_release_copy_itself_warns_by_checksum(tmp_path):
    """Where the student edits the release's own file (today's README), the original tests are
    gone: nbgrader's checksums still tell which test cells changed."""
    course = M.build(tmp_path / "course")
    path = _student_copy(course, course.release / M.ASSIGNMENT, {"mean": M.WRONG["mean"]},
                         {"test_mean": "assert True"})
    proc = run("check", path, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # add and scale are not attempted
    assert "the contents of 1 test cell(s) have changed (test_mean)" in proc.stdout
    assert "may not hold when graded" in proc.stdout and "work on a copy" in proc.stdout


def test_check_can_be_pointed_at_a_release_folder(course_with_data, tmp_path):
    """A notebook outside any course, renamed: found by --release (a course root or the release
    folder itself, as a student distribution will ship it), matched by its cells."""
    course = course_with_data
    path = _student_copy(course, tmp_path / "mine", READS_DATA)
    renamed = path.with_name("my homework (1).ipynb")
    path.rename(renamed)
    for target in (course.root, course.release):
        proc = run("check", renamed, "--release", target, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr  # only add is answered
        assert any(line.startswith("add") and "passed" in line for line in proc.stdout.splitlines()), proc.stdout
        assert M.ASSIGNMENT in proc.stdout, "the report names the assignment it checked against"
    proc = run("check", renamed, cwd=tmp_path, env={"AUTOGRADER_RELEASE": str(course.release)})
    assert proc.returncode == 1 and "passed" in proc.stdout, proc.stderr


def test_check_without_a_release_says_what_to_do(course_with_data, tmp_path):
    path = _student_copy(course_with_data, tmp_path / "lost", M.PERFECT)
    proc = run("check", path, "--release", tmp_path, cwd=tmp_path)
    assert proc.returncode == 2
    assert "holds no released assignment" in proc.stderr and "release/NN-name/NN-name.ipynb" in proc.stderr, proc.stderr


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
