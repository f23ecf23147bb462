"""Build nbgrader notebooks from Python: one function per kind of cell.

For assignment authors who prefer writing a notebook as code, and for the tests' fixture
notebooks. The cells carry nbgrader's metadata (schema 3) exactly as its "Create Assignment"
toolbar writes it.

    nb = notebook([
        markdown("# Peak QPS"),
        parameters("SEED = 0"),
        locked("imports", "import numpy as np"),
        answer("peak_qps", "def peak_qps(users, per_user, ratio):\\n    ### BEGIN SOLUTION\\n    ...\\n    ### END SOLUTION"),
        tests("test_peak_qps", 2, visible="assert ...", hidden="assert ..."),
        *written("rationale", 3, rubric="...", prompt="Explain ..."),
    ])
"""
from __future__ import annotations

import nbformat


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None,
          task: bool = False) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if grade or task:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def locked(grade_id: str, code: str) -> nbformat.NotebookNode:
    """Code students run but cannot change (imports, data loading, helpers)."""
    cell = nbformat.v4.new_code_cell(code.strip("\n"), metadata=_meta(grade_id, grade=False, solution=False, locked=True))
    cell.metadata["editable"] = False
    cell.metadata["deletable"] = False
    return cell


def parameters(code: str, grade_id: str = "parameters") -> nbformat.NotebookNode:
    """The papermill `parameters` cell (locked)."""
    cell = locked(grade_id, code)
    cell.metadata["tags"] = ["parameters"]
    return cell


def answer(grade_id: str, code: str) -> nbformat.NotebookNode:
    """A code cell the student fills in; the solution sits between BEGIN/END SOLUTION markers."""
    return nbformat.v4.new_code_cell(code.strip("\n"), metadata=_meta(grade_id, grade=False, solution=True, locked=False))


def tests(grade_id: str, points: float, visible: str, hidden: str) -> nbformat.NotebookNode:
    """A test cell: visible asserts that teach, then hidden asserts that judge."""
    source = visible.strip("\n") + "\n### BEGIN HIDDEN TESTS\n" + hidden.strip("\n") + "\n### END HIDDEN TESTS"
    cell = nbformat.v4.new_code_cell(source, metadata=_meta(grade_id, grade=True, solution=False, locked=True, points=points))
    cell.metadata["editable"] = False
    cell.metadata["deletable"] = False
    return cell


def written(grade_id: str, points: float, rubric: str = "", prompt: str | None = None) -> list:
    """A manually graded written answer (markdown) and, before it, its prompt.

    nbgrader's release replaces the whole answer cell with "YOUR ANSWER HERE", so the question
    must live in a cell of its own (returned first when `prompt` is given). The rubric sits in
    the answer cell between mark-scheme markers and is removed from the release.
    """
    text = "YOUR ANSWER HERE"
    if rubric:
        text = "=== BEGIN MARK SCHEME ===\n" + rubric.strip("\n") + "\n=== END MARK SCHEME ===\n\n" + text
    answer_cell = nbformat.v4.new_markdown_cell(
        text, metadata=_meta(grade_id, grade=True, solution=True, locked=False, points=points))
    return ([markdown(prompt)] if prompt else []) + [answer_cell]


def task(grade_id: str, points: float, text: str, mark_scheme: str = "") -> nbformat.NotebookNode:
    """nbgrader's "manually graded task": a locked markdown cell describing work the student does
    in the cells around it, graded by hand. The mark scheme is removed from the release."""
    source = text.strip("\n")
    if mark_scheme:
        source += "\n\n=== BEGIN MARK SCHEME ===\n" + mark_scheme.strip("\n") + "\n=== END MARK SCHEME ==="
    cell = nbformat.v4.new_markdown_cell(
        source, metadata=_meta(grade_id, grade=False, solution=False, locked=True, points=points, task=True))
    cell.metadata["editable"] = False
    cell.metadata["deletable"] = False
    return cell


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
    return nb
