"""Mutation test of an assignment's hidden tests: how many single faults in a solution lose points?

    .venv/bin/python benchmarks/mutation.py ASSIGNMENT [--parts ID ...] [--max N] [--seed S]
                                            [--workers W] [--batch B] [--no-sandbox] [--list]
                                            [--json FILE]

Every code answer cell of ``source/ASSIGNMENT`` gets single-fault copies of its solution
(``autograder.mutants``: flipped comparisons, off-by-one constants, swapped arguments, a dropped
statement, a changed return value...). Each mutant is the perfect example with that one cell
changed; mutants are graded through the real grader (``grade_assignment``: assembly, sandbox,
receipts, scoring), a batch at a time, after a control run of the unchanged perfect example that
must score full marks. A mutant is *killed* when it scores below the control (or its run times
out); it *survives* when it keeps full marks.

The table gives, per answer cell: mutants, killed, survived, the kill rate, and every survivor
with its fault, so a person can tell blind tests from equivalent mutants (faults no test could
see, such as a tolerance doubled). It is slow: one notebook run per mutant (about the notebook's
runtime plus a second or two), so ``--max`` samples at most N mutants per answer cell (at random,
``--seed``), ``--parts`` limits it to some answer cells, ``--list`` only lists the mutants, and
``--no-sandbox`` runs the kernels without namespaces and without dropping privileges (trusted
code only: these are the instructor's own solutions), which saves the sandbox's start-up.
"""
from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import cells as C  # noqa: E402
from autograder.examples import example_notebooks, reference_answer  # noqa: E402
from autograder.sandbox.config import KernelConfig  # noqa: E402
from autograder.grade import GradeOptions, grade_assignment  # noqa: E402
from autograder.layout import Course  # noqa: E402
from autograder.mutants import notebook_mutants  # noqa: E402

CONTROL = "control"


def sample(mutants, per_cell: int | None, seed: int):
    """At most ``per_cell`` mutants of each answer cell, drawn at random; source order kept."""
    if per_cell is None:
        return list(mutants)
    rng = random.Random(seed)
    by_cell = defaultdict(list)
    for index, mutant in enumerate(mutants):
        by_cell[mutant.cell].append(index)
    keep = set()
    for indices in by_cell.values():
        keep.update(rng.sample(indices, min(per_cell, len(indices))))
    return [m for i, m in enumerate(mutants) if i in keep]


def mutant_notebook(perfect, mutant):
    """The perfect example with the mutant's answer cell, as a student would submit it."""
    nb = copy.deepcopy(perfect)
    for cell in nb.cells:
        if C.grade_id(cell) == mutant.cell:
            cell.source = reference_answer(mutant.source)
            return nb
    raise ValueError(f"the perfect example has no answer cell {mutant.cell!r}")


def grade_batch(course, assignment, notebooks: dict, options: GradeOptions) -> dict:
    """Grade {student id: notebook} in one batch (a fresh folder); {student id: result}."""
    with tempfile.TemporaryDirectory(prefix="mutation-") as work:
        work = Path(work)
        name = course.notebook_name(assignment)
        for student, nb in notebooks.items():
            folder = work / "submissions" / student
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / name)
        results = grade_assignment(course, assignment, work / "submissions", work / "out", options,
                                   log=lambda *args: None)
    return {r.student_id: r for r in results}


class ControlFailed(RuntimeError):
    """The unchanged perfect example does not score full marks: mutants would prove nothing."""


