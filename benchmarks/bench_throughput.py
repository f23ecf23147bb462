"""Grading a class: stock nbgrader vs ours with 1 and N workers, next to the ideal.

    .venv/bin/python benchmarks/bench_throughput.py [--assignment 04-modeling] [--count 40] [--workers N]

Makes COUNT submissions of one assignment from its examples (perfect, partial and blank in turn)
and grades the same batch four ways, one after the other, on an otherwise idle machine:
  * stock: `nbgrader autograde` (sequential, its own gradebook and layout);
  * ours, 1 worker on one core (1 BLAS/torch thread, no kernel started ahead): a sequential
    grader's baseline;
  * ours, 1 worker as shipped (kernels started ahead, one thread per core), and N workers
    (default: the number of cores);
  * ideal: the sum of bare papermill executions of the same notebooks (plain ipykernel, no
    grading at all) divided by the number of cores: what perfect parallelism would reach.
Prints wall-clock seconds and the ratios the issue asks for, from this one run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import papermill

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grade import GradeOptions, default_workers, grade_assignment  # noqa: E402
from autograder.layout import Course  # noqa: E402
from autograder.sandbox.config import KernelConfig  # noqa: E402

KINDS = ("perfect", "partial", "blank")


def make_batch(course: Course, assignment: str, count: int, folder: Path) -> list[Path]:
    paths = []
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        target = folder / f"student{index:03d}"
        target.mkdir(parents=True)
        shutil.copy(course.examples / assignment / kind / f"{assignment}.ipynb", target)
        paths.append(target / f"{assignment}.ipynb")
    return paths


def bare_papermill(paths: list[Path], work: Path) -> float:
    total = 0.0
    for index, path in enumerate(paths):
        run_dir = work / f"bare{index}"
        run_dir.mkdir()
        started = time.perf_counter()
        try:
            papermill.execute_notebook(str(path), str(run_dir / "out.ipynb"), kernel_name="python3",
                                       progress_bar=False, cwd=str(run_dir))
        except papermill.PapermillExecutionError:
            pass  # partial and blank notebooks raise NotImplementedError: still a full run
        total += time.perf_counter() - started
    return total


def stock_nbgrader(course: Course, assignment: str, batch: Path, work: Path) -> float:
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    root = work / "nbgrader-course"
    shutil.copytree(course.source / assignment, root / "source" / assignment)
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.Execute.timeout = 120\n")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([nbgrader, "generate_assignment", assignment, "--force"], cwd=root, env=env,
                   capture_output=True, check=True)
    for student in sorted(p.name for p in batch.iterdir()):
        target = root / "submitted" / student / assignment
        target.mkdir(parents=True)
        shutil.copy(batch / student / f"{assignment}.ipynb", target)
    started = time.perf_counter()
    proc = subprocess.run([nbgrader, "autograde", assignment, "--create", "--force"], cwd=root, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        print("stock nbgrader reported errors:", proc.stderr[-500:], file=sys.stderr)
    return seconds


def ours(course: Course, assignment: str, batch: Path, out: Path, workers: int, **options) -> float:
    started = time.perf_counter()
    results = grade_assignment(course, assignment, batch, out,
                               GradeOptions(workers=workers, force=True, progress=False, **options), log=lambda *a: None)
    seconds = time.perf_counter() - started
    bad = [r for r in results if r.status != "graded"]
    if bad:
        print(f"warning: {len(bad)} submissions not graded normally: {bad[0].status} {bad[0].reason}", file=sys.stderr)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignment", default="04-modeling")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    course = Course(ROOT)
    cores = default_workers()
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        batch = work / "submissions"
        paths = make_batch(course, args.assignment, args.count, batch)
        print(f"{args.count} submissions of {args.assignment}; {cores} cores", file=sys.stderr)
        timings = {}
        print("bare papermill runs...", file=sys.stderr)
        timings["bare sum"] = bare_papermill(paths, work)
        print("stock nbgrader autograde...", file=sys.stderr)
        timings["stock nbgrader"] = stock_nbgrader(course, args.assignment, batch, work)
        print("ours, 1 worker on one core...", file=sys.stderr)
        timings["ours 1 worker, 1 core"] = ours(course, args.assignment, batch, work / "out0", 1,
                                                config=KernelConfig(threads=1), prestart=False)
        print("ours, 1 worker...", file=sys.stderr)
        timings["ours 1 worker"] = ours(course, args.assignment, batch, work / "out1", 1)
        print(f"ours, {args.workers} workers...", file=sys.stderr)
        timings[f"ours {args.workers} workers"] = ours(course, args.assignment, batch, work / "outN", args.workers)
    ideal = timings["bare sum"] / cores
    n_key = f"ours {args.workers} workers"
    print(f"\n{args.count} submissions of {args.assignment} on {cores} cores (wall clock, one run)\n")
    print(f"{'configuration':<24} {'seconds':>8} {'s/submission':>13}")
    for name, seconds in timings.items():
        print(f"{name:<24} {seconds:>8.1f} {seconds / args.count:>13.2f}")
    print(f"{'ideal (bare sum / cores)':<24} {ideal:>8.1f} {ideal / args.count:>13.2f}")
    print()
    print(f"ours {args.workers} workers vs ours 1 worker on one core (1 thread, no kernel pre-start): "
          f"{timings['ours 1 worker, 1 core'] / timings[n_key]:.2f}x faster (aim >= 1.8x)")
    print(f"ours {args.workers} workers vs ours 1 worker as shipped (pre-started kernels, {cores} threads): "
          f"{timings['ours 1 worker'] / timings[n_key]:.2f}x faster")
    print(f"ours {args.workers} workers vs stock nbgrader: {timings['stock nbgrader'] / timings[n_key]:.2f}x faster (aim >= 2x)")
    print(f"ours {args.workers} workers vs ideal: {timings[n_key] / ideal:.2f}x the ideal time (aim <= 1.25x)")
    print(f"ours 1 worker vs stock nbgrader: {timings['stock nbgrader'] / timings['ours 1 worker']:.2f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
