"""Does every output of a grading folder agree? Used by the fault tests and the fault-injection
benchmark: grades.csv, results/*.json, the feedback pages, the commit records (state/) and the
gradebook must all give each student the same score and status, and nothing half-written may be
left (temporary files, staging folders). Scores are compared as each output states them: autograded
points after any late penalty (grades.csv `score`), with hand-given points after the penalty
(grades.csv `hand_points` and `total_score`, results json, the page's headline), and as nbgrader
counts them (the gradebook's total: autograded points before the penalty, which it keeps apart, plus
hand points)."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

PAGE_SCORE = re.compile(r'<p class="score"><b>([0-9.]+) / ([0-9.]+) points in all</b>.*?status: ([a-z_]+)</p>', re.S)


def disagreements(out: Path, assignment: str, db_url: str | None = None) -> list[str]:
    """Every way the outputs in `out` disagree (empty when they all agree)."""
    out = Path(out)
    problems = []
    records = {p.stem: json.loads(p.read_text()) for p in (out / "state").glob("*.json")}
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    for student in sorted(set(rows) - set(records)):
        if rows[student]["status"] != "absent":
            problems.append(f"{student}: a grades.csv row without a commit record")
    results = {p.stem for p in (out / "results").glob("*.json")} if (out / "results").is_dir() else set()
    pages = {p.name for p in (out / "feedback").iterdir()} if (out / "feedback").is_dir() else set()
    for name, found in (("results/", results), ("feedback/", pages)):
        if found != set(records):
            problems.append(f"{name} holds {sorted(found ^ set(records))} unlike state/")
    gradebook = None
    if db_url or (out / "gradebook.db").exists():
        from nbgrader.api import Gradebook

        gradebook = Gradebook(db_url or f"sqlite:///{out}/gradebook.db")
    try:
        for student, record in sorted(records.items()):
            score, status = record["score"], record["status"]
            hand, total = record.get("hand_score", 0), record.get("total_score", score)
            row = rows.get(student)
            if row is None:
                problems.append(f"{student}: no grades.csv row")
            elif float(row["score"]) != score or row["status"] != status:
                problems.append(f"{student}: grades.csv says {row['score']} {row['status']}, state {score} {status}")
            elif "hand_points" in row and (float(row["hand_points"]) != hand or float(row["total_score"]) != total):
                problems.append(f"{student}: grades.csv says hand {row['hand_points']} total {row['total_score']}, "
                                f"state {hand} {total}")
            try:
                data = json.loads((out / "results" / f"{student}.json").read_text())
                if data["score"] != total:
                    problems.append(f"{student}: results json says {data['score']}, state {total}")
            except (OSError, ValueError) as error:
                problems.append(f"{student}: results json unreadable ({error})")
            page_files = list((out / "feedback" / student).glob("*.html"))
            if len(page_files) != 1:
                problems.append(f"{student}: {len(page_files)} feedback pages")
            else:
                match = PAGE_SCORE.search(page_files[0].read_text())
                if not match or float(match.group(1)) != total or match.group(3) != status:
                    problems.append(f"{student}: feedback page says {match and match.groups()}, state {total} {status}")
            if gradebook is not None:
                try:
                    held = gradebook.find_submission(record["assignment"], student)
                    book_total, penalty = held.score, held.late_submission_penalty
                except Exception as error:  # noqa: BLE001 - missing from the gradebook
                    problems.append(f"{student}: not in the gradebook ({type(error).__name__})")
                else:
                    expected = record.get("raw_score", score) + hand
                    if abs(book_total - expected) > 1e-9:
                        problems.append(f"{student}: gradebook total {book_total}, state {expected}")
                    if abs((penalty or 0) - record.get("late_penalty", 0)) > 1e-9:
                        problems.append(f"{student}: gradebook late penalty {penalty}, state {record.get('late_penalty')}")
    finally:
        if gradebook is not None:
            gradebook.close()
    leftovers = [p.relative_to(out).as_posix() for p in out.rglob("*")
                 if p.name.endswith(".tmp") or ".staging" in p.parts]
    if leftovers:
        problems.append(f"half-written files left: {leftovers[:5]}")
    return problems


def scores(out: Path) -> dict[str, float]:
    return {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(Path(out) / "grades.csv", encoding="utf-8"))}
