"""What the sentinel costs per test cell and per notebook.

    .venv/bin/python benchmarks/bench_sentinel.py [ASSIGNMENT ...]   (default: 03-metrics-and-baselines)

For each assignment it assembles the perfect example as grading does, appends a number of empty
tests (`assert True`, each with its guard cell) after the last cell, and runs the notebook once in
the sandboxed kernel. It prints, from the per-cell wall-clock times the engine records:

* guard cells of the real tests: sum over the notebook and mean per test (the sentinel's
  restore-and-arm step plus one kernel round trip);
* empty tests: mean of guard + test (what one test costs when the test itself does nothing:
  restore, arm, digest, the end-of-test change check, the receipt, two round trips);
* plain cells (`pass`): one kernel round trip, the floor under both figures above;
* the whole notebook's run time and how many tests earned a receipt.

Wall clock on a shared machine: compare figures taken at the same load, and run it twice.

A second table builds, in a fresh process that imported what the assignment's kernel imports,
the sentinel's own snapshot of the protected libraries (sentinel.snapshot_modules, then
libstate) and times the two passes the sentinel makes per test when nothing changed: putting
back before the test (restore) and the change check after it (judge), in CPU milliseconds, the
best of several batches (far less sensitive to load than the first table). It shows them with dictionary version tags (what the kernel uses) and entry
by entry (the fallback when the tags cannot be read), with how many protected module
dictionaries hold None values ("None") and how many dictionaries the fast check cannot clear
although nothing changed ("slow"): those are compared entry by entry on every pass.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import cells as C  # noqa: E402
from autograder.assemble import GUARD_ROLE, TEST_ROLE, assemble, imported_modules  # noqa: E402
from autograder.execute import run_notebook  # noqa: E402
from autograder.sandbox.config import KernelConfig  # noqa: E402
from autograder.policy import kernel_policy  # noqa: E402
from autograder.layout import Course  # noqa: E402
from autograder.sandbox.isolation import detect  # noqa: E402
from autograder.receipt import read as read_receipts  # noqa: E402

EMPTY_TESTS = 20


def empty_test_source(index: int) -> nbformat.NotebookNode:
    """A one-cell source notebook holding an empty graded test, assembled like a real one."""
    from autograder.authoring import notebook, tests

    return notebook([tests(f"bench_empty_{index}", 1, visible="assert True", hidden="assert True")])


def with_empty_tests(assembled_nb: nbformat.NotebookNode, count: int) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(assembled_nb)
    for index in range(count):
        extra = assemble(empty_test_source(index), empty_test_source(index)).notebook
        nb.cells.extend(c for c in extra.cells if c.metadata.get("autograder", {}).get("role") in (GUARD_ROLE, TEST_ROLE))
    for index in range(count):  # the same number of plain cells: one kernel round trip each
        nb.cells.append(nbformat.v4.new_code_cell("pass", metadata={"autograder": {"role": "bench_plain"}}))
    return nb


def role_of(cell) -> tuple[str | None, str | None]:
    meta = cell.metadata.get("autograder", {})
    return meta.get("role"), meta.get("grade_id")


def measure(course: Course, assignment: str) -> dict:
    source = nbformat.read(course.source_notebook(assignment), as_version=4)
    perfect = nbformat.read(course.examples / assignment / "perfect" / f"{assignment}.ipynb", as_version=4)
    assembled = assemble(source, perfect)
    nb = with_empty_tests(assembled.notebook, EMPTY_TESTS)
    files = {str(p.relative_to(course.source / assignment)): p.read_bytes()
             for p in course.supporting_files(assignment)}
    started = time.perf_counter()
    execution, key = run_notebook(nb, config=KernelConfig(), isolation=detect(), files=files,
                                  preimports=imported_modules(source),
                                  policy=kernel_policy(data_dirs=[course.root / "datasets"]))
    total = time.perf_counter() - started
    receipts = read_receipts(execution.receipts, key).verified
    real_guards, empty, plain = [], {}, []
    for cell in execution.notebook.cells:
        role, gid = role_of(cell)
        seconds = cell.metadata.get("autograder", {}).get("seconds")
        if role == "bench_plain" and seconds is not None:
            plain.append(seconds)
        if seconds is None or role not in (GUARD_ROLE, TEST_ROLE):
            continue
        if gid and gid.startswith("bench_empty_"):
            empty[gid] = empty.get(gid, 0.0) + seconds
        elif role == GUARD_ROLE:
            real_guards.append(seconds)
    tests = [c for c in source.cells if C.is_test(c)]
    return {
        "assignment": assignment, "tests": len(tests), "guard_sum": sum(real_guards),
        "guard_mean_ms": 1000 * sum(real_guards) / max(1, len(real_guards)),
        "empty_mean_ms": 1000 * sum(empty.values()) / max(1, len(empty)),
        "plain_mean_ms": 1000 * sum(plain) / max(1, len(plain)),
        "notebook_s": total, "receipts": sum(1 for gid in receipts if not gid.startswith("bench_empty_")),
        "empty_receipts": sum(1 for gid in receipts if gid.startswith("bench_empty_")),
    }


MICRO = """
import importlib, json, sys, time
from autograder.policy import kernel_policy
from autograder.sandbox import libstate, sentinel
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:
        pass
