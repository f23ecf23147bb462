"""Statuses, part outcomes and cell states are enums whose values are the strings the outputs carry.

There is one NOT_RUN, a part's outcome (results.Outcome). What the engine did with a cell is a
`CellRun` (ran, timed out, skipped), and how a run ended is a `RunEnd`; scoring turns them into
outcomes and statuses.
"""
from __future__ import annotations

import csv
import json

import nbformat
import pytest

from autograder import engine
from autograder import results as R
from autograder.sandbox.config import KernelConfig
from autograder.grade import GradeOptions, grade_assignment
from tests import minicourse as M


def test_a_result_read_back_from_json_holds_the_enums_and_writes_the_same_strings():
    result = R.SubmissionResult("ada", M.ASSIGNMENT, "graded", parts=[
        R.PartResult("test_add", "add", "test", 2.0, 2.0, "passed"),
        R.PartResult("why", "why", "manual", 0.0, 1.0, "manual", "graded by hand"),
    ])
    assert result.status is R.Status.GRADED and result.parts[0].outcome is R.Outcome.PASSED
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "graded"
    assert [(p["kind"], p["outcome"]) for p in data["parts"]] == [("test", "passed"), ("manual", "manual")]
    back = R.SubmissionResult.from_dict(data)
    assert back.status is R.Status.GRADED
    assert [p.outcome for p in back.parts] == [R.Outcome.PASSED, R.Outcome.MANUAL]
    assert back.parts[1].kind is R.Kind.HAND and back.score == 2.0 and back.manual_max == 1.0


def test_an_unknown_status_or_outcome_is_refused():
    with pytest.raises(ValueError, match="gradd"):
        R.SubmissionResult("ada", M.ASSIGNMENT, "gradd")
    with pytest.raises(ValueError, match="passd"):
        R.PartResult("t", "t", "test", 1.0, 1.0, "passd")


def test_not_run_is_only_a_part_outcome():
    assert "not_run" not in {state.value for state in engine.CellRun}
    assert not hasattr(engine, "NOT_RUN")
    assert R.NOT_RUN is R.Outcome.NOT_RUN


@pytest.mark.slow
def test_a_notebook_stopped_by_its_deadline_reads_the_same_in_every_output(tmp_path):
    """The real grader: the cells after the deadline are skipped, their parts did not run, and
    grades.csv, the results json and the graded notebook say so with the same strings as ever."""
    course = M.build(tmp_path / "course")
    subs = tmp_path / "subs"
    (subs / "ada").mkdir(parents=True)
    # two slow answers: a cell's timeout is the notebook's remaining time in whole seconds, so the
    # first may stop just short of the deadline; the second then meets it
    slow = {gid: M.PERFECT[gid] + "\n\nimport time\ntime.sleep(60)" for gid in ("add", "mean")}
    nbformat.write(M.submission(course, {**M.PERFECT, **slow}), subs / "ada" / f"{M.ASSIGNMENT}.ipynb")
    out = tmp_path / "out"
    options = GradeOptions(workers=1, progress=False, config=KernelConfig(cell_timeout=30, notebook_timeout=8))
    [result] = grade_assignment(course, M.ASSIGNMENT, subs, out, options, log=lambda *a: None)

    assert result.status is R.Status.TIMEOUT, (result.status, result.reason, result.parts, result.notes)
    outcomes = {p.grade_id: p.outcome for p in result.parts}
    assert outcomes["test_scale"] is R.Outcome.NOT_RUN, outcomes
    row = next(csv.DictReader(open(out / "grades.csv")))
    assert row["status"] == "timeout"
    saved = json.loads((out / "state" / "ada.json").read_text())
    assert saved["status"] == "timeout"
    assert {p["grade_id"]: p["outcome"] for p in saved["parts"]}["test_scale"] == "not_run"
    graded = nbformat.read(out / "state" / "ada.ipynb", as_version=4)  # the notebook as graded
    assert graded.metadata["autograder"]["execution"]["status"] == "timeout"
    states = [c.metadata["autograder"]["run"] for c in graded.cells if c.cell_type == "code"]
    assert "skipped" in states and "not_run" not in states, states
