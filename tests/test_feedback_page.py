"""The feedback page shows what the student did: every figure the notebook shows (as Jupyter shows
it), maths rendered without a script or network, each part's row linked to its cell, "not
attempted" said once, and an unreadable notebook gets a page that says how to fix the file."""
from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import cells as C
from autograder import authoring as A
from autograder.layout import Course
from autograder.release import release_assignment
from tests.helpers import grade_notebooks

ASSIGNMENT = "00-figures"
PLOTS = """import numpy as np
fig, ax = plt.subplots()
ax.plot(np.arange(5))
fig2, ax2 = plt.subplots()
ax2.hist(np.arange(10))
### BEGIN SOLUTION
ANSWER = 42
### END SOLUTION"""


def _source() -> nbformat.NotebookNode:
    return A.notebook([
        A.markdown("# Figures and maths\n\nThe loss is $$L = -\\frac{1}{n}\\sum_i y_i \\log p_i$$ and "
                 "inline $\\alpha < 1$."),
        A.parameters("SEED = 0"),
        A.locked("imports", "import matplotlib.pyplot as plt"),
        A.answer("plots", PLOTS),
        A.tests("test_answer", 1, visible="assert ANSWER == 42, 'ANSWER should be 42'", hidden="assert ANSWER > 0"),
        A.locked("last_value", "fig3, ax3 = plt.subplots()\nax3.bar([0, 1], [1, 2])\nfig3"),
        A.answer("more", "def twice(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
        A.tests("test_twice", 1, visible="assert twice(2) == 4", hidden="assert twice(3) == 6"),
    ])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("figures")
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    nbformat.write(_source(), root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    course = Course(root)
    release_assignment(course, ASSIGNMENT)
    released = nbformat.read(course.release_notebook(ASSIGNMENT), as_version=4)
    perfect = nbformat.read(course.source_notebook(ASSIGNMENT), as_version=4)
    blank = released
    results = grade_notebooks(ASSIGNMENT, {"perfect": perfect, "blank": blank}, root / "work", course=course)
    broken = root / "broken" / "submissions" / "mangled"
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [ {"cell_type": "code", "sour')
    from autograder.grade import GradeOptions, grade_assignment

    grade_assignment(course, ASSIGNMENT, broken.parent, root / "work" / "out", GradeOptions(progress=False),
                     log=lambda *a: None)
    pages = {s: (root / "work" / "out" / "feedback" / s / f"{ASSIGNMENT}.html").read_text()
             for s in ("perfect", "blank", "mangled")}
    return {"course": course, "results": results, "pages": pages, "source": perfect}


def _shown_by_jupyter(nb: nbformat.NotebookNode) -> int:
    """How many figures Jupyter shows for this notebook (nbclient, a plain kernel)."""
    nb = nbformat.from_dict(nb)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return sum(1 for cell in nb.cells for out in cell.get("outputs", [])
               if "image/png" in out.get("data", {}) and not C.is_test(cell))


def test_every_figure_the_notebook_shows_is_on_the_page(graded):
    expected = _shown_by_jupyter(graded["source"])
    # two figures left open at the end of a cell, one both open and the cell's value (Jupyter shows it twice)
    assert expected >= 3
    page = graded["pages"]["perfect"]
    assert page.count('<img alt="figure"') == expected


def test_maths_is_rendered_as_mathml(graded):
    page = graded["pages"]["perfect"]
    assert "$$" not in page and "\\frac" not in page.split("<h2>")[1], "no raw TeX on the page"
    assert re.search(r"<math[^>]*display=\"block\"", page) and "<mfrac>" in page
    assert re.search(r"<math[^>]*>.*<mi>α</mi>", page), "inline maths too"
    assert "<script" not in page, "rendered without any script (nothing to fetch at view time)"


def test_maths_cannot_smuggle_html():
    from autograder.mathml import render_markdown

    html = render_markdown("$\\text{<img src=x onerror=alert(1)>}$ and $$</math><script>alert(1)</script>$$")
    assert "<script" not in html and "<img" not in html


def test_each_part_row_links_to_its_cell(graded):
    page = graded["pages"]["perfect"]
    for gid in ("test_answer", "test_twice"):
        assert f'href="#part-{gid}"' in page
        assert f'id="part-{gid}"' in page


def test_not_attempted_is_said_once_per_row(graded):
    page = graded["pages"]["blank"]
    table = page.split("</table>")[0]
    rows = [row for row in table.split("<tr>")[2:]]
    assert rows and all(row.count("not attempted") == 1 for row in rows), table


def test_unreadable_notebook_page_says_how_to_fix_it(graded):
    page = graded["pages"]["mangled"]
    assert "How to fix it" in page and "Save Notebook" in page
    assert "did not run" not in page, "no row per part that could not run"
