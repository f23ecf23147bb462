"""An instructor's own nbgrader course, released and graded through the CLI.

The course is nbgrader's own fixture notebooks (see tests/nbgrader_fixtures.py); each
submission must get the score nbgrader's own tests expect, and the gradebook must say what
nbgrader's gradebook says (max_score with hand-graded points, "No response." for blank answers,
whether hand grading is needed).
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests import nbgrader_fixtures as F


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=900)


def rows(out: Path) -> dict[str, dict]:
    return {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("nbgrader-course")
    root = F.lay_main_course(base / "course")
    released = run("--course", root, "release")
    outs = {}
    for assignment in sorted({case.assignment for case in F.CASES}):
        out = base / "out" / assignment
        proc = run("--course", root, "grade", assignment, root / "submitted", "--out", out, "--workers", "2")
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs[assignment] = out
    return {"root": root, "base": base, "released": released, "outs": outs}


@pytest.mark.slow
def test_release_takes_any_name_and_nbgrader_habits(graded):
    proc, root = graded["released"], graded["root"]
    assert proc.returncode == 0, proc.stderr
    for assignment in F.SOURCES:
        assert (root / "release" / assignment / F.NOTEBOOK).is_file(), proc.stdout
    assert (root / "release" / "relfile" / "data.txt").read_text() == (F.APPS / "data.txt").read_text()
    assert "warning(s)" in proc.stderr and "autograder lint" in proc.stderr
    ps1 = (root / "release" / "ps1" / F.NOTEBOOK).read_text()
    assert "raise NotImplementedError()" in ps1, "nbgrader's default stub without a code_stub in the config"


@pytest.mark.slow
def test_autotest_lines_are_expanded_in_the_release(graded):
    nb = nbformat.read(graded["root"] / "release" / "autotest" / F.NOTEBOOK, as_version=4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_simple")
    assert "AUTOTEST" not in test.source and "assert" in test.source, test.source


@pytest.mark.slow
@pytest.mark.parametrize("case", F.CASES, ids=lambda c: f"{c.assignment}-{c.student}")
def test_each_fixture_scores_what_nbgrader_expects(graded, case):
    row = rows(graded["outs"][case.assignment])[case.student]
    expected = case.ours if case.ours is not None else case.nbgrader_score
    assert row["status"] == "graded", row
    assert float(row["score"]) == expected, (row, case.source)
    assert float(row["total_max_score"]) == case.max_score, row
    with Gradebook(f"sqlite:///{graded['outs'][case.assignment]}/gradebook.db") as gb:
        notebook = gb.find_submission_notebook("p1", case.assignment, case.student)
        assert notebook.score == expected and notebook.max_score == case.max_score


@pytest.mark.slow
def test_blank_hand_graded_answers_score_zero_with_no_response(graded):
    out = graded["outs"]["ps1"]
    with Gradebook(f"sqlite:///{out}/gradebook.db") as gb:
        blank = gb.find_submission_notebook("p1", "ps1", "unchanged")
        assert blank.needs_manual_grade is False
        for cell in ("set_a", "baz", "quux"):
            assert gb.find_comment(cell, "p1", "ps1", "unchanged").comment == "No response."
        answered = gb.find_submission_notebook("p1", "ps1", "changed")
        assert answered.needs_manual_grade is True
        for cell in ("set_a", "baz", "quux"):
            assert gb.find_comment(cell, "p1", "ps1", "changed").comment is None
    by = rows(out)
    assert by["unchanged"]["manual_points_pending"] == "0" and by["changed"]["manual_points_pending"] == "5"
    assert "baz=no response/2" in by["unchanged"]["hand_parts"]
    result = json.loads((out / "state" / "unchanged.json").read_text())
    baz = next(p for p in result["parts"] if p["grade_id"] == "baz")
    assert (baz["outcome"], baz["message"], baz["points"]) == ("no_response", "No response.", 0.0)
    page = next((out / "feedback" / "unchanged").glob("*.html")).read_text()
    assert "no response" in page and "7 points in all" in page


@pytest.mark.slow
def test_changed_test_and_locked_cells_are_restored_with_a_note(graded):
    notes = json.loads((graded["outs"]["ps1"] / "state" / "gradechanged.json").read_text())["notes"]
    assert any("'bar' was changed" in n for n in notes), notes
    notes = json.loads((graded["outs"]["ps1"] / "state" / "lockedchanged.json").read_text())["notes"]
    assert any("'ro1' was changed" in n for n in notes), notes


@pytest.mark.slow
def test_timeout_from_the_course_config(graded):
    root, base = graded["root"], graded["base"]
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.Execute.timeout = 2\n")
    out = base / "out-timeout-2s"
    proc = run("--course", root, "grade", "timeout", root / "submitted", "--out", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = rows(out)["sleeper"]
    assert float(row["score"]) == 0, row  # nbgrader's test_autograde_timeout with --Execute.timeout=2
    assert "timed out" in (out / "state" / "sleeper.json").read_text()


@pytest.mark.slow
def test_hidden_tests_with_the_course_code_stub(tmp_path):
    root = F.lay_stubbed_course(tmp_path / "course")
    proc = run("--course", root, "release")
    assert proc.returncode == 0, proc.stderr
    released = (root / "release" / "hidden" / F.NOTEBOOK).read_text()
    assert F.STUB in released and "NotImplementedError" not in released, "ClearSolutions.code_stub is honoured"
    assert "BEGIN HIDDEN TESTS" not in released
    submitted = F.submit_release(root)
    check = run("--course", root, "check", submitted, "--release", root)
    assert check.returncode == 1, "a visible test failed, so check exits 1\n" + check.stdout + check.stderr
    # nbgrader's validate passes all four; ours all but the test that unbinds a student's name
    assert "visible tests passed in 3 of 4 parts" in check.stdout, check.stdout
    # the submission is the release as handed out (its answers are the fixture's hard-coded lines), so
    # check says what grading says of the failing part: the answer cell still holds the starter code
    assert re.search(r"sum of squares uses squares\s+not attempted", check.stdout), check.stdout
    out = tmp_path / "out"
    proc = run("--course", root, "grade", "hidden", root / "submitted", "--out", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert float(rows(out)["released"]["score"]) == F.HIDDEN_CASE.ours  # nbgrader: 1.5
    parts = {p["grade_id"]: p for p in json.loads((out / "state" / "released.json").read_text())["parts"]}
    # its visible asserts passed in the check: only the hidden ones can have failed it
    assert parts["correct_squares"]["points"] == 0 and parts["correct_squares"]["outcome"] != "passed"
    assert parts["squares_invalid_input"]["outcome"] == "passed"
    assert parts[F.HIDDEN_NAMESPACE_TEST]["points"] == 0  # nbgrader: 0.5 (see HIDDEN_CASE)
    page = (out / "feedback" / "released" / "p1.html").read_text()
    assert "squares(11)" not in page, "hidden tests stay hidden in feedback"


# -- fast: no kernel runs -------------------------------------------------------------------------
def _foreign_course(root: Path, kernelspec: dict) -> Path:
    F._lay(root, {"ps1": (F.APPS / "submitted-unchanged.ipynb", [])}, "")
    path = root / "source" / "ps1" / F.NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = kernelspec
    nbformat.write(nb, path)
    return root


def test_a_notebook_in_another_language_is_refused_as_python_only(tmp_path):
    root = _foreign_course(tmp_path / "course", {"name": "ir", "display_name": "R", "language": "R"})
    proc = run("--course", root, "release")
    assert proc.returncode == 2 and "Python notebooks only" in proc.stderr, proc.stderr
    assert not (root / "release" / "ps1").exists()


def test_other_python_kernel_names_are_graded_as_python(tmp_path):
    root = _foreign_course(tmp_path / "course", {"name": "conda-env-course-py", "display_name": "Python [conda env:course]"})
    proc = run("--course", root, "release")
    assert proc.returncode == 0, proc.stderr
    assert (root / "release" / "ps1" / F.NOTEBOOK).is_file()


def test_lint_lists_nbgrader_habits_as_warnings(tmp_path):
    F._lay(tmp_path / "course", {"envvar": (F.APPS / "validating-environment-variable.ipynb", []),
                                 "ps1": (F.APPS / "submitted-unchanged.ipynb", [])}, "")
    proc = run("--course", tmp_path / "course", "lint")
    assert proc.returncode == 0, proc.stderr
    assert "source/envvar/p1.ipynb: cell 0: every code cell must be locked" in proc.stdout, proc.stdout
    assert "source/ps1/p1.ipynb" in proc.stdout and "needs '### BEGIN SOLUTION' markers" in proc.stdout
    assert "no cell is tagged 'parameters'" in proc.stdout


def test_this_course_style_assignment_keeps_the_strict_rules(tmp_path):
    root = tmp_path / "course"
    F._lay(root, {"01-intro": (F.APPS / "validating-environment-variable.ipynb", [])}, "")
    (root / "source" / "01-intro" / F.NOTEBOOK).rename(root / "source" / "01-intro" / "01-intro.ipynb")
    proc = run("--course", root, "release")
    assert proc.returncode == 2 and "breaks the authoring rules" in proc.stderr, proc.stderr
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.Autograder.authoring_rules = 'nbgrader'\n")
    proc = run("--course", root, "release")
    assert proc.returncode == 0, proc.stderr


def test_several_notebooks_in_one_assignment_are_each_released(tmp_path):
    root = tmp_path / "course"
    F._lay(root, {"ps1": (F.APPS / "submitted-unchanged.ipynb", [])}, "")
    nb = nbformat.read(F.APPS / "open_relative_file.ipynb", as_version=4)
    nbformat.write(nb, root / "source" / "ps1" / "p2.ipynb")
    proc = run("--course", root, "release")
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (root / "release" / "ps1").glob("*.ipynb")} == {"p1.ipynb", "p2.ipynb"}


@pytest.mark.slow
def test_each_notebook_of_an_assignment_is_graded_and_hand_graded_on_its_own(tmp_path):
    """An assignment with two notebooks: `grade` writes a folder per notebook, each with its own
    gradebook under nbgrader's notebook id, and the hand-grading commands work on either folder."""
    root = tmp_path / "course"
    F._lay(root, {"ps1": (F.APPS / "submitted-unchanged.ipynb", [])}, "")
    (root / "source" / "ps1" / "p2.ipynb").write_bytes((F.APPS / "submitted-unchanged.ipynb").read_bytes())
    work = root / "submitted" / "kim" / "ps1"
    work.mkdir(parents=True)
    (work / "p1.ipynb").write_bytes((F.APPS / "submitted-changed.ipynb").read_bytes())
    (work / "p2.ipynb").write_bytes((F.APPS / "submitted-unchanged.ipynb").read_bytes())
    assert run("--course", root, "release").returncode == 0
    out = tmp_path / "out"
    proc = run("--course", root, "grade", "ps1", root / "submitted", "--out", out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert rows(out / "p1")["kim"]["manual_points_pending"] == "5", "p1's written answers were answered"
    assert rows(out / "p2")["kim"]["hand_parts"] == "baz=no response/2 quux=no response/3"
    for notebook in ("p1", "p2"):
        proc = run("--course", root, "handgrade", "export", out / notebook)
        assert proc.returncode == 0, proc.stderr
    baz = {notebook: next(csv.DictReader(open(out / notebook / "handgrading" / "baz.csv")))
           for notebook in ("p1", "p2")}
    assert (baz["p1"]["points"], baz["p2"]["points"], baz["p2"]["comment"]) == ("", "0", "No response.")
    path = out / "p1" / "handgrading" / "baz.csv"
    table = [dict(baz["p1"], points="2", comment="Right.")]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    proc = run("--course", root, "handgrade", "import", out / "p1", path)
    assert proc.returncode == 0, proc.stderr
    assert (rows(out / "p1")["kim"]["hand_points"], rows(out / "p1")["kim"]["manual_points_pending"]) == ("2", "3")
    assert rows(out / "p2")["kim"]["hand_points"] == "0", "the other notebook's grades are its own"
    with Gradebook(f"sqlite:///{out / 'p1'}/gradebook.db") as gb:
        assert gb.find_grade("baz", "p1", "ps1", "kim").manual_score == 2
