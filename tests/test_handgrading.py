"""Hand grading finishes the grade: formgrader's layout, the CSV path, and regrades that keep
hand-given points only for unchanged answers (README.md, "Grade written answers by hand"). Real
grading runs of the mini course, real nbgrader gradebooks and nbgrader's own formgrader API."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import cells as C
from autograder.grade import GradeOptions, grade_assignment
from tests import minicourse as M

WHY_ANSWER = "Fresh inputs catch a function that hard-codes the visible test's answer."
TASK_WORK = "scale([], 2.0)  # an empty float array of shape (0,)"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def written_submission(course, why: str, task_work: str | None = TASK_WORK):
    nb = M.submission(course, M.PERFECT)
    for cell in nb.cells:
        if C.grade_id(cell) == "why":
            cell.source = why
    if task_work:
        index = next(i for i, c in enumerate(nb.cells) if C.grade_id(c) == "task_edge_cases")
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(task_work))
    return nb


def grade(course, subs: Path, out: Path, force: bool = False):
    options = GradeOptions(workers=1, progress=False, force=force)
    return {r.student_id: r for r in grade_assignment(course, M.ASSIGNMENT, subs, out, options, log=lambda *a: None)}


def write_subs(course, subs: Path, notebooks: dict) -> None:
    for student, nb in notebooks.items():
        (subs / student).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, subs / student / f"{M.ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("handgrading")
    course = M.build(base / "course")
    subs = base / "subs"
    write_subs(course, subs, {"ann": written_submission(course, WHY_ANSWER),
                              "bob": written_submission(course, "Because.", task_work=None),
                              "cy": M.submission(course)})
    out = base / "out"
    grade(course, subs, out)
    return {"course": course, "subs": subs, "out": out, "base": base}


@pytest.fixture
def batch(graded, tmp_path):
    """A private copy of the graded batch (output folder, gradebook, submissions) to change."""
    from autograder import formgrader

    out, subs = tmp_path / "out", tmp_path / "subs"
    shutil.copytree(graded["out"], out)
    shutil.copytree(graded["subs"], subs)
    formgrader.write_config(out, f"sqlite:///{out}/gradebook.db", graded["course"].source)
    return {"course": graded["course"], "out": out, "subs": subs}


def rows(out: Path) -> dict[str, dict]:
    return {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}


def manual_grade(out: Path, student: str, part: str):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out}/gradebook.db") as gb:
        grade = gb.find_grade(part, M.ASSIGNMENT, M.ASSIGNMENT, student)
        comment = gb.find_comment(part, M.ASSIGNMENT, M.ASSIGNMENT, student)
        return grade.manual_score, comment.manual_comment, grade.needs_manual_grade


def give_in_gradebook(out: Path, student: str, part: str, points: float, comment: str) -> None:
    """What formgrader's save does: the grade's manual score and the comment, in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out}/gradebook.db") as gb:
        grade = gb.find_grade(part, M.ASSIGNMENT, M.ASSIGNMENT, student)
        grade.manual_score = points
        grade.needs_manual_grade = False
        gb.find_comment(part, M.ASSIGNMENT, M.ASSIGNMENT, student).manual_comment = comment
        gb.db.commit()


def test_written_answers_and_tasks_are_pending_until_graded_by_hand(graded):
    by = rows(graded["out"])
    assert set(by) == {"ann", "bob", "cy"}
    assert by["ann"]["manual_points_pending"] == by["bob"]["manual_points_pending"] == "2", "the answer and the task"
    assert by["cy"]["manual_points_pending"] == "1", "cy left the written answer blank: 0, No response."
    assert by["ann"]["hand_points"] == "0" and by["ann"]["total_max_score"] == f"{M.MAX_SCORE + 2:g}"
    assert by["ann"]["hand_parts"] == "why=pending/1 task_edge_cases=pending/1"
    assert by["cy"]["hand_parts"] == "why=no response/1 task_edge_cases=pending/1"


