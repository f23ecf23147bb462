"""Runtime of every source notebook against its budget (30 s each, 3 min for the course).

    .venv/bin/python benchmarks/bench_notebooks.py [ASSIGNMENT ...]

For each assignment it runs the source notebook (solutions and hidden tests) twice, one after the
other on an otherwise idle machine:
  * bare: papermill with a plain ipykernel, the way an instructor runs it in JupyterLab;
  * graded: the perfect example through `autograder grade` (one worker, sandbox, receipts).
and prints both next to the budget, with the grader's overhead as a ratio. Timings are wall
clock on this machine; run it when nothing else is busy.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import papermill

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grade import GradeOptions, grade_assignment  # noqa: E402
from autograder.layout import Course  # noqa: E402

BUDGET = 30.0
COURSE_BUDGET = 180.0


def bare_seconds(course: Course, assignment: str, work: Path) -> float:
    source = course.source_notebook(assignment)
    run_dir = work / "bare"  # never run in source/: notebooks write files where they run
    run_dir.mkdir()
    for path in course.supporting_files(assignment):
        target = run_dir / path.relative_to(course.source / assignment)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    started = time.perf_counter()
    papermill.execute_notebook(source, str(work / f"{assignment}.out.ipynb"), kernel_name="python3",
                               progress_bar=False, cwd=str(run_dir))
    return time.perf_counter() - started


def graded_seconds(course: Course, assignment: str, work: Path) -> tuple[float, float, float]:
    submissions = work / "subs"
    shutil.rmtree(submissions, ignore_errors=True)
    (submissions / "perfect").mkdir(parents=True)
    shutil.copy(course.examples / assignment / "perfect" / f"{assignment}.ipynb", submissions / "perfect")
    started = time.perf_counter()
    [result] = grade_assignment(course, assignment, submissions, work / "out", GradeOptions(workers=1, force=True, progress=False),
                                log=lambda *a: None)
    return time.perf_counter() - started, result.score, result.max_score


def main(argv: list[str]) -> int:
    course = Course(ROOT)
    assignments = argv or course.assignments()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in assignments:
            work = Path(tmp) / assignment
            work.mkdir()
            bare = bare_seconds(course, assignment, work)
            graded, score, max_score = graded_seconds(course, assignment, work)
            rows.append((assignment, bare, graded, score, max_score))
            print(f"  measured {assignment}", file=sys.stderr)
    print(f"\ncpu count: {os.cpu_count()}   budget: {BUDGET:g} s per notebook, {COURSE_BUDGET:g} s for the course\n")
    print(f"{'assignment':<32} {'bare s':>7} {'graded s':>9} {'overhead':>9} {'score':>9}  within budget")
    for assignment, bare, graded, score, max_score in rows:
        ok = "yes" if bare <= BUDGET and graded <= BUDGET else "NO"
        print(f"{assignment:<32} {bare:>7.1f} {graded:>9.1f} {graded / bare:>8.2f}x {score:>4g}/{max_score:<4g}  {ok}")
    total_bare = sum(r[1] for r in rows)
    total_graded = sum(r[2] for r in rows)
    print(f"{'whole course':<32} {total_bare:>7.1f} {total_graded:>9.1f} {total_graded / total_bare:>8.2f}x"
          f"{'':>10}  {'yes' if total_bare <= COURSE_BUDGET else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
