"""What hidden tests measured reaches the class report as a leaderboard, and only through the
receipt channel (autograder/measure.py); the report's student table agrees with grades.csv,
hand-graded points and the total included.

A real batch of a small course whose hidden tests report precision, recall and a cost: a student
who ships the right threshold, one who chose it at a balanced prevalence, one who left it blank,
and one who also forges measurements (printed lines, lines written to the receipt descriptor, the
audit event raised by hand, the grader's report() called from their own code).
"""
from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys

import nbformat
import pytest

from tests import measuredcourse as MC

FORGE = r"""
import os, sys
fake = 'M test_quality 4 ' + '0' * 64 + ' precision 1.0 0.9 ' + '0' * 64
print(fake)                                        # a measurement line on stdout
print('measured on a day you did not see: precision 1.000, recall 1.000')
written = 0
for fd in os.listdir('/proc/self/fd'):
    try:
        target = os.readlink(f'/proc/self/fd/{fd}')
    except OSError:
        continue
    if 'receipt' in target:
        os.write(int(fd), (fake + '\n' + fake.replace('precision 1.0', 'recall 1.0') + '\n').encode())
        written += 1
print('FORGED MEASUREMENT LINES WRITTEN TO', written, 'DESCRIPTOR(S)')
"""

# the detector itself raises the measurement event and calls the grader's report() while a test runs
FORGING_DETECT = f"""THRESHOLD = {MC.BALANCED_THRESHOLD}

def detect(scores):
    import sys
    from autograder.measure import report
    sys.audit('autograder.measure', 'precision', 1.0, 0.9)
    report('recall', 1.0, target=0.6)
    return np.asarray(scores) >= THRESHOLD"""


def run(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=900, **kwargs)