import IPython, ipykernel.kernelapp  # noqa: F401 - the kernel has these too
protected = sentinel.protected_names(kernel_policy().protected_modules)
snapshot = sentinel.snapshot_modules(sys.modules, protected)  # what the sentinel keeps at start-up
out = {"modules": len(snapshot), "entries": sum(len(c) for _, c in snapshot.values()),
       "none_entries": sum(1 for m, c in snapshot.values() for k, v in vars(m).items() if v is None)}
def best_ms(step, batches=7, runs=10):
    # CPU time of one call, the best of several batches: other processes on a busy machine
    # slow a batch down, never speed it up
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for _ in range(runs):
            step()
        best = min(best, (time.process_time() - started) / runs)
    return 1000 * best
reader = libstate._version_reader
for mode in ("versions", "entries"):
    libstate._version_reader = reader if mode == "versions" else (lambda dicts: None)
    started = time.perf_counter()
    state = libstate.make_library_state(snapshot, protected)
    out[mode + "_snapshot_ms"] = 1000 * (time.perf_counter() - started)
    out[mode + "_moved"] = len(state.moved())  # compared entry by entry although nothing changed
    out[mode + "_restore_ms"] = best_ms(lambda: state.restore([]))
    out[mode + "_judge_ms"] = best_ms(lambda: state.judge(set(), []))
print(json.dumps(out))
"""


def micro(course: Course, assignment: str) -> dict:
    source = nbformat.read(course.source_notebook(assignment), as_version=4)
    result = subprocess.run([sys.executable, "-c", MICRO, json.dumps(imported_modules(source))],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    course = Course(ROOT)
    assignments = argv or ["03-metrics-and-baselines"]
    print(f"{'assignment':<32} {'tests':>5} {'guards s':>9} {'guard ms':>9} {'empty test ms':>14} "
          f"{'plain cell ms':>14} {'notebook s':>11} {'receipts':>9}")
    for assignment in assignments:
        row = measure(course, assignment)
        print(f"{row['assignment']:<32} {row['tests']:>5} {row['guard_sum']:>9.3f} {row['guard_mean_ms']:>9.1f} "
              f"{row['empty_mean_ms']:>14.1f} {row['plain_mean_ms']:>14.1f} {row['notebook_s']:>11.1f} "
              f"{row['receipts']:>4}+{row['empty_receipts']:<4}")
    print()
    print(f"{'assignment':<32} {'modules':>7} {'entries':>8} {'None':>5} {'slow (versions)':>16} "
          f"{'restore+judge ms (versions)':>28} {'slow (entries)':>15} {'restore+judge ms (entries)':>27}")
    for assignment in assignments:
        row = micro(course, assignment)
        print(f"{assignment:<32} {row['modules']:>7} {row['entries']:>8} {row['none_entries']:>5} "
              f"{row['versions_moved']:>16} {row['versions_restore_ms']:>13.2f} + {row['versions_judge_ms']:<12.2f} "
              f"{row['entries_moved']:>15} {row['entries_restore_ms']:>12.2f} + {row['entries_judge_ms']:<12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
