"""Measurements: what a hidden test measured, carried to the grader as signed as its verdict.

A test that judges a shipped system against a spec (precision at the shipped threshold, model
size, alarm delay...) reports what it measured with ``report``, in a statement of its own::

    from autograder.measure import report as _measure
    ...
    _measure("precision", float(_m["precision"]), target=float(_SPEC.min_precision),
             unit="fraction", better="higher", role="guardrail")
    assert _m["precision"] >= _SPEC.min_precision, "..."

The grader keeps the value on the part (``PartResult.measured``), in results/*.json and the
output folder's state, and `autograder report` shows a class leaderboard of them. A measurement
is as trustworthy as the test's verdict: it reaches the grader only through the receipt channel
(receipt.py), signed by the sentinel with the run's key, and only when

* the call came from this module's own ``report`` (its code object, at start-up), called directly
  by a top-level statement of the armed test cell, run by IPython for that cell (sentinel.py);
* that statement then completed (a statement that raises, for instance after student code called
  ``report`` itself while its arguments were evaluated, reports nothing), and only its last call
  counts;
* nothing the sentinel restored before the test had changed by then (the receipt's change check);
* the line carries the digest of the statements that ran so far, which must be the digest of the
  first statements of the grader's own copy of the test, and the statement it names must be,
  in that copy, a ``report("<that name>", ...)`` call with a string literal for a name
  (``declarations`` below reads them, with their unit, direction and role).

So printing a measurement, writing a line to the receipt descriptor, raising the audit event from
student code or calling ``report`` from a function a test calls changes nothing. Value and
target must be plain ``int`` or ``float`` (finite) or None (value None: the test could not measure
it, e.g. a monitor that never alarmed has no alarm delay); the name an identifier.

Outside grading (a student's own run, `autograder check`) ``report`` does nothing: no sentinel
listens. This module imports only the standard library (it runs in the kernel).
"""
from __future__ import annotations

import ast
import sys
from dataclasses import asdict, dataclass

EVENT = "autograder.measure"  # raised by report: (name, value, target)
HIGHER, LOWER = "higher", "lower"  # which way is better
PRIMARY, GUARDRAIL, INFO = "primary", "guardrail", "info"  # how the leaderboard ranks


def _make_report(audit):
    def report(name, value, /, *, target=None, unit="", better=HIGHER, role=INFO):
        """Report what the test measured (see the module's docstring). `unit`, `better` ("higher"
        or "lower") and `role` ("primary", "guardrail" or "info") must be string literals: the
        grader reads them from its own copy of the test, not from the run."""
        audit("autograder.measure", name, value, target)

    return report


report = _make_report(sys.audit)


# --- the grader's side: what a test declares ----------------------------------------------------
@dataclass(frozen=True)
class Declaration:
    """One `report(...)` call in the grader's copy of a test, read from its literals."""

    name: str
    unit: str = ""
    better: str = HIGHER
    role: str = INFO

    def to_dict(self) -> dict:
        return asdict(self)


class DeclarationError(ValueError):
    """A test's report() call the grader cannot read (for the author of the assignment)."""


def _literal(node: ast.expr, what: str, grade_id: str) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise DeclarationError(f"{grade_id}: report()'s {what} must be a string literal")


def declarations(test_text: str, aliases: dict[str, tuple[str, str | None]], grade_id: str = "") -> dict[int, Declaration]:
    """{statement index: its report() declaration} for a test cell's text as IPython runs it.

    `aliases`: the names the test can call report by (name -> (module, attribute)), i.e. the
    imports of the locked cells and of the test cell (assemble.import_aliases). A measurement
    statement is an expression statement that is a call to report: anything else (a report()
    inside a loop, a function or another expression) is refused with a DeclarationError, so an
    author learns it when the assignment is loaded, not when a leaderboard stays empty.
    """
    found: dict[int, Declaration] = {}
    tree = ast.parse(test_text)

    def dotted(node: ast.expr) -> str | None:
        """What a name or attribute chain refers to, through the aliases (`_m.report` with `_m`
        bound to this module: "autograder.measure.report")."""
        if isinstance(node, ast.Attribute):
            base = dotted(node.value)
            return None if base is None else f"{base}.{node.attr}"
        if isinstance(node, ast.Name) and node.id in aliases:
            module, attr = aliases[node.id]
            return module if attr is None else f"{module}.{attr}"
        return None

    def is_report(func: ast.expr) -> bool:
        return dotted(func) == f"{__name__}.report"

    for index, statement in enumerate(tree.body):
        calls = [node for node in ast.walk(statement) if isinstance(node, ast.Call) and is_report(node.func)]
        if not calls:
            continue
        if not (isinstance(statement, ast.Expr) and statement.value is calls[0] and len(calls) == 1):
            raise DeclarationError(f"{grade_id}: call report() as a statement of its own at the top level of the "
                                   "test cell (not in a loop, a function or another expression)")
        call = calls[0]
        if len(call.args) != 2 or any(isinstance(a, ast.Starred) for a in call.args):
            raise DeclarationError(f"{grade_id}: report() takes a name and a value: report('precision', value, ...)")
        name = _literal(call.args[0], "name", grade_id)
        if not name.isidentifier():
            raise DeclarationError(f"{grade_id}: report()'s name {name!r} must be an identifier (letters, digits, _)")
        options = {"unit": "", "better": HIGHER, "role": INFO}
        for keyword in call.keywords:
            if keyword.arg in options:
                options[keyword.arg] = _literal(keyword.value, keyword.arg, grade_id)
            elif keyword.arg != "target":
                raise DeclarationError(f"{grade_id}: report() has no argument {keyword.arg!r}")
        if options["better"] not in (HIGHER, LOWER):
            raise DeclarationError(f"{grade_id}: report()'s better= is 'higher' or 'lower', not {options['better']!r}")
        if options["role"] not in (PRIMARY, GUARDRAIL, INFO):
            raise DeclarationError(f"{grade_id}: report()'s role= is 'primary', 'guardrail' or 'info'")
        found[index] = Declaration(name, **options)
    return found


def meets(value: float | None, target: float | None, better: str) -> bool | None:
    """Whether a measured value meets its target (None when there is no target; a value that
    could not be measured misses it)."""
    if target is None:
        return None
    if value is None:
        return False
    return value >= target if better == HIGHER else value <= target
