"""An nbgrader course nobody here wrote, graded by stock `nbgrader autograde` and by ours.

    .venv/bin/python benchmarks/bench_nbgrader_course.py [--workers N]

Lays nbgrader's own fixture notebooks out as a course (tests/nbgrader_fixtures.py: ps1 with
eight kinds of submission, timeout, envvar, relfile, autotest; and the hidden-tests course with
its course-wide answer stub), then grades the same submissions twice:
- stock nbgrader: `nbgrader generate_assignment A` and `nbgrader autograde A --create` per
  assignment, in a copy of the course of its own (its gradebook, its autograded/ folder);
- ours: `autograder release` and `autograder grade A submitted/` per assignment.
It prints one row per submission (what nbgrader's own tests expect, stock nbgrader's score, ours,
and each maximum) and the wall-clock seconds of each grader. Stock nbgrader runs the students'
code without a sandbox; these fixtures are nbgrader's own and harmless.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import nbgrader_fixtures as F  # noqa: E402

BIN = Path(sys.executable).parent
NBGRADER = str(BIN / "nbgrader")


def _env(home: Path) -> dict:
    return dict(os.environ, HOME=str(home), PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""))


def stock(root: Path, assignments: list[str], work: Path) -> tuple[dict, float]:
    """{(assignment, student): (score, max_score)} from nbgrader's gradebook, and seconds spent
    in `nbgrader autograde` (generate_assignment is not counted)."""
    from nbgrader.api import Gradebook, MissingEntry

    copy = work / "stock"
    shutil.copytree(root, copy)
    config = copy / "nbgrader_config.py"
    config.write_text(config.read_text() + f"c.CourseDirectory.root = {str(copy)!r}\n")
    env = _env(work / "home")
    seconds = 0.0
    for assignment in assignments:
        subprocess.run([NBGRADER, "generate_assignment", assignment, "--force"], cwd=copy, env=env,
                       capture_output=True, text=True, timeout=600)
        started = time.perf_counter()
        proc = subprocess.run([NBGRADER, "autograde", assignment, "--create", "--force"], cwd=copy, env=env,
                              capture_output=True, text=True, timeout=3600)
        seconds += time.perf_counter() - started
        (work / f"stock-{assignment}.log").write_text(proc.stdout + proc.stderr)
    scores = {}
    with Gradebook(f"sqlite:///{copy}/gradebook.db") as gb:
        for assignment in assignments:
            for student_dir in sorted((copy / "submitted").iterdir()):
                if not (student_dir / assignment).is_dir():
                    continue
                try:
                    nb = gb.find_submission_notebook("p1", assignment, student_dir.name)
                    scores[(assignment, student_dir.name)] = (float(nb.score), float(nb.max_score))
                except MissingEntry:
                    scores[(assignment, student_dir.name)] = (None, None)
    return scores, seconds


def ours(root: Path, assignments: list[str], work: Path, workers: int) -> tuple[dict, float]:
    copy = work / "ours"
    shutil.copytree(root, copy)
    subprocess.run([sys.executable, "-m", "autograder", "--course", str(copy), "release"], capture_output=True,
                   check=True, timeout=600)
    scores, seconds = {}, 0.0
    for assignment in assignments:
        out = work / "ours-out" / assignment
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(copy), "grade", assignment,
                               str(copy / "submitted"), "--out", str(out), "--workers", str(workers), "--quiet"],
                              capture_output=True, text=True, timeout=3600)
        seconds += time.perf_counter() - started
        if proc.returncode != 0:
            print(f"ours, {assignment}: exit {proc.returncode}: {proc.stderr[-500:]}", file=sys.stderr)
            continue
        for row in csv.DictReader(open(out / "grades.csv")):
            scores[(assignment, row["student_id"])] = (float(row["score"]), float(row["total_max_score"]))
    return scores, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="our grader's workers (default 2)")
    args = parser.parse_args()
    cases = [*F.CASES, F.HIDDEN_CASE]
    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-course-") as tmp:
        work = Path(tmp)
        main_root = F.lay_main_course(work / "main")
        stubbed = F.lay_stubbed_course(work / "stubbed")
        # nbgrader's test submits the release's copy of the hidden-tests notebook; both graders
        # get the same bytes: the one our release wrote (nbgrader's differs in cell ids only)
        subprocess.run([sys.executable, "-m", "autograder", "--course", str(stubbed), "release"],
                       capture_output=True, check=True, timeout=600)
        F.submit_release(stubbed)
        shutil.rmtree(stubbed / "release")
        main_assignments = sorted({c.assignment for c in F.CASES})
        print(f"grading {len(cases)} submissions of {len(main_assignments) + 1} assignments...", file=sys.stderr)
        stock_scores, stock_seconds = stock(main_root, main_assignments, work / "w-main")
        more, seconds = stock(stubbed, ["hidden"], work / "w-stubbed")
        stock_scores.update(more)
        stock_seconds += seconds
        our_scores, our_seconds = ours(main_root, main_assignments, work / "w-main", args.workers)
        more, seconds = ours(stubbed, ["hidden"], work / "w-stubbed", args.workers)
        our_scores.update(more)
        our_seconds += seconds

    def show(value):
        return "-" if value is None else f"{value:g}"

    header = f"{'assignment':<10} {'submission':<14} {'nbgrader tests':>14} {'stock nbgrader':>15} {'ours':>9}  agree"
    print(header)
    print("-" * len(header))
    for case in cases:
        s_score, s_max = stock_scores.get((case.assignment, case.student), (None, None))
        o_score, o_max = our_scores.get((case.assignment, case.student), (None, None))
        expected = case.ours if case.ours is not None else case.nbgrader_score
        agree = "yes" if o_score == expected and s_score == case.nbgrader_score else "NO"
        print(f"{case.assignment:<10} {case.student:<14} {show(case.nbgrader_score) + '/' + show(case.max_score):>14} "
              f"{show(s_score) + '/' + show(s_max):>15} {show(o_score) + '/' + show(o_max):>9}  {agree}")
    load = os.getloadavg()[0]
    print(f"\nstock nbgrader autograde: {stock_seconds:.1f} s (one process, one notebook at a time)")
    print(f"autograder grade:         {our_seconds:.1f} s ({args.workers} workers, sandboxed kernels)")
    print(f"load average when done: {load:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
