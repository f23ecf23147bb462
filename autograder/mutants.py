"""Single-fault mutants of a notebook's solution code, to measure how much its tests catch.

A hidden test that a plausible mistake passes is a test that judges nothing. Mutation testing
measures that: make many copies of the reference solution, each with exactly one small fault
(a flipped comparison, an off-by-one constant, swapped arguments, a dropped statement...), grade
every copy, and count how many lose points (*killed*). Faults that keep full marks (*survivors*)
show where the tests are blind, or are *equivalent* mutants that change nothing a test could see
(``x <= 0`` vs ``x < 0`` for a value that is never 0): a person has to look at each survivor.

Only code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is mutated, one AST node at a
time; the rest of the cell (the signature a student is given) stays as it is. A mutant replaces
exactly the source span of one node, so comments, markers and formatting elsewhere survive.

    from autograder.mutants import notebook_mutants
    for m in notebook_mutants(source_nb):
        print(m.cell, m.operator, m.line, m.before, "->", m.after)
        m.source   # the whole answer cell, with the fault and the solution markers
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Iterator

from autograder import cells as C

__all__ = ["Mutant", "OPERATORS", "solution_lines", "cell_mutants", "notebook_mutants"]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"


@dataclass(frozen=True)
class Mutant:
    """One copy of an answer cell with one fault.

    Attributes
    ----------
    cell : str
        Grade id of the answer cell.
    operator : str
        Kind of fault, one of :data:`OPERATORS`.
    line, column : int
        Where the fault starts in the source cell (line 1-based, column 0-based).
    before, after : str
        The code of the mutated node before and after.
    source : str
        The whole mutated cell, solution markers included (as in the source notebook).
    note : str
        What changed, when ``before -> after`` would not show it at a glance (which keyword
        argument was left out).
    """

    cell: str
    operator: str
    line: int
    column: int
    before: str
    after: str
    source: str
    note: str = ""

    def describe(self) -> str:
        """``cell:line:column operator: before -> after`` (or the note) on one line."""
        change = self.note or f"{_short(self.before)} -> {_short(self.after)}"
        return f"{self.cell}:{self.line}:{self.column} {self.operator}: {change}"


#: Every kind of fault, with what it does.
OPERATORS = {
    "compare": "a comparison flipped or loosened (< to <= or >, == to !=, in to not in)",
    "binop": "an arithmetic operator changed (+ to -, * to /, / to //, ** to *)",
    "augassign": "an augmented assignment changed (+= to -=, *= to /=)",
    "boolop": "and to or, or to and",
    "unary": "a not or a minus sign removed",
    "negate": "the condition of an if, while or conditional expression negated",
    "constant": "an int off by one, a float doubled, a bool flipped, 'left' to 'right', 'min' to 'max'",
    "call": "a function swapped for its twin (min/max, argmin/argmax, mean/median, floor/ceil, any/all)",
    "swap_args": "the first two positional arguments of a call swapped",
    "drop_keyword": "an optional keyword argument left out (axis=, side=, ddof=, dtype=, keepdims=...)",
    "return": "a return value replaced by None, or a returned tuple's first two items swapped",
    "drop_statement": "one statement replaced by pass",
}

_COMPARE = {ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt),
            ast.GtE: (ast.Gt, ast.LtE), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
            ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,), ast.In: (ast.NotIn,), ast.NotIn: (ast.In,)}
_BINOP = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult, ast.FloorDiv),
          ast.FloorDiv: (ast.Div,), ast.Mod: (ast.FloorDiv,), ast.Pow: (ast.Mult,)}
_BOOLOP = {ast.And: ast.Or, ast.Or: ast.And}
_TWINS = {"min": "max", "max": "min", "argmin": "argmax", "argmax": "argmin", "nanmin": "nanmax",
          "nanmax": "nanmin", "minimum": "maximum", "maximum": "minimum", "mean": "median",
          "median": "mean", "nanmean": "nanmedian", "floor": "ceil", "ceil": "floor", "any": "all",
          "all": "any", "idxmin": "idxmax", "idxmax": "idxmin", "cumsum": "cumprod", "cumprod": "cumsum",
          "nlargest": "nsmallest", "nsmallest": "nlargest", "std": "var", "var": "std"}
_WORDS = {"left": "right", "right": "left", "min": "max", "max": "min", "first": "last", "last": "first",
          "mean": "median", "median": "mean", "linear": "quadratic", "quadratic": "linear",
          "lower": "higher", "higher": "lower", "inner": "outer", "outer": "inner"}
# Keyword arguments a student plausibly forgets (options with a default); leaving out a required
# argument only makes a TypeError that any test catches, which says nothing about the tests.
_OPTIONAL_KEYWORDS = {
    "axis", "dtype", "side", "ddof", "keepdims", "kind", "replace", "minlength", "return_counts",
    "return_index", "return_inverse", "ascending", "sort", "reverse", "key", "dropna", "normalize",
    "bins", "density", "weights", "sample_weight", "p", "endpoint", "right", "include_lowest",
    "how", "copy", "ignore_index", "zero_division", "pos_label", "average", "stratify", "shuffle",
    "random_state", "seed", "method", "interpolation", "where", "initial", "min_periods", "center",
    "closed", "fill_value", "equal_nan", "correction", "alternative", "rtol", "atol", "unbiased",
    "exclusive", "inclusive", "strict", "squeeze", "observed", "drop_first", "stable",
}
_TINY = 1e-6  # floats this small are tolerances: doubling them rarely means anything


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def solution_lines(text: str) -> set[int]:
    """The 1-based line numbers strictly between solution markers."""
    inside, lines = False, set()
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN_SOLUTION):
            inside = True
        elif stripped.startswith(END_SOLUTION):
            inside = False
        elif inside:
            lines.add(number)
    return lines


class _Source:
    """The cell's text with a way to replace the exact span of an AST node."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.split("\n")
        starts, total = [], 0
        for line in self.lines:
            starts.append(total)
            total += len(line.encode("utf-8")) + 1
        self._starts = starts
        self._bytes = text.encode("utf-8")

    def _offset(self, lineno: int, col: int) -> int:
        return self._starts[lineno - 1] + col

    def segment(self, node) -> str:
        a = self._offset(node.lineno, node.col_offset)
        b = self._offset(node.end_lineno, node.end_col_offset)
        return self._bytes[a:b].decode("utf-8")

    def replace(self, node, new_text: str) -> str:
        a = self._offset(node.lineno, node.col_offset)
        b = self._offset(node.end_lineno, node.end_col_offset)
        return (self._bytes[:a] + new_text.encode("utf-8") + self._bytes[b:]).decode("utf-8")


