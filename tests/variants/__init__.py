"""Wrong-but-plausible answers of every assignment (issue 20), as data both users import.

One module per assignment (`a01` ... `a07`), each with:
- `ASSIGNMENT`, the assignment's name;
- `VARIANTS`, {variant: {mistake name: spec}}: the mistakes grouped into the few wrong notebooks the
  assignment's tests grade (one notebook run each);
- `build(perfect, variant)`, that wrong notebook, built from the perfect example;
- `parts(spec)`, (parts the mistake must fail, parts that may fail too because they build on it).

tests/test_assignment_NN.py grades the wrong notebooks (each mistake loses exactly its parts);
benchmarks/visible_catch.py runs them through the visible tests only, as a student would.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Mistake:
    variant: str  # the wrong notebook that carries it
    name: str
    cell: str  # the answer cell it changes
    must: tuple[str, ...]  # the test cells that must fail
    may: frozenset[str]  # test cells that may fail too (they build on the answer)


def module(assignment: str) -> ModuleType:
    """The variants module of an assignment, by its name or number ("03-metrics-and-baselines", "03", "3")."""
    number = assignment.split("-")[0].zfill(2)
    name = f"{__name__}.a{number}"
    if importlib.util.find_spec(name) is None:
        raise ValueError(f"no wrong-answer variants for assignment {assignment!r} (tests/variants/a{number}.py)")
    return importlib.import_module(name)


def mistakes(variants: ModuleType) -> list[Mistake]:
    """Every mistake of an assignment's variants module, in table order."""
    found = []
    for variant, table in variants.VARIANTS.items():
        for name, spec in table.items():
            must, may = variants.parts(spec)
            found.append(Mistake(variant, name, spec[0], tuple(must), frozenset(may)))
    return found
