"""What a batch writes for people and for other systems: grades.csv and Gradescope JSON.

Every file is written to a temporary name and renamed into place, so a reader never sees half a
file and a crash never leaves a mix of old and new rows. A write that fails (a full disk) removes
its temporary file; one left by a killed process carries its pid and start time in its name, so
the next batch can tell it is a leftover (see leftovers.py).
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from autograder import results as R
from autograder.late import summary as late_summary
from autograder.leftovers import temp_name

# One model of points (results.SubmissionResult): score/max_score are the autograded points (score
# after any late penalty, raw_score before it); hand_points: given by hand so far (formgrader or an
# imported file; a blank answer scores 0, "No response."); manual_points_pending: hand-graded points
# nobody has graded yet; total_score/total_max_score: both kinds together, total_score after the late
# penalty, which is taken off the whole grade (raw_score + hand_points - late_penalty, late.py), and
# total_max_score is nbgrader's max_score; hand_parts: each hand-graded part (written answers and task cells) as
# `grade_id=points/max`, `grade_id=pending/max` or `grade_id=no response/max`; origin: the entry of
# the submissions folder it came from; on_roster: yes/no against the class list (empty without one).
GRADES_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "reason",
                  "manual_points_pending", "parts_passed", "parts_total", "seconds", "graded_at",
                  "raw_score", "late_penalty", "submitted_at", "due_at", "hours_late",
                  "hand_points", "total_score", "total_max_score", "hand_parts", "origin", "on_roster"]


def write_atomic(path: Path, text: str | bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def _number(value: float) -> str:
    return f"{value:g}"


def _hand_state(part: R.PartResult) -> str:
    if part.outcome == R.HAND_GRADED:
        return _number(part.points)
    return "no response" if part.outcome == R.NO_RESPONSE else "pending"


def grades_csv(results: list[R.SubmissionResult], roster: set[str] | None = None) -> str:
    """One row per result. With a roster, `on_roster` says yes or no (empty without one)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADES_COLUMNS)
    for r in sorted(results, key=lambda r: (r.assignment, r.student_id)):
        tests = [p for p in r.parts if p.kind == "test"]
        hand = [f"{p.grade_id}={_hand_state(p)}/{_number(p.max_points)}" for p in r.parts if p.kind == R.HAND]
        writer.writerow([
            r.student_id, r.assignment, _number(r.score), _number(r.max_score), r.status,
            r.reason.replace("\n", " "), _number(r.manual_pending),
            sum(p.passed for p in tests), len(tests), f"{r.seconds:.1f}", r.graded_at,
            _number(r.raw_score), _number(r.late_penalty), r.late.get("submitted_at", ""), r.late.get("due_at", ""),
            f"{r.late['seconds_late'] / 3600:.2f}" if r.late else "",
            _number(r.hand_score), _number(r.total_score), _number(r.total_max), " ".join(hand),
            r.origin, "" if roster is None else ("yes" if r.student_id in roster else "no"),
        ])
    return buffer.getvalue()


PENDING_OUTPUT = "to be graded by hand later; counts 0 until then"


def gradescope_json(result: R.SubmissionResult, hidden_parts: set[str] | None = None,
                    hidden_visibility: str = "after_due_date") -> dict:
    """Gradescope's results.json (gradescope-autograders.readthedocs.io, "Autograder
    Specifications"): one test per part, autograded or graded by hand; the top-level score is the
    whole grade (total_score), and the tests add up to it before any late penalty.

    Visibility: a part whose test cell has hidden tests (`hidden_parts`, its grade ids; None when
    unknown, then every autograded part) shows per `hidden_visibility`, since its message may come
    from a hidden test; a part with visible tests only shows at once, and so do the parts graded by
    hand. A part still to be graded by hand scores 0 and says so (no passed/failed status): the file
    is written again when its grade arrives (handgrade import or sync)."""
    lines = [f"status: {result.status}"]
    if result.reason:
        lines.append(f"reason: {result.reason}")
    if result.manual_pending:
        lines.append(f"{_number(result.manual_pending)} more points are graded by hand")
    if result.late:
        lines.append(f"late: {late_summary(result.late, result.late_penalty)}")
    lines += [f"note: {n}" for n in result.notes]
    tests = []
    for number, part in enumerate([p for p in result.parts if p.kind == "test"], start=1):
        hidden = hidden_parts is None or part.grade_id in hidden_parts
        tests.append({
            "name": part.title,
            "number": str(number),
            "score": part.points,
            "max_score": part.max_points,
            "status": "passed" if part.passed else "failed",
            "output": (part.message or ("passed" if part.passed else part.outcome.replace("_", " ")))
            + (f" (points set by hand; autograded: {part.auto_points:g})" if part.auto_points is not None else ""),
            "tags": [part.grade_id, part.outcome],
            "visibility": hidden_visibility if hidden else "visible",
        })
    for part in [p for p in result.parts if p.kind == R.HAND]:  # written answers and tasks
        test = {"name": f"{part.title} (graded by hand)", "number": str(len(tests) + 1), "score": part.points,
                "max_score": part.max_points, "tags": [part.grade_id, part.outcome], "visibility": "visible"}
        if part.outcome == R.MANUAL:
            test["output"] = PENDING_OUTPUT
        else:  # graded by hand, or left blank: 0, "No response."
            test.update(status="passed" if part.points >= part.max_points else "failed",
                        output=part.message or "graded by hand")
        tests.append(test)
    return {
        "score": result.total_score,
        "execution_time": round(result.seconds, 2),
        "output": "\n".join(lines),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_text(result: R.SubmissionResult, hidden_parts: set[str] | None = None) -> str:
    return json.dumps(gradescope_json(result, hidden_parts), indent=2) + "\n"
