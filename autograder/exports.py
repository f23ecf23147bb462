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
from autograder.leftovers import temp_name

GRADES_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "reason",
                  "manual_points_pending", "parts_passed", "parts_total", "seconds", "graded_at",
                  "origin", "on_roster"]


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


def grades_csv(results: list[R.SubmissionResult], roster: set[str] | None = None) -> str:
    """One row per result. With a roster, `on_roster` says yes or no (empty without one)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADES_COLUMNS)
    for r in sorted(results, key=lambda r: (r.assignment, r.student_id)):
        tests = [p for p in r.parts if p.kind == "test"]
        writer.writerow([
            r.student_id, r.assignment, _number(r.score), _number(r.max_score), r.status,
            r.reason.replace("\n", " "), _number(r.manual_max),
            sum(p.passed for p in tests), len(tests), f"{r.seconds:.1f}", r.graded_at,
            r.origin, "" if roster is None else ("yes" if r.student_id in roster else "no"),
        ])
    return buffer.getvalue()


def gradescope_json(result: R.SubmissionResult) -> dict:
    """Gradescope's results.json: one test per autograded part."""
    lines = [f"status: {result.status}"]
    if result.reason:
        lines.append(f"reason: {result.reason}")
    if result.manual_max:
        lines.append(f"{_number(result.manual_max)} more points are graded by hand")
    lines += [f"note: {n}" for n in result.notes]
    tests = []
    for number, part in enumerate([p for p in result.parts if p.kind == "test"], start=1):
        tests.append({
            "name": part.title,
            "number": str(number),
            "score": part.points,
            "max_score": part.max_points,
            "status": "passed" if part.passed else "failed",
            "output": part.message or ("passed" if part.passed else part.outcome.replace("_", " ")),
            "tags": [part.grade_id, part.outcome],
            "visibility": "visible",
        })
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 2),
        "output": "\n".join(lines),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_text(result: R.SubmissionResult) -> str:
    return json.dumps(gradescope_json(result), indent=2) + "\n"
