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
