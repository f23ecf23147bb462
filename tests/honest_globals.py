"""An honest student whose helpers read globals that share their names with the tests' own names.

`variant(source_nb, perfect_nb)` returns the perfect example with, added by the student:

* a first cell that binds, in the notebook's namespace, every name the source's test cells bind
  or read from the namespace (temporaries such as `_s`, `_p`, `got`, the test's own imports, the
  import aliases and builtins the tests rely on) to an object of the student's own, where no
  other cell of the notebook uses that name; `_s` is the `sys` module (the helper writes a warning
  to stderr through it, once per function);
* one line at the top of every function and method the answer cells define, calling a helper that
  raises if, while a test runs, any of those globals is no longer the object the student left
  there (or, at any time, if one of the student's own objects has vanished);
* right before each test cell, a cell that records the student's globals under those names and
  switches the helper's comparison on; right after it, a cell that switches it off, notes it if
  one of the student's own objects has vanished, and prints which functions have run the check
  so far (the tests call them), as proof that the check ran.

So a test that writes into, or a grader that injects into, the namespace the student's code
reads makes the student's functions fail, and the part is lost. Graded by a correct grader the
variant keeps full marks. The names come from the source notebook itself (see `test_names`).
"""
from __future__ import annotations

import ast
import copy
import re
import symtable

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from autograder import cells as C

HELPER = "_honest_check"
WARNING = "honest helper: checked the globals my code reads"
CALLED = "functions that checked my globals so far:"


def _python(cell) -> str:
    return TransformerManager().transform_cell(C.source(cell))


def _scope_names(table: symtable.SymbolTable, bound: set, read: set, top: bool) -> None:
    for symbol in table.get_symbols():
        name = symbol.get_name()
        if top:
            if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
                bound.add(name)
            elif symbol.is_referenced():
                read.add(name)
        elif symbol.is_declared_global() and symbol.is_assigned():
            bound.add(name)
        elif symbol.is_global() and symbol.is_referenced():
            read.add(name)
    for child in table.get_children():
        _scope_names(child, bound, read, top=False)


def cell_names(text: str) -> tuple[set[str], set[str]]:
    """(names the code binds in its module namespace, names it reads from it or from builtins)."""
    bound: set[str] = set()
    read: set[str] = set()
    _scope_names(symtable.symtable(text, "<cell>", "exec"), bound, read, top=True)
    return bound, read - bound


def test_names(source_nb: nbformat.NotebookNode) -> set[str]:
    """Every name a test cell of the source binds or reads from the notebook's namespace."""
    names: set[str] = set()
    for cell in source_nb.cells:
        if C.is_test(cell):
            bound, read = cell_names(_python(cell))
            names |= bound | read
    return {n for n in names if not n.startswith("__")}


def other_names(nb: nbformat.NotebookNode) -> set[str]:
    """Every identifier any non-test code cell of `nb` uses, in any scope."""
    used: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or C.is_test(cell):
            continue
        for node in ast.walk(ast.parse(_python(cell))):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                used.add(node.name)
            elif isinstance(node, ast.arg):
                used.add(node.arg)
            elif isinstance(node, ast.alias):
                used.add((node.asname or node.name).split(".")[0])
    return used


class _CallHelperFirst(ast.NodeTransformer):
    """Put `_honest_check('<name>')` at the top of every top-level function and method."""

    def __init__(self):
        self.depth = 0

    def _visit_function(self, node):
        # globals().get(...): the cell still runs on its own, where the helper is not defined
        check = ast.parse(f"globals().get({HELPER!r}, lambda where: None)({node.name!r})").body[0]
        call = check
        has_doc = node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) \
            and isinstance(node.body[0].value.value, str)
        node.body.insert(1 if has_doc else 0, call)
        return node  # nested functions are left alone

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def visit_ClassDef(self, node):
        for index, item in enumerate(node.body):
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                node.body[index] = self._visit_function(item)
        return node


def _with_helper_calls(text: str) -> str:
    tree = ast.parse(text)
    tree.body = [_CallHelperFirst().visit(node) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 else node for node in tree.body]
    return ast.unparse(ast.fix_missing_locations(tree))