def csv_rows(out):
    return {row["student_id"]: row for row in csv.DictReader(open(out / "grades.csv"))}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("leaderboard")
    course = MC.build(base / "course")
    subs = base / "subs"
    notebooks = {
        "ada": MC.submission(course, MC.PERFECT_THRESHOLD, memo="Chosen at the 10% prevalence of production."),
        "bob": MC.submission(course, MC.BALANCED_THRESHOLD, memo="0.5 is the middle."),
        "cy": MC.submission(course, None),
        "mallory": MC.submission(course, None, extra_cells=[FORGE]),
    }
    for cell in notebooks["mallory"].cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "threshold":
            cell.source = FORGING_DETECT
    for student, nb in notebooks.items():
        (subs / student).mkdir(parents=True)
        nbformat.write(nb, subs / student / f"{MC.ASSIGNMENT}.ipynb")
    out = base / "out"
    proc = run("--course", course.root, "grade", MC.ASSIGNMENT, subs, "--out", out, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    states = {s: json.loads((out / "state" / f"{s}.json").read_text()) for s in notebooks}
    return {"course": course, "out": out, "states": states}


def measured(state, grade_id):
    return next(p for p in state["parts"] if p["grade_id"] == grade_id)["measured"]


def leaderboard_rows(page: str) -> list[dict]:
    table = page.split('<table class=leaderboard>')[1].split("</table>")[0]
    rows = []
    for student, cells in re.findall(r'<tr data-student="([^"]+)">(.*?)</tr>', table):
        values = dict(re.findall(r'<td data-column="([^"]+)"[^>]*>([^<]*)</td>', cells))
        rank = re.match(r"<td>(\d+)</td>", cells).group(1)
        rows.append({"student": student, "rank": int(rank), **{k: html.unescape(v) for k, v in values.items()}})
    return rows


def test_measurements_are_kept_on_the_part_in_state_and_results(batch):
    ada = batch["states"]["ada"]
    quality = measured(ada, "test_quality")
    assert set(quality) == {"precision", "recall"}
    assert quality["precision"]["target"] == 0.9 and quality["precision"]["value"] >= 0.9
    assert quality["precision"]["role"] == "guardrail" and quality["recall"]["role"] == "primary"
    assert quality["recall"]["unit"] == "fraction"
    assert measured(ada, "test_cost")["cost_per_item"]["better"] == "lower"
    bob = measured(batch["states"]["bob"], "test_quality")
    assert bob["precision"]["value"] < 0.9, "the balanced threshold misses the floor: its test fails, its value stays"
    assert next(p for p in batch["states"]["bob"]["parts"] if p["grade_id"] == "test_quality")["outcome"] == "failed"
    results = json.loads((batch["out"] / "results" / "ada.json").read_text())
    test = next(t for t in results["tests"] if t["tags"][0] == "test_quality")
    assert test["extra_data"]["measured"] == quality
    assert measured(batch["states"]["cy"], "test_quality") == {}, "a blank answer measures nothing"


def test_forged_measurements_change_nothing(batch):
    mallory = batch["states"]["mallory"]
    page_text = (batch["out"] / "feedback" / "mallory" / f"{MC.ASSIGNMENT}.html").read_text()
    # the attacks ran: the forged lines reached the grader, the detector's own calls reached the sentinel
    assert "FORGED MEASUREMENT LINES WRITTEN TO 1 DESCRIPTOR(S)" in page_text
    assert any("receipts with invalid signatures for test_quality" in n for n in mallory["notes"]), mallory["notes"]
    assert any("measurement-refused" in d for d in mallory["diagnostics"]), mallory["diagnostics"]
    quality = measured(mallory, "test_quality")
    bob = measured(batch["states"]["bob"], "test_quality")
    assert quality["precision"]["value"] == bob["precision"]["value"] < 0.9, "the same threshold measures the same"
    assert quality["recall"]["value"] == bob["recall"]["value"] != 1.0
    proc = run("report", batch["out"])
    assert proc.returncode == 0, proc.stderr
    rows = {r["student"]: r for r in leaderboard_rows((batch["out"] / "report.html").read_text())}
    assert rows["mallory"]["test_quality.precision"] == rows["bob"]["test_quality.precision"]
    assert "1 " not in rows["mallory"]["test_quality.precision"] and "✗" in rows["mallory"]["test_quality.precision"]


def test_report_shows_a_leaderboard_ranked_by_the_primary_metric_among_guardrails(batch):
    proc = run("report", batch["out"])
    assert proc.returncode == 0, proc.stderr
    page = (batch["out"] / "report.html").read_text()
    head = page.split('<table class=leaderboard>')[1].split("</tr>")[0]
    assert re.search(r"precision \(fraction\) <i>guardrail</i><br>target &ge; 0.9", head), head
    assert re.search(r"recall \(fraction\) <i>primary</i><br>target &ge; 0.6", head), head
    assert "cost_per_item<br>target &le; 0.04" in head
    rows = leaderboard_rows(page)
    assert [r["student"] for r in rows][0] == "ada", "the only one meeting the precision floor ranks first"
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    ada, cy = rows[0], next(r for r in rows if r["student"] == "cy")
    assert "✗" not in ada["test_quality.precision"] and float(ada["test_quality.recall"]) >= 0.6
    assert cy["test_quality.precision"] == "—" and cy["rank"] == 4, "nothing measured: last"
    bob = next(r for r in rows if r["student"] == "bob")
    assert bob["test_quality.precision"].endswith("✗"), "a value missing its target is marked"
    assert "Ranked by fewest guardrail targets missed (precision), then highest recall, then score." in page


def test_report_agrees_with_grades_csv_hand_points_and_total_included(batch):
    out, course = batch["out"], batch["course"]
    assert run("--course", course.root, "handgrade", "export", out).returncode == 0
    path = out / "handgrading" / "memo.csv"
    table = list(csv.DictReader(open(path)))
    for row in table:
        if row["student_id"] == "ada":
            row["points"], row["comment"] = "2", "Names the prevalence."
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    proc = run("--course", course.root, "handgrade", "import", out, path)
    assert proc.returncode == 0, proc.stderr
    assert run("report", out).returncode == 0
    page = (out / "report.html").read_text()
    students = page.split("<table class=students>")[1].split("</table>")[0]
    shown = {}
    for student, cells in re.findall(r'<tr data-student="([^"]+)">(.*?)</tr>', students):
        text = {k: re.sub(r"<[^>]+>", " ", v) for k, v in re.findall(r'<td class="([\w-]+)">(.*?)</td>', cells)}
        shown[student] = {k: " ".join(html.unescape(v).split()) for k, v in text.items()}
    by = csv_rows(out)
    assert set(shown) == set(by)
    for student, row in by.items():
        assert shown[student]["score"] == f"{row['score']} / {row['max_score']}", student
        assert shown[student]["total"] == f"{row['total_score']} / {row['total_max_score']}", student
        pending = f" ({row['manual_points_pending']} pending)" if row["manual_points_pending"] != "0" else ""
        assert shown[student]["hand"] == f"{row['hand_points']} / 2{pending}", student
    assert by["ada"]["hand_points"] == "2" and shown["ada"]["hand-parts"] == "memo: 2 / 2"
    assert by["bob"]["manual_points_pending"] == "2" and shown["bob"]["hand-parts"] == "memo: pending / 2"
    assert shown["cy"]["hand-parts"] == "memo: no response / 2" and by["cy"]["manual_points_pending"] == "0"


@pytest.mark.parametrize("hidden, message", [
    ("from autograder.measure import report as _m\nfor _x in (1, 2):\n    _m('x', float(_x))",
     "call report() as a statement of its own at the top level"),
    ("from autograder.measure import report as _m\n_name = 'x'\n_m(_name, 1.0)", "report()'s name must be a string literal"),
    ("from autograder.measure import report as _m\n_m('x', 1.0, better='up')", "better= is 'higher' or 'lower'"),
    ("import autograder.measure\nautograder.measure.report('not an id', 1.0)", "must be an identifier"),
])
def test_the_release_refuses_a_report_the_grader_cannot_read(tmp_path, hidden, message):
    from autograder.authoring import tests as test_cell
    from autograder.release import SourceNotebookError

    course = MC.build(tmp_path / "course")
    nb = MC.source_notebook()
    nb.cells.append(test_cell("test_bad", 1, visible="assert True", hidden=hidden))
    nbformat.write(nb, course.source_notebook(MC.ASSIGNMENT))
    with pytest.raises(SourceNotebookError, match=re.escape(message)):
        from autograder.release import release_assignment

        release_assignment(course, MC.ASSIGNMENT)


def test_equal_measurements_rank_the_higher_score_first():
    """Two students whose hidden tests measured the same (a partial submission whose detector is
    the reference's) are told apart by their score, not by the alphabet."""
    from autograder import leaderboard
    from autograder import results as R

    def student(name, points):
        measured = {"recall": {"value": 0.97, "target": 0.85, "better": "higher", "role": "primary", "unit": ""}}
        return R.SubmissionResult(name, "a", R.GRADED, parts=[
            R.PartResult("quality", "quality", "test", 1.0, 1.0, R.PASSED, measured=measured),
            R.PartResult("memo_check", "memo", "test", points, 5.0, R.PASSED if points == 5 else R.FAILED)])

    board = leaderboard.build([student("partial", 1.0), student("perfect", 5.0)])
    assert [row.student_id for row in board.rows] == ["perfect", "partial"]


def test_a_measurement_that_misses_or_cannot_be_made_is_marked_in_its_cell():
    """A monitor that never alarms: it caught 0 of the changes (a value that misses its target,
    "0 ✗") and has no delay to measure ("n/a ✗", not the "—" of a test that stopped before it)."""
    from autograder import results as R
    from autograder.report import leaderboard_table

    def student(name, caught, delay, measured=True):
        values = {"changes_caught": {"value": caught, "target": 2.0, "better": "higher", "role": "primary", "unit": ""},
                  "alarm_delay": {"value": delay, "target": 3.0, "better": "lower", "role": "guardrail", "unit": "hours"}}
        return R.SubmissionResult(name, "a", R.GRADED, parts=[
            R.PartResult("test_monitor_alarm", "monitor", "test", 2.0 if caught == 2 else 0.0, 2.0,
                         R.PASSED if caught == 2 else R.FAILED, measured=values if measured else None)])

    page = leaderboard_table([student("silent", 0.0, None), student("watchful", 2.0, 1.0),
                              student("crashed", 0.0, None, measured=False)], links={})
    rows = {r["student"]: r for r in leaderboard_rows(page)}
    assert rows["silent"]["test_monitor_alarm.changes_caught"] == "0 ✗"
    assert rows["silent"]["test_monitor_alarm.alarm_delay"] == "n/a ✗"
    assert rows["watchful"]["test_monitor_alarm.changes_caught"] == "2"
    assert rows["watchful"]["test_monitor_alarm.alarm_delay"] == "1"
    assert rows["crashed"]["test_monitor_alarm.alarm_delay"] == "—"
    assert [r["student"] for r in leaderboard_rows(page)][0] == "watchful"
