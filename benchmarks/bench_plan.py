"""The grader's own per-submission work, before and after the per-assignment plan (in process).

    .venv/bin/python benchmarks/bench_plan.py [--assignment 01-problem-framing] [--repeat 20]

No kernel runs here: it times, for the assignment's example submissions (perfect, partial, blank),
what the grader does around the notebook's run, two ways, in this one process:
  * per submission (how grade.py worked): the source notebook converted again (`from_dict`), the
    empty part rows made again, the submission assembled from scratch (every locked cell parsed
    for import aliases once per test cell; guards, trails, statement digests and measures built
    again), the hidden-test lines computed twice (scoring and feedback), and the assignment's
    context pickled to the worker with every job;
  * with the plan (plan.py): all of that made once per batch (its cost printed on its own line),
    then per submission only the assembly of the student's cells with the plan's blueprint and a
    copy of the empty rows; the plan goes to each worker process once, not with each job.
Prints the median milliseconds of each step per submission and the whole; figures are wall clock
on a shared machine, so compare the two columns of one run rather than runs. Both columns build
cells the way assemble.py does now (not validated one by one: the old code's nbformat.new_*_cell
validated each against the schema, which cost more again, see the commit that changed it).
"""
from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import cells as C  # noqa: E402
from autograder.assemble import assemble, student_view  # noqa: E402
from autograder.layout import Course, assignment_files  # noqa: E402
from autograder.plan import empty_parts, make_plan  # noqa: E402
from autograder.sandbox.config import KernelConfig  # noqa: E402

KINDS = ("perfect", "partial", "blank")


def median_ms(step, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignment", default="01-problem-framing")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    course = Course(ROOT)
    started = time.perf_counter()
    plan = make_plan(course, args.assignment, KernelConfig())
    plan_seconds = time.perf_counter() - started
    source = plan.source
    view = student_view(source)  # the old context carried it too
    files = assignment_files(course.release / args.assignment)
    old_context = {"source": dict(source), "files": files, "view": view}
    submissions = [nbformat.read(course.examples / args.assignment / kind / f"{args.assignment}.ipynb", as_version=4)
                   for kind in KINDS]

    before: dict[str, float] = {}
    after: dict[str, float] = {}
    for nb in submissions:
        steps_before = {
            "source notebook (from_dict)": lambda: nbformat.from_dict(old_context["source"]),
            "empty part rows": lambda: empty_parts(source),
            "assemble": lambda nb=nb: assemble(source, nb, view=view),
            "hidden lines (twice)": lambda: (C.hidden_lines(source), C.hidden_lines(source)),
            "context to the worker": lambda: pickle.loads(pickle.dumps(old_context)),
        }
        steps_after = {
            "source notebook (from_dict)": lambda: None,
            "empty part rows": plan.empty_parts,
            "assemble": lambda nb=nb: assemble(source, nb, blueprint=plan.blueprint),
            "hidden lines (twice)": lambda: None,
            "context to the worker": lambda: None,
        }
        for name, step in steps_before.items():
            before[name] = before.get(name, 0.0) + median_ms(step, args.repeat) / len(submissions)
        for name, step in steps_after.items():
            after[name] = after.get(name, 0.0) + median_ms(step, args.repeat) / len(submissions)
    plan_pickle = median_ms(lambda: pickle.loads(pickle.dumps(plan)), args.repeat)

    print(f"{args.assignment}: the grader's own work per submission, in process (median of {args.repeat}, "
          f"mean over {', '.join(KINDS)})\n")
    print(f"{'step':<30} {'per submission':>15} {'with the plan':>14}")
    for name in before:
        print(f"{name:<30} {before[name]:>12.2f} ms {after[name]:>11.2f} ms")
    print(f"{'total':<30} {sum(before.values()):>12.2f} ms {sum(after.values()):>11.2f} ms")
    print(f"\nonce per batch: the plan itself {1000 * plan_seconds:.0f} ms (source loaded and checked, blueprint, "
          f"hidden lines, rows, pre-imports); sent to each worker process once: {plan_pickle:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
