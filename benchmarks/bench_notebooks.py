"""Runtime of every source notebook against its budget (30 s each, 3 min for the course).

    .venv/bin/python benchmarks/bench_notebooks.py [ASSIGNMENT ...]

For each assignment it runs the source notebook (solutions and hidden tests) three times, one after
the other on an otherwise idle machine:
  * cells only: nbclient with a plain ipykernel, which is what JupyterLab's "Run All" and
    `jupyter nbconvert --execute` do: the notebook's own time, for information;
  * bare: papermill with a plain ipykernel, the way CI or an instructor runs it headless
    (papermill also writes the whole output notebook before and after every cell);
  * graded: the perfect example through `autograder grade` (one worker, sandbox, receipts).
and prints them next to the budget, which bare and graded must both meet, with the grader's
overhead over bare as a ratio. Timings are wall
clock on this machine; run it when nothing else is busy. Because a shared machine inflates wall
clock, it also prints the CPU seconds the notebook's processes used (the kernel and whatever it
started; on an idle machine with one torch thread, wall is close to it), the load average before
and after each run, and the slowest cells of the bare run (papermill's per-cell durations).
"""
from __future__ import annotations

import json
import os
import threading
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grade import GradeOptions, grade_assignment  # noqa: E402
from autograder.layout import Course  # noqa: E402

BUDGET = 30.0
COURSE_BUDGET = 180.0
SLOWEST_CELLS = 5


class DescendantsCpu:
    """CPU seconds (user + system) of the processes this one starts while it is active: kernels,
    sandboxes, workers. A thread samples every descendant a few times a second and keeps the last
    figure seen for each; a process that lives less than a sample interval is missed."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.seen, self._stop = interval, {}, threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def _sample(self) -> None:
        for child in psutil.Process().children(recursive=True):
            try:
                with child.oneshot():
                    times = child.cpu_times()
                    self.seen[(child.pid, child.create_time())] = times.user + times.system
            except psutil.Error:
                pass  # it ended between the listing and the look

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "DescendantsCpu":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def timed(run):
    """(result, wall seconds, CPU seconds of the processes the run started, 1-minute load before and after)."""
    load_before, started = os.getloadavg()[0], time.perf_counter()
    with DescendantsCpu() as cpu:
        result = run()
    return result, time.perf_counter() - started, cpu.seconds, (load_before, os.getloadavg()[0])


def slowest_cells(executed: Path, n: int = SLOWEST_CELLS) -> list[tuple[float, str]]:
    """The n longest cells of a notebook papermill executed: (seconds, grade id or cell id)."""
    cells = json.loads(executed.read_text())["cells"]
    durations = [(cell["metadata"].get("papermill", {}).get("duration") or 0.0,
                  cell["metadata"].get("nbgrader", {}).get("grade_id") or cell.get("id", "?")) for cell in cells]
    return sorted(durations, reverse=True)[:n]


def run_folder(course: Course, assignment: str, run_dir: Path) -> Path:
    """A fresh folder with the assignment's supporting files (never run in source/: notebooks
    write files where they run)."""
    run_dir.mkdir()
    for path in course.supporting_files(assignment):
        target = run_dir / path.relative_to(course.source / assignment)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return run_dir


def cells_only_run(course: Course, assignment: str, work: Path) -> None:
    run_dir = run_folder(course, assignment, work / "cells-only")
    notebook = nbformat.read(course.source_notebook(assignment), as_version=4)
    NotebookClient(notebook, kernel_name="python3", resources={"metadata": {"path": str(run_dir)}}).execute()


def bare_run(course: Course, assignment: str, work: Path) -> Path:
    source = course.source_notebook(assignment)
    run_dir = run_folder(course, assignment, work / "bare")
    executed = work / f"{assignment}.out.ipynb"
    papermill.execute_notebook(source, str(executed), kernel_name="python3", progress_bar=False, cwd=str(run_dir))
    return executed


def graded_run(course: Course, assignment: str, work: Path) -> tuple[float, float]:
    submissions = work / "subs"
    shutil.rmtree(submissions, ignore_errors=True)
    (submissions / "perfect").mkdir(parents=True)
    shutil.copy(course.examples / assignment / "perfect" / f"{assignment}.ipynb", submissions / "perfect")
    [result] = grade_assignment(course, assignment, submissions, work / "out", GradeOptions(workers=1, force=True, progress=False),
                                log=lambda *a: None)
    return result.score, result.max_score


def main(argv: list[str]) -> int:
    course = Course(ROOT)
    assignments = argv or course.assignments()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in assignments:
            work = Path(tmp) / assignment
            work.mkdir()
            _, cells_only, _, _ = timed(lambda: cells_only_run(course, assignment, work))
            executed, bare, bare_cpu, bare_load = timed(lambda: bare_run(course, assignment, work))
            (score, max_score), graded, graded_cpu, graded_load = timed(lambda: graded_run(course, assignment, work))
            rows.append((assignment, cells_only, bare, graded, score, max_score, bare_cpu, graded_cpu, bare_load + graded_load,
                         slowest_cells(executed)))
            print(f"  measured {assignment}", file=sys.stderr)
    print(f"\ncpu count: {os.cpu_count()}   budget: {BUDGET:g} s per notebook, {COURSE_BUDGET:g} s for the course\n")
    print(f"{'assignment':<32} {'cells only s':>12} {'bare s':>7} {'graded s':>9} {'overhead':>9} {'score':>9}  within budget"
          f"  {'bare CPU s':>10} {'graded CPU s':>12}  load (1 min) before/after bare, graded")
    for assignment, cells_only, bare, graded, score, max_score, bare_cpu, graded_cpu, loads, _ in rows:
        ok = "yes" if bare <= BUDGET and graded <= BUDGET else "NO"
        print(f"{assignment:<32} {cells_only:>12.1f} {bare:>7.1f} {graded:>9.1f} {graded / bare:>8.2f}x {score:>4g}/{max_score:<4g}  {ok:<13}"
              f"  {bare_cpu:>10.1f} {graded_cpu:>12.1f}  {loads[0]:.2f}/{loads[1]:.2f}, {loads[2]:.2f}/{loads[3]:.2f}")
    total_cells_only = sum(r[1] for r in rows)
    total_bare = sum(r[2] for r in rows)
    total_graded = sum(r[3] for r in rows)
    print(f"{'whole course':<32} {total_cells_only:>12.1f} {total_bare:>7.1f} {total_graded:>9.1f} {total_graded / total_bare:>8.2f}x"
          f"{'':>10}  {'yes' if total_bare <= COURSE_BUDGET else 'NO'}")
    print(f"\nslowest cells of the bare runs (wall seconds, papermill):")
    for assignment, *_, cells in rows:
        print(f"  {assignment}: " + ", ".join(f"{name} {seconds:.1f}" for seconds, name in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
