"""How many wrong-but-plausible answers the VISIBLE tests catch, per assignment (issue 20).

    .venv/bin/python benchmarks/visible_catch.py [ASSIGNMENT ...] [--json FILE]

For each assignment (all that have a tests/variants/aNN.py when none is named) it builds every
wrong notebook exactly as tests/test_assignment_NN.py does (`tests.variants.aNN.build`, from the
perfect example), and checks it the way a student does before submitting: `autograder check`
(autograder/check.py), which rebuilds the notebook around the release's cells and runs the visible
tests only. A mistake counts as caught when a visible test of one of the parts it must fail (the
table's parts, not the "may fail too" ones) failed; the first line of that part's message is shown.

Several mistakes share a notebook, so a part's visible failure may come from another mistake of
the same notebook: a mistake whose answer cell comes before the part's test cell and that either
lists the part itself or defines a name the part's test cell or the mistake's own answer cell reads.
Such catches are marked "(could also come from: ...)"; a part failed by no other mistake's
candidate is attributed without doubt.

Prints per assignment: autograded parts, parts with a variant, mistakes, mistakes caught visibly,
and one line per mistake. Each wrong notebook is one notebook run (half a minute of CPU or more).
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import cells as C  # noqa: E402
from autograder import results as R  # noqa: E402
from autograder.check import check_notebook  # noqa: E402
from autograder.sandbox.config import KernelConfig  # noqa: E402
from autograder.layout import Course  # noqa: E402
from tests import variants as V  # noqa: E402
from tests.helpers import example  # noqa: E402

COURSE = Course(ROOT)


@dataclass
class Catch:
    variant: str
    name: str
    parts: tuple[str, ...]
    caught: bool
    part: str = ""  # the part whose visible test failed (or the first part, when none did)
    outcome: str = ""  # that part's outcome in the student's check
    message: str = ""  # first line of its message
    also_from: list[str] = field(default_factory=list)  # other mistakes of the notebook that could explain it


@dataclass
class AssignmentCatch:
    assignment: str
    parts: list[str]  # autograded parts (test cells) of the source
    with_variant: list[str]
    mistakes: list[Catch]
    seconds: float = 0.0

    @property
    def caught(self) -> int:
        return sum(m.caught for m in self.mistakes)


def defined_names(source: str) -> set[str]:
    """Top-level names an answer cell defines (functions, classes, assigned names)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"^(?:def|class)\s+(\w+)|^(\w+)\s*=", source, re.M)) - {""}
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def reads(source: str, names: set[str]) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", source) for name in names)


def could_also_come_from(mistake: V.Mistake, part: str, others: list[V.Mistake], nb: nbformat.NotebookNode) -> list[str]:
    """Other mistakes of the same wrong notebook that could make `part`'s visible test fail."""
    order = {C.grade_id(cell): i for i, cell in enumerate(nb.cells)}
    source = {C.grade_id(cell): C.source(cell) for cell in nb.cells}
    suspects = []
    for other in others:
        if other is mistake or other.variant != mistake.variant or order[other.cell] > order[part]:
            continue
        if part in other.must or part in other.may or other.cell == mistake.cell:
            suspects.append(other.name)
            continue
        names = defined_names(source[other.cell])
        if reads(source[part], names) or reads(source[mistake.cell], names):
            suspects.append(other.name)
    return suspects


def first_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def check(nb: nbformat.NotebookNode, assignment: str, config: KernelConfig) -> dict[str, R.PartResult]:
    """The student's `autograder check` of `nb`: the visible tests' outcome per part."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / assignment / f"{assignment}.ipynb"
        path.parent.mkdir()
        nbformat.write(nb, path)
        report = check_notebook(path, config=config, release=COURSE.release)
    if report.reason:
        print(f"  note: {report.reason}", flush=True)
    return {p.grade_id: p for p in report.parts}


def measure(assignment: str, config: KernelConfig) -> AssignmentCatch:
    variants = V.module(assignment)
    assignment = variants.ASSIGNMENT
    source = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
    parts = [C.grade_id(c) for c in source.cells if C.is_test(c)]
    mistakes = V.mistakes(variants)
    perfect = example(assignment, "perfect")
    started = time.monotonic()
    found = []
    for variant in variants.VARIANTS:
        nb = variants.build(perfect, variant)
        print(f"  checking {variant} ({sum(m.variant == variant for m in mistakes)} mistakes) ...", flush=True)
        outcome = check(nb, assignment, config)
        for mistake in (m for m in mistakes if m.variant == variant):
            failed = [p for p in mistake.must if p in outcome and outcome[p].outcome != R.PASSED]
            part = failed[0] if failed else mistake.must[0]
            result = outcome.get(part)
            found.append(Catch(
                variant, mistake.name, mistake.must, caught=bool(failed), part=part,
                outcome=str(result.outcome.value if hasattr(result.outcome, "value") else result.outcome) if result else "missing",
                message=first_line(result.message) if result and failed else "",
                also_from=could_also_come_from(mistake, part, mistakes, nb) if failed else []))
    with_variant = sorted({p for m in mistakes for p in m.must} & set(parts))
    return AssignmentCatch(assignment, parts, with_variant, found, time.monotonic() - started)


def print_assignment(a: AssignmentCatch, stream=sys.stdout) -> None:
    print(f"\n== {a.assignment}: {len(a.parts)} autograded parts, {len(a.with_variant)} with a variant, "
          f"{len(a.mistakes)} mistakes, {a.caught} caught by the visible tests ({a.seconds:.0f} s)", file=stream)
    missing = sorted(set(a.parts) - set(a.with_variant))
    if missing:
        print(f"   parts without a variant: {', '.join(missing)}", file=stream)
    width = max(len(m.name) for m in a.mistakes)
    for m in a.mistakes:
        if m.caught:
            line = f"   caught      {m.variant}  {m.name:<{width}}  {m.part}: {m.message}"
            if m.also_from:
                line += f"  (could also come from: {'; '.join(m.also_from)})"
        else:
            line = f"   not caught  {m.variant}  {m.name:<{width}}  {', '.join(m.parts)}: visible tests {m.outcome}"
        print(line, file=stream)


def print_table(results: list[AssignmentCatch], stream=sys.stdout) -> None:
    print("\nassignment                      parts  with variant  mistakes  caught visibly", file=stream)
    for a in results:
        print(f"{a.assignment:<31} {len(a.parts):>5}  {len(a.with_variant):>12}  {len(a.mistakes):>8}  "
              f"{a.caught:>6} ({a.caught / max(len(a.mistakes), 1):.0%})", file=stream)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", help="e.g. 03-metrics-and-baselines or 03 (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--start-timeout", type=float, default=300.0,
                        help="seconds a kernel may take to start on a busy machine (default 300)")
    args = parser.parse_args(argv)
    names = args.assignments or sorted(p.stem[1:] for p in (ROOT / "tests" / "variants").glob("a[0-9][0-9].py"))
    config = KernelConfig(start_timeout=args.start_timeout)
    results = []
    for name in names:
        print(f"{name}:", flush=True)
        results.append(measure(name, config))
        print_assignment(results[-1])
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps([{**asdict(a), "caught": a.caught} for a in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