def run_mutants(course, assignment, source_nb, mutants, options: GradeOptions, batch: int = 8,
                log=print) -> list[dict]:
    """Grade a control run, then every mutant, ``batch`` at a time; one row per mutant."""
    perfect = example_notebooks(source_nb)["perfect"]
    control = grade_batch(course, assignment, {CONTROL: perfect}, options)[CONTROL]
    if control.status != "graded" or control.score < control.max_score:
        raise ControlFailed(f"the unchanged perfect example scores {control.score:g}/{control.max_score:g} "
                            f"({control.status}; lost {lost_parts(control)}): fix the notebook first")
    log(f"{assignment}: {len(mutants)} mutants; control {control.score:g}/{control.max_score:g} "
        f"in {control.seconds:.1f} s")
    rows = []
    for start in range(0, len(mutants), batch):
        chunk = {f"m{start + i:04d}": m for i, m in enumerate(mutants[start:start + batch])}
        results = grade_batch(course, assignment, {k: mutant_notebook(perfect, m) for k, m in chunk.items()},
                              options)
        for student, mutant in chunk.items():
            result = results[student]
            killed = result.status != "graded" or result.score < control.score - 1e-9
            lost = lost_parts(result)
            rows.append({"id": student, "cell": mutant.cell, "operator": mutant.operator, "line": mutant.line,
                         "mutant": mutant.describe(), "killed": bool(killed), "status": result.status,
                         "score": result.score, "lost_parts": lost, "seconds": round(result.seconds, 1)})
            verdict = f"killed by {', '.join(lost) or result.status}" if killed else "SURVIVED"
            log(f"[{len(rows)}/{len(mutants)}] {mutant.describe()}: {verdict}")
    return rows


def lost_parts(result) -> list[str]:
    return [p.grade_id for p in result.parts if p.kind == "test" and not p.passed]


def report(assignment, rows, seconds: float, stream=None) -> None:
    """Per answer cell: mutants, killed, survived, kill rate; then every survivor."""
    stream = stream or sys.stdout
    by_cell = defaultdict(list)
    for row in rows:
        by_cell[row["cell"]].append(row)
    print(f"\n{assignment}: mutation test of the hidden tests", file=stream)
    print(f"{'answer cell':<28s} {'mutants':>7s} {'killed':>6s} {'survived':>8s} {'killed %':>8s}", file=stream)
    for cell, items in by_cell.items():
        killed = sum(r["killed"] for r in items)
        print(f"{cell:<28s} {len(items):>7d} {killed:>6d} {len(items) - killed:>8d} "
              f"{100 * killed / len(items):>7.0f}%", file=stream)
    total = len(rows)
    killed = sum(r["killed"] for r in rows)
    if total:
        print(f"{'all':<28s} {total:>7d} {killed:>6d} {total - killed:>8d} {100 * killed / total:>7.0f}%",
              file=stream)
        print(f"{seconds:.0f} s in all, {seconds / total:.1f} s per mutant", file=stream)
    survivors = [r for r in rows if not r["killed"]]
    if survivors:
        print("\nsurvivors (blind tests, or faults no test could see):", file=stream)
        for r in survivors:
            print(f"  {r['mutant']}", file=stream)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment")
    parser.add_argument("--parts", nargs="+", metavar="ID", help="answer cells (grade ids) to mutate")
    parser.add_argument("--max", type=int, default=None, metavar="N", help="at most N mutants per answer cell")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --max sample")
    parser.add_argument("--workers", type=int, default=2, help="notebooks graded at once")
    parser.add_argument("--batch", type=int, default=8, help="mutants per grading batch")
    parser.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell")
    parser.add_argument("--no-sandbox", action="store_true", help="plain kernels: no namespaces, no user change")
    parser.add_argument("--list", action="store_true", help="list the mutants, grade nothing")
    parser.add_argument("--json", type=Path, help="also write every mutant's outcome to this file")
    args = parser.parse_args(argv)

    course = Course(ROOT)
    assignment = course.check_assignment(args.assignment)
    source_nb = nbformat.read(course.source_notebook(assignment), as_version=4)
    try:
        mutants = sample(notebook_mutants(source_nb, args.parts), args.max, args.seed)
    except ValueError as error:
        parser.error(str(error))
    if args.list:
        for mutant in mutants:
            print(mutant.describe())
        print(f"{len(mutants)} mutants")
        return 0

    config = KernelConfig(cell_timeout=args.cell_timeout, notebook_timeout=max(300.0, 4 * args.cell_timeout))
    options = GradeOptions(workers=args.workers, progress=False, force=True, config=config,
                           sandbox_user=None if args.no_sandbox else "nobody",
                           use_namespaces=not args.no_sandbox)
    started = time.perf_counter()
    try:
        rows = run_mutants(course, assignment, source_nb, mutants, options, args.batch,
                           log=lambda line: print(line, flush=True))
    except ControlFailed as error:
        print(error, file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    report(assignment, rows, seconds)
    if args.json:
        args.json.write_text(json.dumps({"assignment": assignment, "seconds": seconds, "mutants": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
