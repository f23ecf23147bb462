"""`autograder check NOTEBOOK`: a student's own run of the visible tests.

The notebook runs exactly as the grader would run it (same engine, same receipts), so a part
that passes here passes its visible tests when graded; the hidden tests run only at grading time.
Nothing is written next to the notebook, and the notebook itself is not modified.
"""
from __future__ import annotations

import sys
from pathlib import Path

from autograder import cells as C
from autograder import results as R
from autograder.assemble import assemble, imported_modules
from autograder.errors import UsageError
from autograder.execute import Settings, run_notebook
from autograder.grade import PROTECTED_MODULES, parse_notebook
from autograder.sandbox.isolation import detect
from autograder.score import score_parts


def check_notebook(path: Path, settings: Settings | None = None) -> tuple[list[R.PartResult], str]:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} does not exist; pass the notebook you are working on, e.g. "
                         "release/01-problem-framing/01-problem-framing.ipynb")
    try:
        nb = parse_notebook(path.read_bytes())
    except ValueError as error:
        raise UsageError(f"{path} cannot be checked: {error}") from None
    if not any(C.is_test(c) for c in nb.cells):
        raise UsageError(f"{path} has no test cells: is it an assignment notebook?")
    assembled = assemble(nb, nb)
    files = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file() and p.suffix != ".ipynb"}
    execution, key = run_notebook(assembled.notebook, settings=settings or Settings(),
                             isolation=detect(sandbox_user=None, use_namespaces=False),
                             files=files, preimports=imported_modules(nb), protected=PROTECTED_MODULES)
    parts, _ = score_parts(assembled, execution, key, set())
    return parts, execution.reason


def print_report(parts: list[R.PartResult], reason: str, stream=None) -> None:
    stream = stream or sys.stdout
    labels = {R.PASSED: "passed", R.FAILED: "FAILED", R.NOT_ATTEMPTED: "not attempted",
              R.NOT_RUN: "did not run", R.MANUAL: "graded by hand"}
    width = max([len(p.title) for p in parts] + [4])
    for p in parts:
        line = f"{p.title:<{width}}  {labels.get(p.outcome, p.outcome):<14} {p.max_points:g} pts"
        print(line, file=stream)
        if p.message and p.outcome not in (R.PASSED, R.MANUAL):
            for text in p.message.splitlines()[:6]:
                print(f"{'':<{width}}    {text}", file=stream)
    tests = [p for p in parts if p.kind == "test"]
    passed = [p for p in tests if p.passed]
    at_stake = sum(p.max_points for p in tests)
    print(f"\nvisible tests passed in {len(passed)} of {len(tests)} parts "
          f"({sum(p.max_points for p in passed):g} of {at_stake:g} points at stake).", file=stream)
    print("Hidden tests run only when your notebook is graded, so full marks here are necessary, "
          "not sufficient.", file=stream)
    if reason:
        print(f"note: {reason}", file=stream)
