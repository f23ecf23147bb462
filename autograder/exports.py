"""What a batch writes for people and for other systems: grades.csv and Gradescope JSON.

Every file is written to a temporary name and renamed into place, so a reader never sees half a
file and a crash never leaves a mix of old and new rows.
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from autograder import results as R
from autograder.late import summary as late_summary

# score/max_score: autograded points; hand_points: given by hand so far (formgrader or an imported
# file); manual_points_pending: points still to be graded by hand; total_*: both kinds together.
GRADES_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "reason",
                  "manual_points_pending", "parts_passed", "parts_total", "seconds", "graded_at",
                  "raw_score", "late_penalty", "submitted_at", "due_at", "hours_late",
                  "hand_points", "total_score", "total_max_score"]


def write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _number(value: float) -> str:
    return f"{value:g}"


def grades_csv(results: list[R.SubmissionResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADES_COLUMNS)
    for r in sorted(results, key=lambda r: (r.assignment, r.student_id)):
        tests = [p for p in r.parts if p.kind == "test"]
        writer.writerow([
            r.student_id, r.assignment, _number(r.score), _number(r.max_score), r.status,
            r.reason.replace("\n", " "), _number(r.manual_pending),
            sum(p.passed for p in tests), len(tests), f"{r.seconds:.1f}", r.graded_at,
            _number(r.raw_score), _number(r.late_penalty), r.late.get("submitted_at", ""), r.late.get("due_at", ""),
            f"{r.late['seconds_late'] / 3600:.2f}" if r.late else "",
            _number(r.hand_score), _number(r.score + r.hand_score), _number(r.max_score + r.manual_max),
        ])
    return buffer.getvalue()


def gradescope_json(result: R.SubmissionResult) -> dict:
    """Gradescope's results.json: one test per autograded part."""
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
    for part in [p for p in result.parts if p.kind == "manual" and p.outcome == R.HAND_GRADED]:
        tests.append({
            "name": f"{part.title} (graded by hand)", "number": str(len(tests) + 1), "score": part.points,
            "max_score": part.max_points, "status": "passed" if part.points >= part.max_points else "failed",
            "output": part.message or "graded by hand", "tags": [part.grade_id, part.outcome],
            "visibility": "visible",
        })
    return {
        "score": round(result.score + result.hand_score, 6),
        "execution_time": round(result.seconds, 2),
        "output": "\n".join(lines),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_results(out_dir: Path, results: list[R.SubmissionResult]) -> None:
    """grades.csv for the whole batch (rewritten from every result we have)."""
    write_atomic(Path(out_dir) / "grades.csv", grades_csv(results))


def write_student_files(out_dir: Path, result: R.SubmissionResult, notebook_name: str) -> None:
    out_dir = Path(out_dir)
    write_atomic(out_dir / "results" / f"{result.student_id}.json",
                 json.dumps(gradescope_json(result), indent=2) + "\n")
    write_atomic(out_dir / "state" / f"{result.student_id}.json", json.dumps(result.to_dict(), indent=1) + "\n")
    if result.feedback_html:
        stem = notebook_name[:-6] if notebook_name.endswith(".ipynb") else notebook_name
        write_atomic(out_dir / "feedback" / result.student_id / f"{stem}.html", result.feedback_html)