def _first_cell(markers: list[str], watched: list[str]) -> str:
    return f"""
import sys as _s

class _HonestObject:
    def __init__(self, name):
        self.name = name
    def __repr__(self):
        return f'<my own {{self.name}}>'

_honest_missing = _HonestObject('nothing')
for _honest_name in {markers!r}:
    globals()[_honest_name] = _HonestObject(_honest_name)
_honest_mine = {{name: globals()[name] for name in {markers!r}}}
_honest_mine['_s'] = _s
_honest_watched = {watched!r}
_honest_seen = {{}}
_honest_warned = set()
_honest_lost = []
_honest_testing = [False]

def _honest_verify():
    for name, value in _honest_mine.items():
        if globals().get(name, _honest_missing) is not value:
            _honest_lost.append(name)

def _honest_before_test():
    _honest_verify()
    _honest_seen.clear()
    _honest_seen.update({{name: globals().get(name, _honest_missing) for name in _honest_watched}})
    _honest_testing[0] = True

def _honest_after_test():
    _honest_testing[0] = False
    _honest_verify()

def {HELPER}(where):
    if _honest_lost:
        raise RuntimeError(f'my globals {{sorted(set(_honest_lost))}} were replaced between my cells')
    if _honest_testing[0]:
        for name, value in _honest_seen.items():
            if globals().get(name, _honest_missing) is not value:
                raise RuntimeError(f'my global {{name!r}} is not what I left there (seen from {{where}})')
    if where not in _honest_warned:
        _honest_warned.add(where)
        print('{WARNING}:', where, file=_s.stderr)
"""


# IPython writes these into the notebook's namespace itself, for every cell the student runs.
IPYTHON_NAMES = re.compile(r"^(_+|_i+|_i\d+|_\d+|_ih|_oh|_dh|In|Out|exit|quit|get_ipython)$")


def variant(source_nb: nbformat.NotebookNode, perfect_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The perfect example rewritten as described in the module docstring."""
    names = {n for n in test_names(source_nb) if not IPYTHON_NAMES.match(n)} | {"_s"}
    helper_cell = nbformat.v4.new_code_cell(_first_cell([], []))
    taken = other_names(perfect_nb) | other_names(source_nb) | other_names(nbformat.v4.new_notebook(cells=[helper_cell]))
    markers = sorted(n for n in names if n not in taken and n != "_s")
    nb = copy.deepcopy(perfect_nb)
    cells = [nbformat.v4.new_code_cell(_first_cell(markers, sorted(names)).strip())]
    for cell in nb.cells:
        if cell.cell_type == "code" and C.is_solution(cell) and not C.is_manual(cell):
            cell.source = _with_helper_calls(_python(cell))
            cells.append(cell)
        elif C.is_test(cell):
            cells.append(nbformat.v4.new_code_cell("_honest_before_test()"))
            cells.append(cell)
            cells.append(nbformat.v4.new_code_cell(f"_honest_after_test()\nprint({CALLED!r}, sorted(_honest_warned))"))
        else:
            cells.append(cell)
    nb.cells = cells
    return nb


def functions_checked(printed: str) -> set[str]:
    """The functions that ran the check, from the printed output of a graded variant."""
    import ast as _ast

    found: set[str] = set()
    for line in printed.splitlines():
        if line.startswith(CALLED):
            try:
                found |= set(_ast.literal_eval(line[len(CALLED):].strip()))
            except (SyntaxError, ValueError):  # a line cut by the output limit
                continue
    return found


def for_assignment(assignment: str) -> nbformat.NotebookNode:
    """The variant built from an assignment's source notebook and its perfect example."""
    from tests import helpers as H

    source = nbformat.read(H.COURSE.source_notebook(assignment), as_version=4)
    return variant(source, H.example(assignment, "perfect"))


def check_full_marks(result, may: set[str] = frozenset()) -> None:
    """The variant, graded: full autograded marks (but for the parts in `may`, which another
    mistake graded in the same notebook may cost), and proof that the tests ran the check."""
    import html as _html

    from tests import helpers as H

    assert result.status == "graded", result.reason
    lost = {p.grade_id for p in result.parts if p.kind == "test" and not p.passed}
    assert lost <= set(may), f"an honest student lost points: {H.summary(result)}"
    printed = "\n".join(_html.unescape(m) for m in re.findall(r'<pre class="(?:out|err)">(.*?)</pre>',
                                                              result.feedback_html, re.S))
    assert functions_checked(printed), "no answer function ran its check while the tests ran"
