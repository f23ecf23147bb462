"""Runtime of every source notebook against its budget (30 s each, 3 min for the course).

    .venv/bin/python benchmarks/bench_notebooks.py [ASSIGNMENT ...] [--repeat N]

For each assignment it runs the source notebook (solutions and hidden tests) three times, one after
the other on an otherwise idle machine:
  * cells only: nbclient with a plain ipykernel, from the kernel's start to its last cell, which is
    what a student's "Run All" in JupyterLab and `jupyter nbconvert --execute` do;
  * bare: papermill with a plain ipykernel, the way an instructor may run it headless by hand
    (papermill also writes the whole output notebook before and after every cell);
  * graded: the perfect example through `autograder grade` (one worker, sandbox, receipts), a batch
    of one. "graded s" is the grader's own time for the notebook (what each submission of a class
    costs); "batch fixed s" is the rest of the batch's wall clock (planning from the source notebook,
    the gradebook, grades.csv and feedback), paid once per batch however many notebooks it grades.
The budget is the notebook's: cells only and graded must both meet it. Bare papermill is printed for
information with the share of it papermill spent writing the output notebook (twice per cell,
markdown cells included: its cost grows with the number of cells times the notebook's size;
`papermill --no-request-save-on-cell-execute` writes it once, at the end); the grader never does.
With --repeat N it runs N rounds and prints each column's median and the range of bare and graded
(a shared machine's speed drifts by a fifth from one minute to the next). Timings are wall
clock on this machine; run it when nothing else is busy. Because a shared machine inflates wall
clock, it also prints the CPU seconds the notebook's processes used (the kernel and whatever it
started; on an idle machine with one torch thread, wall is close to it), the load average before
and after each run, and the slowest cells of the bare run (papermill's per-cell durations).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
import psutil
from nbclient import NotebookClient
from papermill.engines import NotebookExecutionManager

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


def graded_run(course: Course, assignment: str, work: Path) -> tuple[float, float, float]:
    """(score, max score, the grader's seconds for the notebook) of the perfect example."""
    submissions = work / "subs"
    shutil.rmtree(submissions, ignore_errors=True)
    (submissions / "perfect").mkdir(parents=True)
    shutil.copy(course.examples / assignment / "perfect" / f"{assignment}.ipynb", submissions / "perfect")
    [result] = grade_assignment(course, assignment, submissions, work / "out", GradeOptions(workers=1, force=True, progress=False),
                                log=lambda *a: None)
    return result.score, result.max_score, result.seconds


def resolve(course: Course, names: list[str]) -> list[str]:
    """Assignments by full name or by a prefix that names one ("04")."""
    known = course.assignments()
    chosen = []
    for name in names or known:
        matches = [a for a in known if a == name] or [a for a in known if a.startswith(name)]
        if len(matches) != 1:
            raise SystemExit(f"{name!r} names {len(matches)} assignments; use one of {', '.join(known)}")
        chosen.append(matches[0])
    return chosen


class SaveClock:
    """Wall seconds papermill spends writing the output notebook (it saves the whole notebook
    before and after every cell: `NotebookExecutionManager.save`), measured in this process."""

    def __init__(self):
        self.seconds, self._original = 0.0, NotebookExecutionManager.save

    def __enter__(self) -> "SaveClock":
        original, clock = self._original, self

        def timed_save(manager, **kwargs):
            started = time.perf_counter()
            try:
                return original(manager, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - started
        NotebookExecutionManager.save = timed_save
        return self

    def __exit__(self, *exc) -> None:
        NotebookExecutionManager.save = self._original


def measure(course: Course, assignment: str, work: Path) -> dict:
    """One round of the three runs of an assignment."""
    work.mkdir()
    _, cells_only, _, _ = timed(lambda: cells_only_run(course, assignment, work))
    with SaveClock() as saves:
        executed, bare, bare_cpu, bare_load = timed(lambda: bare_run(course, assignment, work))
    (score, max_score, graded), batch, graded_cpu, graded_load = timed(lambda: graded_run(course, assignment, work))
    return {"cells_only": cells_only, "bare": bare, "saves": saves.seconds, "graded": graded,
            "batch_fixed": batch - graded, "score": score,
            "max_score": max_score, "bare_cpu": bare_cpu, "graded_cpu": graded_cpu, "loads": bare_load + graded_load,
            "cells": slowest_cells(executed)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="full names or prefixes (04); all when none is given")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the three runs; the table shows each column's median (default 1)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be 1 or more, got {args.repeat}")
    course = Course(ROOT)
    assignments = resolve(course, args.assignments)
    rounds = {assignment: [] for assignment in assignments}
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.repeat):   # round after round, so a slow spell hits every assignment alike
            for assignment in assignments:
                rounds[assignment].append(measure(course, assignment, Path(tmp) / f"{assignment}-{round_number}"))
                print(f"  measured {assignment} (round {round_number + 1} of {args.repeat})", file=sys.stderr)

    def median(assignment, key):
        return statistics.median(r[key] for r in rounds[assignment])

    def spread(assignment, key):
        values = [r[key] for r in rounds[assignment]]
        return f"{min(values):.1f}-{max(values):.1f}" if len(values) > 1 else ""

    print(f"\ncpu count: {os.cpu_count()}   budget: {BUDGET:g} s per notebook (cells only and graded),"
          f" {COURSE_BUDGET:g} s for the course   rounds: {args.repeat} (medians; ranges over the rounds)\n")
    print(f"{'assignment':<32} {'cells only s':>12} {'graded s':>9} {'score':>9}  within budget"
          f"  {'cells range':>11} {'graded range':>12}  {'batch fixed s':>13} {'bare s':>7} {'of it saves':>11}"
          f"  {'bare CPU s':>10} {'batch CPU s':>11}  load (1 min) before/after bare, graded (last round)")
    for assignment in assignments:
        last = rounds[assignment][-1]
        cells_only, graded = median(assignment, "cells_only"), median(assignment, "graded")
        ok = "yes" if cells_only <= BUDGET and graded <= BUDGET else "NO"
        loads = last["loads"]
        print(f"{assignment:<32} {cells_only:>12.1f} {graded:>9.1f} {last['score']:>4g}/{last['max_score']:<4g}  {ok:<13}"
              f"  {spread(assignment, 'cells_only'):>11} {spread(assignment, 'graded'):>12}"
              f"  {median(assignment, 'batch_fixed'):>13.1f} {median(assignment, 'bare'):>7.1f}"
              f" {median(assignment, 'saves'):>11.1f}"
              f"  {median(assignment, 'bare_cpu'):>10.1f} {median(assignment, 'graded_cpu'):>11.1f}"
              f"  {loads[0]:.2f}/{loads[1]:.2f}, {loads[2]:.2f}/{loads[3]:.2f}")
    keys = ("cells_only", "graded", "batch_fixed", "bare", "saves")
    totals = {key: sum(median(a, key) for a in assignments) for key in keys}
    within = totals["cells_only"] <= COURSE_BUDGET and totals["graded"] <= COURSE_BUDGET
    print(f"{'whole course':<32} {totals['cells_only']:>12.1f} {totals['graded']:>9.1f} {'':>9}  {'yes' if within else 'NO':<13}"
          f"  {'':>11} {'':>12}  {totals['batch_fixed']:>13.1f} {totals['bare']:>7.1f} {totals['saves']:>11.1f}")
    print("\nslowest cells of the bare runs (wall seconds, papermill, last round):")
    for assignment in assignments:
        cells = rounds[assignment][-1]["cells"]
        print(f"  {assignment}: " + ", ".join(f"{name} {seconds:.1f}" for seconds, name in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
