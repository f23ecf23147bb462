"""Late work: due dates and the late policy from the course config, submission times from
nbgrader's timestamp.txt, an LMS CSV or the file's time; shown on the row and the feedback page."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import nbformat
import pytest

from autograder import late
from autograder.errors import UsageError
from tests import minicourse as M

DUE = datetime(2027, 2, 5, 17, 0, tzinfo=timezone.utc)
CONFIG = f"""c = get_config()
c.Autograder.due_dates = {{"{M.ASSIGNMENT}": "2027-02-05 18:00"}}
c.Autograder.timezone = "Europe/Berlin"
c.Autograder.late_policy = "per_hour"
c.Autograder.late_penalty = 0.5
c.Autograder.late_cutoff_hours = 48
"""


def _stamp(when: datetime) -> str:  # as nbgrader's submit writes it
    return when.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def run(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("late")
    course = M.build(base / "course")
    (course.root / "nbgrader_config.py").write_text(CONFIG)
    subs = base / "submitted"
    times = {"ontime": DUE - timedelta(minutes=5), "late": DUE + timedelta(hours=4, minutes=10),
             "toolate": DUE + timedelta(days=3), "unknown": None}
    for student, when in times.items():
        folder = subs / student / M.ASSIGNMENT  # nbgrader's submitted/<student>/<assignment>/ layout
        folder.mkdir(parents=True)
        nbformat.write(M.submission(course, M.PERFECT), folder / f"{M.ASSIGNMENT}.ipynb")
        if when is not None:
            (folder / "timestamp.txt").write_text(_stamp(when))
    out = base / "out"
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "2")
    return {"proc": proc, "out": out, "course": course, "subs": subs, "base": base}


def _rows(out):
    return {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}


def test_penalty_per_started_hour_on_the_row(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr
    rows = _rows(batch["out"])
    assert float(rows["ontime"]["score"]) == M.MAX_SCORE and float(rows["ontime"]["late_penalty"]) == 0
    # 4 h 10 min late: 5 started hours at 0.5 points
    assert float(rows["late"]["raw_score"]) == M.MAX_SCORE
    assert float(rows["late"]["late_penalty"]) == 2.5
    assert float(rows["late"]["score"]) == M.MAX_SCORE - 2.5
    assert rows["late"]["due_at"].startswith("2027-02-05T17:00:00")  # 18:00 in Berlin is 17:00 UTC
    assert rows["late"]["submitted_at"].startswith("2027-02-05T21:10:00")
    assert float(rows["late"]["hours_late"]) == pytest.approx(4 + 10 / 60, abs=0.01)
    # past the 48 h cut-off: zero
    assert float(rows["toolate"]["score"]) == 0 and float(rows["toolate"]["raw_score"]) == M.MAX_SCORE
    # no timestamp.txt: never counted late, and the row says it is unknown
    assert float(rows["unknown"]["score"]) == M.MAX_SCORE and rows["unknown"]["submitted_at"] == ""


def test_results_json_score_is_after_the_penalty(batch):
    data = json.loads((batch["out"] / "results" / "late.json").read_text())
    assert data["score"] == M.MAX_SCORE - 2.5
    assert "4 h 10 min after the due date" in data["output"] and "2.5 points off" in data["output"]


def test_feedback_page_says_when_and_how_late(batch):
    page = (batch["out"] / "feedback" / "late" / f"{M.ASSIGNMENT}.html").read_text()
    assert "4 h 10 min after the due date 2027-02-05 17:00 UTC" in page
    assert "2.5 points off (0.5 points off per started hour late, zero when more than 48 h late)" in page
    ontime = (batch["out"] / "feedback" / "ontime" / f"{M.ASSIGNMENT}.html").read_text()
    assert "on time" in ontime
    unknown = (batch["out"] / "feedback" / "unknown" / f"{M.ASSIGNMENT}.html").read_text()
    assert "submission time unknown" in unknown


def test_lms_csv_times_replace_timestamps_and_regrade(batch):
    """A CSV from the LMS gives other times: the rows change (the late facts are part of the reuse key)."""
    lms = batch["base"] / "moodle.csv"
    with open(lms, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID number", "Last modified (submission)"])
        writer.writerow(["ontime", "Saturday, 6 February 2027, 5:30 PM"])  # Berlin time given as UTC: 24.5 h late
        writer.writerow(["unknown", "2027-02-05 16:00"])
    proc = run("--course", batch["course"].root, "grade", M.ASSIGNMENT, batch["subs"], "--out", batch["out"],
               "--workers", "2", "--times", lms, "--quiet")
    assert proc.returncode == 0, proc.stderr
    rows = _rows(batch["out"])
    assert float(rows["ontime"]["late_penalty"]) == min(M.MAX_SCORE, 25 * 0.5)
    assert rows["unknown"]["submitted_at"].startswith("2027-02-05T16:00") and float(rows["unknown"]["score"]) == 7
    assert float(rows["late"]["late_penalty"]) == 2.5, "students missing from the CSV keep their timestamp.txt"
    page = (batch["out"] / "feedback" / "ontime" / f"{M.ASSIGNMENT}.html").read_text()
    assert "from moodle.csv" in page


def test_file_time_when_asked(tmp_path):
    folder = tmp_path / "ada"
    folder.mkdir()
    nb = folder / "a.ipynb"
    nb.write_text("{}")
    when = (DUE + timedelta(days=1, minutes=1)).timestamp()
    os.utime(nb, (when, when))

    class Sub:
        student_id, origin, files = "ada", "ada", {}

    policy = late.Policy(due=DUE.isoformat(), method="per_day", penalty=10, unit="percent")
    facts = late.batch_facts(policy, [Sub()], tmp_path, "mtime")["ada"]
    assert facts["source"] == "file time" and facts["seconds_late"] == 86460
    assert late.penalty(facts, 7.0, 10.0) == 2.0  # 2 started days at 10% of 10 points
    assert late.batch_facts(policy, [Sub()], tmp_path, None)["ada"]["submitted_at"] == "", \
        "the file's time is used only when asked for"


@pytest.mark.parametrize("method,hours,expected", [
    ("none", 100, 0.0), ("per_day", 0.01, 1.0), ("per_day", 24.5, 2.0), ("zero_after", 0.01, 6.0),
    ("per_hour", 0.0, 0.0),
])
def test_policies(method, hours, expected):
    policy = late.Policy(due=DUE.isoformat(), method=method, penalty=1.0)
    facts = late.assess(policy, DUE + timedelta(hours=hours), "timestamp.txt")
    assert late.penalty(facts, 6.0, 10.0) == expected
    assert late.penalty(facts, 0.5, 10.0) <= 0.5, "a penalty never takes the score below zero"


def test_nbgrader_late_settings_are_honoured(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Autograder.due_dates = {'01-x': '2027-01-01 00:00'}\n"
        "c.AssignLatePenalties.plugin_class = 'nbgrader.plugins.latesubmission.SubMarks'\n"
        "c.SubMarks.penalty_per_hour = 2\n")
    policy = late.course_policy(tmp_path, "01-x")
    assert (policy.method, policy.penalty) == ("per_hour", 2.0)
    assert late.course_policy(tmp_path, "02-other").due == "", "an assignment without a due date is never late"


def test_bad_config_is_a_usage_error(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Autograder.due_dates = {'01-x': 'next friday-ish'}\n")
    with pytest.raises(UsageError, match="is not a date"):
        late.course_policy(tmp_path, "01-x")
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.Autograder.late_policy = 'harsh'\n")
    with pytest.raises(UsageError, match="none, per_hour, per_day, zero_after"):
        late.course_policy(tmp_path, "01-x")


# --- one late rule for the whole grade, hand-given points included ------------------------------

ZERO_CONFIG = f"""c = get_config()
c.Autograder.due_dates = {{"{M.ASSIGNMENT}": "2027-02-05 17:00"}}
c.Autograder.late_policy = "per_hour"
c.Autograder.late_penalty = 0.5
c.Autograder.late_cutoff_hours = 48
"""
WHY = "Fresh inputs catch a function that hard-codes the visible test's answer."


def _with_written_answers(course):
    from autograder import cells as C

    nb = M.submission(course, M.PERFECT)
    for cell in nb.cells:
        if C.grade_id(cell) == "why":
            cell.source = WHY
    index = next(i for i, c in enumerate(nb.cells) if C.grade_id(c) == "task_edge_cases")
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell("scale([], 2.0)  # an empty float array of shape (0,)"))
    return nb


def _fill(path, points: dict[str, str]) -> None:
    table = list(csv.DictReader(open(path)))
    for row in table:
        if row["student_id"] in points:
            row["points"], row["comment"] = points[row["student_id"]], "graded"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)


@pytest.fixture(scope="module")
def hand_graded_late(tmp_path_factory):
    """Late submissions graded, then given their hand points with `handgrade import`: 4 h 10 min
    late (5 started hours at 0.5 points) and 3 days late (past the 48 h cut-off: zero)."""
    base = tmp_path_factory.mktemp("late-hand")
    course = M.build(base / "course")
    (course.root / "nbgrader_config.py").write_text(ZERO_CONFIG)
    subs = base / "submitted"
    for student, when in {"late": DUE + timedelta(hours=4, minutes=10), "toolate": DUE + timedelta(days=3)}.items():
        folder = subs / student / M.ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(_with_written_answers(course), folder / f"{M.ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text(_stamp(when))
    out = base / "out"
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    before = _rows(out)
    assert run("--course", course.root, "handgrade", "export", out).returncode == 0
    _fill(out / "handgrading" / "why.csv", {"late": "1", "toolate": "1"})
    _fill(out / "handgrading" / "task_edge_cases.csv", {"late": "1", "toolate": "1"})
    proc = run("--course", course.root, "handgrade", "import", out, out / "handgrading" / "why.csv",
               out / "handgrading" / "task_edge_cases.csv")
    assert proc.returncode == 0, proc.stderr
    return {"out": out, "course": course, "before": before, "base": base}


def test_the_penalty_is_taken_off_the_whole_grade_hand_points_included(hand_graded_late):
    """nbgrader's rule: the penalty is computed on the notebook's score (autograded and hand-given
    points) and never more than it; zero after the cut-off is zero, hand points included."""
    rows = _rows(hand_graded_late["out"])
    late_row, zero = rows["late"], rows["toolate"]
    total_max = M.MAX_SCORE + 2
    assert float(late_row["hand_points"]) == 2 and float(late_row["total_max_score"]) == total_max
    assert float(late_row["late_penalty"]) == 2.5
    assert float(late_row["total_score"]) == M.MAX_SCORE + 2 - 2.5
    assert float(late_row["score"]) == M.MAX_SCORE - 2.5, "the penalty comes off the autograded points first"
    assert float(zero["hand_points"]) == 2
    assert float(zero["total_score"]) == 0, "zero after the cut-off keeps no hand-given points"
    assert float(zero["late_penalty"]) == M.MAX_SCORE + 2 and float(zero["score"]) == 0
    before = hand_graded_late["before"]["toolate"]
    assert float(before["late_penalty"]) == M.MAX_SCORE and float(before["total_score"]) == 0


def test_every_output_agrees_on_the_late_grade(hand_graded_late):
    from nbgrader.api import Gradebook

    out = hand_graded_late["out"]
    expected = {"late": M.MAX_SCORE + 2 - 2.5, "toolate": 0.0}
    penalties = {"late": 2.5, "toolate": M.MAX_SCORE + 2}
    for student, total in expected.items():
        results = json.loads((out / "results" / f"{student}.json").read_text())
        assert results["score"] == total, student
        parts = sum(t.get("score", 0) for t in results["tests"])
        assert parts - penalties[student] == pytest.approx(total), "the parts add up to the score before the penalty"
        assert f"{penalties[student]:g} points off" in results["output"]
        state = json.loads((out / "state" / f"{student}.json").read_text())
        assert (state["total_score"], state["late_penalty"]) == (total, penalties[student])
        page = (out / "feedback" / student / f"{M.ASSIGNMENT}.html").read_text()
        assert f"{total:g} / {M.MAX_SCORE + 2:g} points in all" in page
        assert f"{penalties[student]:g} points off" in page
        # the headline leads with the whole grade, then what it is made of before the penalty (a page
        # once led with "0 / 7 autograded" next to "2 / 2 by hand" and explained it only further down)
        headline = page.split('<p class="score">', 1)[1].split("</p>", 1)[0]
        assert headline.startswith(f"<b>{total:g} / {M.MAX_SCORE + 2:g} points in all</b>"), headline
        assert (f"{M.MAX_SCORE:g} / {M.MAX_SCORE:g} autograded points + 2 / 2 points graded by hand "
                f"- {penalties[student]:g} late penalty") in headline, headline
    with Gradebook(f"sqlite:///{out}/gradebook.db") as gb:  # nbgrader's own view: score - late_submission_penalty
        for student, total in expected.items():
            submission = gb.find_submission(M.ASSIGNMENT, student)
            assert submission.late_submission_penalty == penalties[student], student
            assert submission.score - submission.late_submission_penalty == pytest.approx(total)


def test_the_lms_export_carries_the_late_grade(hand_graded_late):
    out, base = hand_graded_late["out"], hand_graded_late["base"]
    roster = base / "roster.csv"
    roster.write_text("student_id,Email address\nlate,late@example.edu\ntoolate,toolate@example.edu\n")
    proc = run("lms-export", out, "--lms", "moodle", "--roster", roster, "--output", base / "moodle.csv")
    assert proc.returncode == 0, proc.stderr
    grades = dict(list(csv.reader(open(base / "moodle.csv")))[1:])
    assert grades == {"late@example.edu": f"{M.MAX_SCORE + 2 - 2.5:g}", "toolate@example.edu": "0"}


def test_a_percent_penalty_is_a_share_of_the_whole_maximum():
    policy = late.Policy(due=DUE.isoformat(), method="per_day", penalty=10, unit="percent")
    facts = late.assess(policy, DUE + timedelta(hours=30), "timestamp.txt")  # 2 started days
    # 10% a day of the assignment's whole maximum (autograded and by hand): 2 x 10% of 20 points
    assert late.penalty(facts, earned=15.0, total_max=20.0) == 4.0
    assert late.penalty(facts, earned=3.0, total_max=20.0) == 3.0, "never more than what was earned"
