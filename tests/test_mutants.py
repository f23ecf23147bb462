"""The mutation-testing harness: single-fault mutants of solution code (autograder.mutants) and
their grading through the real grader (benchmarks/mutation.py) on the tiny test course."""
from __future__ import annotations

import ast
import collections

import nbformat
import pytest

from autograder.authoring import answer, notebook
from autograder.examples import reference_answer
from autograder.mutants import OPERATORS, cell_mutants, notebook_mutants, solution_lines
from benchmarks import mutation
from tests import minicourse as M

CELL = '''import numpy as np

def summary(values, cut=3, side="left"):
    """A docstring that stays as it is."""
    ### BEGIN SOLUTION
    values = np.asarray(values, dtype=float)
    total = 0
    for v in values:
        total += v
    if total > cut and not side == "right":
        return np.argmax(values), min(values.size, 2)
    label = f"total {total}"
    return -total / len(values) ** 2
    ### END SOLUTION
'''


@pytest.fixture(scope="module")
def mutants():
    return cell_mutants("summary", CELL)


def test_solution_lines_are_between_the_markers():
    lines = CELL.split("\n")
    inside = solution_lines(CELL)
    assert min(inside) == lines.index("    values = np.asarray(values, dtype=float)") + 1
    assert max(inside) == lines.index("    return -total / len(values) ** 2") + 1
    assert solution_lines("x = 1\n") == set()


def test_every_operator_makes_mutants(mutants):
    kinds = collections.Counter(m.operator for m in mutants)
    assert set(kinds) == set(OPERATORS), set(OPERATORS) - set(kinds)


def test_each_mutant_has_one_fault_inside_the_solution(mutants):
    head, rest = CELL.split("    ### BEGIN SOLUTION\n")
    body, tail = rest.split("    ### END SOLUTION\n")
    texts = set()
    for m in mutants:
        ast.parse(m.source)                       # still Python
        assert m.source.startswith(head + "    ### BEGIN SOLUTION\n"), m.describe()
        assert m.source.endswith("    ### END SOLUTION\n" + tail), m.describe()
        assert m.source != CELL and m.source not in texts   # a change, and no duplicates
        texts.add(m.source)
        assert m.before in body and m.after and m.line in solution_lines(CELL)


@pytest.mark.parametrize("operator, before, after", [
    ("compare", "total > cut", "(total >= cut)"),
    ("compare", 'side == "right"', "(side != 'right')"),
    ("constant", '"right"', "'left'"),
    ("binop", "len(values) ** 2", "(len(values) * 2)"),
    ("augassign", "total += v", "total -= v"),
    ("boolop", 'total > cut and not side == "right"', '(total > cut or not side == \'right\')'),
    ("unary", 'not side == "right"', "(side == 'right')"),
    ("unary", "-total", "(total)"),
    ("negate", 'total > cut and not side == "right"', "(not (total > cut and (not side == 'right')))"),
    ("constant", "0", "(1)"),
    ("constant", "2", "(3)"),
    ("call", "np.argmax(values)", "(np.argmin(values))"),
    ("call", "min(values.size, 2)", "(max(values.size, 2))"),
    ("swap_args", "min(values.size, 2)", "(min(2, values.size))"),
    ("drop_keyword", "np.asarray(values, dtype=float)", "(np.asarray(values))"),
    ("return", "np.argmax(values), min(values.size, 2)", "((min(values.size, 2), np.argmax(values)))"),
    ("return", "return -total / len(values) ** 2", "return None"),
    ("drop_statement", "total = 0", "pass"),
])
def test_the_faults_a_student_makes(mutants, operator, before, after):
    found = [(m.before, m.after) for m in mutants if m.operator == operator]
    assert (before, after) in found, found


def test_strings_docstrings_and_f_strings_are_left_alone(mutants):
    assert not [m for m in mutants if "total {total}" in m.before and m.operator == "constant"]
    assert not [m for m in mutants if "docstring" in m.before]
    signature = CELL.split("\n").index('def summary(values, cut=3, side="left"):') + 1
    assert all(m.line != signature for m in mutants)   # the signature is not solution code


def test_code_outside_the_markers_and_unparsable_cells_give_nothing():
    assert cell_mutants("c", "def f(x):\n    return x + 1\n") == []
    assert cell_mutants("c", "%timeit 1\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n") == []


def test_notebook_mutants_by_cell_and_unknown_cells():
    nb = notebook([answer("first", "### BEGIN SOLUTION\nx = 1 + 2\n### END SOLUTION"),
                   answer("second", "### BEGIN SOLUTION\ny = 3\n### END SOLUTION")])
    everything = notebook_mutants(nb)
    assert {m.cell for m in everything} == {"first", "second"}
    assert {m.cell for m in notebook_mutants(nb, ["second"])} == {"second"}
    with pytest.raises(ValueError, match="no code answer cell"):
        notebook_mutants(nb, ["third"])


def test_a_mutant_is_what_a_student_would_submit(mutants):
    submitted = reference_answer(mutants[0].source)
    assert "### BEGIN SOLUTION" not in submitted
    ast.parse(submitted)


def test_sample_keeps_at_most_n_per_cell_in_order():
    nb = nbformat.read(mutation.ROOT / "source" / "01-problem-framing" / "01-problem-framing.ipynb", as_version=4)
    everything = notebook_mutants(nb)
    few = mutation.sample(everything, 2, seed=3)
    per_cell = collections.Counter(m.cell for m in few)
    assert max(per_cell.values()) == 2 and set(per_cell) == {m.cell for m in everything}
    positions = [everything.index(m) for m in few]
    assert positions == sorted(positions)
    assert mutation.sample(everything, 2, seed=3) == few != mutation.sample(everything, 2, seed=4)


@pytest.mark.slow
def test_harness_grades_mutants_through_the_real_grader(tmp_path, capsys):
    """On the tiny course: a fault the tests see is killed, a harmless one survives, and the
    report says so per answer cell."""
    course = M.build(tmp_path / "course")
    source_nb = nbformat.read(course.source_notebook(M.ASSIGNMENT), as_version=4)
    everything = notebook_mutants(source_nb)
    killed_one = next(m for m in everything if m.cell == "add" and m.after == "(a - b)")
    harmless = next(m for m in everything if m.cell == "scale" and m.operator == "drop_keyword")
    options = mutation.GradeOptions(workers=2, progress=False, force=True, sandbox_user=None, use_namespaces=False)
    lines = []
    rows = mutation.run_mutants(course, M.ASSIGNMENT, source_nb, [killed_one, harmless], options, batch=2,
                                log=lines.append)
    assert [r["killed"] for r in rows] == [True, False]
    assert rows[0]["lost_parts"] == ["test_add"] and rows[1]["lost_parts"] == []
    assert rows[1]["score"] == M.MAX_SCORE
    assert "control 7/7" in lines[0] and "SURVIVED" in lines[-1]
    mutation.report(M.ASSIGNMENT, rows, 1.0)
    out = capsys.readouterr().out
    assert "add" in out and "scale" in out and "survivors" in out and harmless.describe() in out