def test_formgrader_sees_every_graded_submission(graded):
    """nbgrader's own formgrader API, configured by the folder's nbgrader_config.py, lists the
    assignment with its submissions, all autograded, and each opens a notebook with the answer."""
    out = graded["out"]
    script = (
        "import json\n"
        "from nbgrader.apps.api import NbGraderAPI\n"
        "from nbgrader.coursedir import CourseDirectory\n"
        "from traitlets.config.loader import PyFileConfigLoader\n"
        "config = PyFileConfigLoader('nbgrader_config.py', path='.').load_config()\n"
        "api = NbGraderAPI(CourseDirectory(config=config), config=config)\n"
        f"a = api.get_assignment({M.ASSIGNMENT!r})\n"
        f"subs = api.get_submissions({M.ASSIGNMENT!r})\n"
        f"print(json.dumps({{'num': a['num_submissions'], 'autograded': sorted(api.get_autograded_students({M.ASSIGNMENT!r})),"
        " 'needs_manual': sorted(s['student'] for s in subs if s['needs_manual_grade'])}))\n")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run([sys.executable, "-c", script], cwd=out, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {"num": 3, "autograded": ["ann", "bob", "cy"], "needs_manual": ["ann", "bob", "cy"]}
    nb = nbformat.read(out / "autograded" / "ann" / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb", as_version=4)
    texts = [C.source(c) for c in nb.cells]
    answer = next(i for i, c in enumerate(nb.cells) if C.grade_id(c) == "why")
    assert texts[answer] == WHY_ANSWER
    assert "Mentions hard-coding." in texts[answer - 1], "the rubric sits right above the answer"
    assert any(M.MARK_SCHEME in t for t in texts), "the task's mark scheme is shown to the grader"
    assert TASK_WORK in texts, "the student's work on the task is in the notebook"
    assert not any("autograder.enter" in t or "__autograder_done__" in t for t in texts), "no grader machinery"


def test_csv_export_shows_every_answer_with_its_rubric(batch):
    proc = run("--course", batch["course"].root, "handgrade", "export", batch["out"])
    assert proc.returncode == 0, proc.stderr
    folder = batch["out"] / "handgrading"
    assert sorted(p.name for p in folder.iterdir()) == ["task_edge_cases.csv", "why.csv"]
    why = {r["student_id"]: r for r in csv.DictReader(open(folder / "why.csv"))}
    assert why["ann"]["answer"] == WHY_ANSWER and why["ann"]["rubric"] == "Mentions hard-coding."
    assert why["bob"]["answer"] == "Because." and why["ann"]["max_points"] == "1" and why["ann"]["points"] == ""
    task = {r["student_id"]: r for r in csv.DictReader(open(folder / "task_edge_cases.csv"))}
    assert task["ann"]["answer"] == TASK_WORK and task["ann"]["rubric"] == M.MARK_SCHEME
    assert task["bob"]["answer"] == ""
    # a blank written answer is graded already (0, "No response."), so its row is not pending;
    # a task is always graded by hand
    assert (why["cy"]["points"], why["cy"]["comment"]) == ("0", "No response.")
    assert (task["cy"]["points"], task["cy"]["comment"]) == ("", "")


def _fill(path: Path, values: dict[str, tuple[str, str]]) -> None:
    table = list(csv.DictReader(open(path)))
    for row in table:
        if row["student_id"] in values:
            row["points"], row["comment"] = values[row["student_id"]]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)


def test_imported_points_reach_every_output(batch):
    out = batch["out"]
    assert run("--course", batch["course"].root, "handgrade", "export", out).returncode == 0
    _fill(out / "handgrading" / "why.csv", {"ann": ("1", "Names hard-coding: full marks."), "bob": ("0", "Say why.")})
    _fill(out / "handgrading" / "task_edge_cases.csv", {"ann": ("0.5", "Say the dtype too.")})
    proc = run("--course", batch["course"].root, "handgrade", "import", out,
               out / "handgrading" / "why.csv", out / "handgrading" / "task_edge_cases.csv")
    assert proc.returncode == 0, proc.stderr
    assert "imported 3 hand grade(s) for 2 student(s)" in proc.stdout
    by = rows(out)
    assert (by["ann"]["hand_points"], by["ann"]["manual_points_pending"], by["ann"]["total_score"]) == ("1.5", "0", "8.5")
    assert (by["bob"]["hand_points"], by["bob"]["manual_points_pending"]) == ("0", "1")
    assert by["ann"]["score"] == f"{M.MAX_SCORE:g}", "the autograded score is unchanged"
    results = json.loads((out / "results" / "ann.json").read_text())
    assert results["score"] == M.MAX_SCORE + 1.5
    hand = {t["tags"][0]: t for t in results["tests"] if "graded by hand" in t["name"]}
    assert hand["why"]["score"] == 1 and hand["why"]["output"] == "Names hard-coding: full marks."
    assert hand["task_edge_cases"]["score"] == 0.5
    page = (out / "feedback" / "ann" / f"{M.ASSIGNMENT}.html").read_text()
    assert "Names hard-coding: full marks." in page and "Say the dtype too." in page
    assert "1.5 / 2 points graded by hand" in page
    assert WHY_ANSWER in page, "the page still shows the student's notebook"
    assert manual_grade(out, "ann", "why") == (1.0, "Names hard-coding: full marks.", False)
    state = json.loads((out / "state" / "ann.json").read_text())
    assert state["hand_score"] == 1.5


@pytest.mark.parametrize("edit, message", [
    ({"points": "abc"}, "is not a number"),
    ({"points": "5"}, "outside 0..1"),
    ({"student_id": "zed"}, "student 'zed' was not graded"),
    ({"part": "test_add"}, "'test_add' is not a hand-graded part"),
    ({"points": "", "comment": "nice"}, "a comment without points"),
    ({"answer_fingerprint": "0000"}, "changed since this file was exported"),
])
def test_bad_rows_are_refused_with_what_to_fix(batch, edit, message):
    out = batch["out"]
    assert run("--course", batch["course"].root, "handgrade", "export", out).returncode == 0
    path = out / "handgrading" / "why.csv"
    table = list(csv.DictReader(open(path)))
    for row in table:
        row["points"], row["comment"] = "1", "ok"
    table[0].update(edit)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    proc = run("--course", batch["course"].root, "handgrade", "import", out, path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "why.csv:2" in proc.stderr and "nothing was imported" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert all(manual_grade(out, s, "why")[0] is None for s in ("ann", "bob", "cy")), "all or nothing"
    assert all(r["hand_points"] == "0" for r in rows(out).values())


def test_a_file_without_the_columns_is_refused(batch, tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("student,score\nann,1\n")
    proc = run("--course", batch["course"].root, "handgrade", "import", batch["out"], path)
    assert proc.returncode == 2 and "missing column(s) student_id, part, points" in proc.stderr, proc.stderr


def test_sync_brings_formgrader_points_into_every_output(batch):
    out = batch["out"]
    give_in_gradebook(out, "bob", "why", 0.5, "Too short.")
    assert rows(out)["bob"]["hand_points"] == "0", "nothing changes before the re-export"
    proc = run("--course", batch["course"].root, "handgrade", "sync", out)
    assert proc.returncode == 0, proc.stderr
    assert (rows(out)["bob"]["hand_points"], rows(out)["bob"]["manual_points_pending"]) == ("0.5", "1")
    assert "Too short." in (out / "feedback" / "bob" / f"{M.ASSIGNMENT}.html").read_text()


def test_grading_again_brings_formgrader_points_into_every_output_without_regrading(batch):
    """A batch run after hand grading in formgrader grades nobody again (nothing changed) and
    commits each hand-graded student's outputs again as one unit: every output agrees."""
    from tests.agreement import disagreements

    out, subs, course = batch["out"], batch["subs"], batch["course"]
    give_in_gradebook(out, "ann", "why", 0.5, "Half: say why it matters.")
    lines = []
    options = GradeOptions(workers=1, progress=False)
    grade_assignment(course, M.ASSIGNMENT, subs, out, options, log=lines.append)
    assert any("3 unchanged since the last run, 0 to grade" in line for line in lines), lines
    assert any("hand grades given since the last run: 1 student(s) updated" in line for line in lines), lines
    assert (rows(out)["ann"]["hand_points"], rows(out)["ann"]["total_score"]) == ("0.5", f"{M.MAX_SCORE + 0.5:g}")
    assert "Half: say why it matters." in (out / "feedback" / "ann" / f"{M.ASSIGNMENT}.html").read_text()
    assert disagreements(out, M.ASSIGNMENT) == []
    lines.clear()
    grade_assignment(course, M.ASSIGNMENT, subs, out, options, log=lines.append)
    assert not any("hand grades given since" in line for line in lines), "nothing new: nothing committed again"


def test_regrade_keeps_hand_points_only_for_unchanged_answers(batch):
    out, subs, course = batch["out"], batch["subs"], batch["course"]
    give_in_gradebook(out, "ann", "why", 1, "Good.")
    give_in_gradebook(out, "bob", "why", 0, "Say why.")
    # bob resubmits with another written answer; ann's submission is unchanged; everyone is re-graded
    write_subs(course, subs, {"bob": written_submission(course, "Hard-coded answers pass fixed inputs.",
                                                        task_work=None)})
    results = grade(course, subs, out, force=True)
    assert results["ann"].hand_score == 1 and results["ann"].manual_pending == 1
    assert results["bob"].hand_score == 0 and results["bob"].manual_pending == 2
    assert any("cleared because the answer changed" in n for n in results["bob"].notes)
    by = rows(out)
    assert (by["ann"]["hand_points"], by["ann"]["manual_points_pending"]) == ("1", "1")
    assert by["bob"]["manual_points_pending"] == "2"
    assert manual_grade(out, "ann", "why") == (1.0, "Good.", False)
    assert manual_grade(out, "bob", "why") == (None, None, True), "cleared and needing hand grading again"
    assert "Good." in (out / "feedback" / "ann" / f"{M.ASSIGNMENT}.html").read_text()
    assert "Say why." not in (out / "feedback" / "bob" / f"{M.ASSIGNMENT}.html").read_text()
    bob_nb = nbformat.read(out / "autograded" / "bob" / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb", as_version=4)
    assert "Hard-coded answers pass fixed inputs." in [C.source(c) for c in bob_nb.cells], "formgrader shows the new answer"


def _gradebook_row(out: Path, student: str, part: str):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out}/gradebook.db") as gb:
        grade = gb.find_grade(part, M.ASSIGNMENT, M.ASSIGNMENT, student)
        comment = gb.find_comment(part, M.ASSIGNMENT, M.ASSIGNMENT, student)
        return grade.auto_score, grade.manual_score, grade.needs_manual_grade, comment.comment


def _part(out: Path, student: str, gid: str) -> dict:
    return next(p for p in json.loads((out / "state" / f"{student}.json").read_text())["parts"] if p["grade_id"] == gid)


def test_a_blank_answer_scores_zero_and_an_import_can_still_grade_it(batch):
    out, root = batch["out"], batch["course"].root
    assert _gradebook_row(out, "cy", "why") == (0.0, None, False, "No response."), "nbgrader's rule, in the gradebook"
    assert _gradebook_row(out, "bob", "why")[2] is True
    assert run("--course", root, "handgrade", "export", out).returncode == 0
    why = out / "handgrading" / "why.csv"
    proc = run("--course", root, "handgrade", "import", out, why)  # cy's row as exported: nothing changes
    assert proc.returncode == 0, proc.stderr
    assert "imported 0 hand grade(s)" in proc.stdout and "1 blank answer(s) left at 0" in proc.stdout, proc.stdout
    assert _part(out, "cy", "why")["outcome"] == "no_response"
    assert _gradebook_row(out, "cy", "why")[1] is None, "no hand grade stored for an unchanged row"

    _fill(why, {"cy": ("0.5", "Blank here, but the task shows you know why.")})
    proc = run("--course", root, "handgrade", "import", out, why)
    assert proc.returncode == 0, proc.stderr
    by = rows(out)
    assert (by["cy"]["hand_points"], by["cy"]["manual_points_pending"]) == ("0.5", "1")
    assert by["cy"]["hand_parts"] == "why=0.5/1 task_edge_cases=pending/1"
    assert (_part(out, "cy", "why")["outcome"], _part(out, "cy", "why")["points"]) == ("hand_graded", 0.5)
    assert _gradebook_row(out, "cy", "why")[1:3] == (0.5, False)
    hand = {t["tags"][0]: t for t in json.loads((out / "results" / "cy.json").read_text())["tests"]
            if "graded by hand" in t["name"]}
    assert hand["why"]["score"] == 0.5 and "score" not in hand["task_edge_cases"]
    assert "Blank here, but the task shows you know why." in (out / "feedback" / "cy" / f"{M.ASSIGNMENT}.html").read_text()


def test_formgrader_can_grade_a_blank_answer_and_a_regrade_keeps_it(batch):
    out, subs, course = batch["out"], batch["subs"], batch["course"]
    give_in_gradebook(out, "cy", "why", 1, "Answered in the task.")
    proc = run("--course", course.root, "handgrade", "sync", out)
    assert proc.returncode == 0, proc.stderr
    assert (rows(out)["cy"]["hand_points"], rows(out)["cy"]["total_score"]) == ("1", "1")
    results = grade(course, subs, out, force=True)  # the blank answer is unchanged: the hand grade stays
    assert results["cy"].hand_score == 1 and results["cy"].manual_pending == 1
    assert _gradebook_row(out, "cy", "why")[1:3] == (1.0, False)
    # cleared by hand again: back to "No response.", still nothing to grade by hand
    from autograder import handgrading

    handgrading.write(f"sqlite:///{out}/gradebook.db", M.ASSIGNMENT, {"cy": {"why": None}}, M.ASSIGNMENT)
    assert run("--course", course.root, "handgrade", "sync", out).returncode == 0
    assert rows(out)["cy"]["hand_parts"] == "why=no response/1 task_edge_cases=pending/1"
    assert _gradebook_row(out, "cy", "why") == (0.0, None, False, "No response.")


def test_formgrader_command_refuses_a_folder_that_was_not_graded(tmp_path):
    proc = run("formgrader", tmp_path, "--no-browser")
    assert proc.returncode == 2 and "grade into it first" in proc.stderr, proc.stderr
