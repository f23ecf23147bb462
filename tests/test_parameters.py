"""Parameters an instructor grades with (`autograder grade -p NAME VALUE`, papermill's `-p`).

papermill injects them after the notebook's `parameters` cell, through the grader's engine
registered by name; the notebook then runs with them, the parts are still scored, the parameters
are part of the reuse key, and a name the `parameters` cell does not declare is a usage error.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import nbformat
import pytest

from autograder import cells as C
from tests import minicourse as M

pytestmark = pytest.mark.slow

SEED_PRINT = "print('seed seen by the notebook:', SEED)"


def run(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ))


@pytest.fixture(scope="module")
def course_and_subs(tmp_path_factory):
    base = tmp_path_factory.mktemp("params")
    course = M.build(base / "course")
    subs = base / "subs"
    (subs / "ada").mkdir(parents=True)
    nbformat.write(M.submission(course, M.PERFECT, extra_cells=[SEED_PRINT], after="add"),
                   subs / "ada" / f"{M.ASSIGNMENT}.ipynb")
    # papermill injects by tag: student cells tagged like the grader's own try to move the injection
    early = M.submission(course, M.PERFECT, extra_cells=[SEED_PRINT], after="add")
    decoy = nbformat.v4.new_code_cell("print('decoy parameters cell ran')\nSEED = 0")
    decoy.metadata["tags"] = ["parameters"]
    early.cells.insert(0, decoy)  # before the real `parameters` cell: papermill takes the first one
    late = M.submission(course, M.PERFECT, extra_cells=[SEED_PRINT], after="add")
    stale = nbformat.v4.new_code_cell("print('stale injected cell ran')")
    stale.metadata["tags"] = ["injected-parameters"]
    late.cells.append(stale)  # papermill replaces an existing injected cell wherever it is
    for student, nb in {"mal-early": early, "mal-late": late}.items():
        (subs / student).mkdir(parents=True)
        nbformat.write(nb, subs / student / f"{M.ASSIGNMENT}.ipynb")
    return course, subs, base


def _graded_notebook(out, student="ada"):
    return nbformat.read(out / "autograded" / student / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb", as_version=4)


def _printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_a_parameter_reaches_the_notebook_and_the_parts_are_still_scored(course_and_subs):
    course, subs, base = course_and_subs
    out = base / "out"
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1",
               "-p", "SEED", "7")
    assert proc.returncode == 0, proc.stderr
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert float(rows["ada"]["score"]) == M.MAX_SCORE, rows["ada"]  # test cells found though a cell was inserted
    nb = _graded_notebook(out)
    assert "seed seen by the notebook: 7" in _printed(nb)
    ids = [C.grade_id(c) for c in nb.cells]
    injected = [i for i, c in enumerate(nb.cells) if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and injected[0] == ids.index("parameters") + 1, "papermill's cell, after `parameters`"
    assert "SEED = 7" in nb.cells[injected[0]].source
    assert nb.metadata["papermill"]["parameters"] == {"SEED": 7}

    # student cells tagged `parameters` / `injected-parameters` ran as their own cells, and moved nothing
    for student, printed in {"mal-early": "decoy parameters cell ran", "mal-late": "stale injected cell ran"}.items():
        graded = _graded_notebook(out, student)
        assert printed in _printed(graded), f"{student}: the tagged cell ran"
        assert "seed seen by the notebook: 7" in _printed(graded), student
        assert sum("injected-parameters" in c.metadata.get("tags", []) for c in graded.cells) == 1, student

    # the same batch with the same parameter is reused; another value grades it again
    before = json.loads((out / "state" / "ada.json").read_text())["graded_at"]
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1",
               "-p", "SEED", "7")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "state" / "ada.json").read_text())["graded_at"] == before
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1",
               "-p", "SEED", "11")
    assert proc.returncode == 0, proc.stderr
    assert "parameters 3" in proc.stderr, proc.stderr  # the log says why it is graded again
    assert "seed seen by the notebook: 11" in _printed(_graded_notebook(out))


def test_without_parameters_the_notebook_runs_as_written(course_and_subs):
    course, subs, base = course_and_subs
    out = base / "plain"
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    nb = _graded_notebook(out)
    assert "seed seen by the notebook: 0" in _printed(nb)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


def test_a_parameter_the_notebook_does_not_declare_is_a_usage_error(course_and_subs, tmp_path):
    course, subs, _ = course_and_subs
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", tmp_path / "x", "-p", "SED", "7")
    assert proc.returncode == 2, proc.stderr
    assert "SED" in proc.stderr and "SEED" in proc.stderr, proc.stderr  # names the ones it declares
    assert not (tmp_path / "x" / "grades.csv").exists()