def _expr(node) -> str:
    """Source of a replacement expression, in parentheses so it binds the same in any context."""
    return f"({ast.unparse(node)})"


def _with(node, **changes):
    other = copy.deepcopy(node)
    for key, value in changes.items():
        setattr(other, key, value)
    return other


def _is_docstring(node, parent) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str) and parent is not None
            and getattr(parent, "body", [None])[0] is node)


def _name_of_call(func) -> tuple[str | None, str]:
    if isinstance(func, ast.Name):
        return func.id, "id"
    if isinstance(func, ast.Attribute):
        return func.attr, "attr"
    return None, ""


def _expression_faults(node) -> Iterator[tuple]:
    """(operator, replacement expression[, note]) for one expression node."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for other in _COMPARE.get(type(op), ()):
                ops = list(node.ops)
                ops[i] = other()
                yield "compare", _expr(_with(node, ops=ops))
    elif isinstance(node, ast.BinOp):
        for other in _BINOP.get(type(node.op), ()):
            yield "binop", _expr(_with(node, op=other()))
    elif isinstance(node, ast.BoolOp):
        yield "boolop", _expr(_with(node, op=_BOOLOP[type(node.op)]()))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        yield "unary", _expr(node.operand)
    elif isinstance(node, ast.IfExp):
        yield "negate", _expr(_with(node, test=ast.UnaryOp(op=ast.Not(), operand=node.test)))
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            yield "constant", repr(not value)
        elif isinstance(value, int):
            yield "constant", f"({value + 1})"
            yield "constant", f"({value - 1})"
        elif isinstance(value, float) and abs(value) >= _TINY:
            yield "constant", f"({value * 2!r})"
        elif isinstance(value, float) and value == 0.0:
            yield "constant", "(1.0)"
        elif isinstance(value, str) and value in _WORDS:
            yield "constant", repr(_WORDS[value])
    elif isinstance(node, ast.Call):
        name, kind = _name_of_call(node.func)
        if name in _TWINS:
            func = _with(node.func, **{kind: _TWINS[name]})
            yield "call", _expr(_with(node, func=func))
        positional = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(positional) == len(node.args) >= 2 and ast.dump(node.args[0]) != ast.dump(node.args[1]):
            args = list(node.args)
            args[0], args[1] = args[1], args[0]
            yield "swap_args", _expr(_with(node, args=args))
        for i, keyword in enumerate(node.keywords):
            if keyword.arg in _OPTIONAL_KEYWORDS:
                note = f"{_short(ast.unparse(node.func), 30)}(...) without {_short(ast.unparse(keyword), 30)}"
                yield "drop_keyword", _expr(_with(node, keywords=node.keywords[:i] + node.keywords[i + 1:])), note


def _statement_faults(node, parent) -> Iterator[tuple[str, str, object]]:
    """(operator, replacement text, node to replace) for one statement."""
    # replacements start at the statement's column and keep its line: no indentation to add
    if isinstance(node, ast.AugAssign):
        for other in _BINOP.get(type(node.op), ()):
            yield "augassign", ast.unparse(_with(node, op=other())), node
    if isinstance(node, (ast.If, ast.While)):
        negated = ast.UnaryOp(op=ast.Not(), operand=node.test)
        yield "negate", _expr(negated), node.test
    if isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            yield "return", "return None", node
        if isinstance(node.value, ast.Tuple) and len(node.value.elts) >= 2:
            elts = list(node.value.elts)
            elts[0], elts[1] = elts[1], elts[0]
            yield "return", _expr(_with(node.value, elts=elts)), node.value
    droppable = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Raise, ast.Assert,
                 ast.Delete, ast.If, ast.For, ast.While, ast.With, ast.Try)
    if isinstance(node, droppable) and not _is_docstring(node, parent):
        yield "drop_statement", "pass", node


def _parents(tree) -> dict:
    parents = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    return parents


def cell_mutants(grade_id: str, text: str) -> list[Mutant]:
    """Every single-fault mutant of the solution region(s) of one answer cell, in source order.

    Cells that do not parse as Python (IPython magics) give no mutants. Mutants whose text equals
    the original or another mutant's are dropped.
    """
    inside = solution_lines(text)
    if not inside:
        return []
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    source = _Source(text)
    parents = _parents(tree)
    seen, found = {text}, []

    def within(node) -> bool:
        return all(line in inside for line in range(node.lineno, node.end_lineno + 1))

    def add(operator: str, target, replacement: str, note: str = "") -> None:
        mutated = source.replace(target, replacement)
        if mutated in seen:
            return
        try:
            ast.parse(mutated)
        except SyntaxError:
            return
        seen.add(mutated)
        found.append(Mutant(cell=grade_id, operator=operator, line=target.lineno,
                            column=target.col_offset, before=source.segment(target),
                            after=replacement, source=mutated, note=note))

    in_fstring = {id(n) for f in ast.walk(tree) if isinstance(f, ast.JoinedStr) for n in ast.walk(f)}
    nodes = [n for n in ast.walk(tree)
             if hasattr(n, "lineno") and hasattr(n, "end_lineno") and id(n) not in in_fstring]
    nodes.sort(key=lambda n: (n.lineno, n.col_offset))
    for node in nodes:
        if not within(node):
            continue
        if isinstance(node, ast.stmt):
            for operator, replacement, target in _statement_faults(node, parents.get(node)):
                add(operator, target, replacement)
        elif isinstance(node, ast.expr):
            if isinstance(parents.get(node), ast.Expr) and _is_docstring(parents[node], parents.get(parents[node])):
                continue
            for operator, replacement, *note in _expression_faults(node):
                add(operator, node, replacement, *note)
    return found


def notebook_mutants(source_nb, cells=None) -> list[Mutant]:
    """Mutants of every code answer cell of a source notebook (or of the grade ids in ``cells``)."""
    wanted = None if cells is None else set(cells)
    known = set()
    found = []
    for cell in source_nb.cells:
        gid = C.grade_id(cell)
        if cell.get("cell_type") != "code" or not gid or not C.is_solution(cell):
            continue
        known.add(gid)
        if wanted is None or gid in wanted:
            found.extend(cell_mutants(gid, C.source(cell)))
    if wanted is not None and wanted - known:
        raise ValueError(f"no code answer cell named {sorted(wanted - known)}; the answer cells are "
                         f"{sorted(known)}")
    return found
