"""`autograder release` never overwrites someone's work in release/ (issue: "Never overwrite a
student's work"): an edited notebook or a file nobody released stops the release, with what to do;
a stale generated file, or one that was only run or saved, is regenerated."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from autograder import cells as C
from autograder.release import release_files
from autograder.release_record import RECORD_NAME, fingerprint, read_record
from tests import minicourse as M
from tests.helpers import COURSE


def release_cli(course, *args):
    return subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "release", *args],
                          capture_output=True, text=True, timeout=300)


def answer_cell(nb, grade_id):
    return next(c for c in nb.cells if C.grade_id(c) == grade_id)


@pytest.fixture
def course(tmp_path):
    return M.build(tmp_path / "course")


def test_release_refuses_to_overwrite_an_edited_notebook(course):
    path = course.release_notebook(M.ASSIGNMENT)
    nb = nbformat.read(path, as_version=4)
    answer_cell(nb, "add").source = M.PERFECT["add"]  # a student's answer, typed into release/
    nbformat.write(nb, path)
    before = path.read_bytes()

    proc = release_cli(course)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "refusing to regenerate" in proc.stderr and f"{M.ASSIGNMENT}.ipynb" in proc.stderr, proc.stderr
    assert "--overwrite" in proc.stderr and "autograder fetch" in proc.stderr, "the message says what to do"
    assert path.read_bytes() == before, "the student's work is untouched"

    proc = release_cli(course, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert M.PERFECT["add"] not in C.source(answer_cell(nbformat.read(path, as_version=4), "add"))


def test_release_refuses_a_file_nobody_released(course):
    notes = course.release / M.ASSIGNMENT / "my-notes.txt"
    notes.write_text("half an answer\n")
    proc = release_cli(course)
    assert proc.returncode == 2 and "my-notes.txt" in proc.stderr, proc.stderr
    assert notes.read_text() == "half an answer\n"


def test_release_regenerates_a_stale_or_merely_run_notebook(course):
    path = course.release_notebook(M.ASSIGNMENT)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # what running it in JupyterLab and saving (or Validate) leaves behind
        if cell.cell_type == "code":
            cell.execution_count = 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    nb.metadata["widgets"] = {"state": {}}
    nbformat.write(nb, path)
    checkpoint = path.parent / ".ipynb_checkpoints" / f"{M.ASSIGNMENT}-checkpoint.ipynb"
    checkpoint.parent.mkdir()
    checkpoint.write_text("{}")
    # the instructor changes the narrative: the release must follow
    source = nbformat.read(course.source_notebook(M.ASSIGNMENT), as_version=4)
    source.cells[0].source = "# A tiny assignment, revised"
    nbformat.write(source, course.source_notebook(M.ASSIGNMENT))

    proc = release_cli(course)
    assert proc.returncode == 0, proc.stderr
    released = nbformat.read(path, as_version=4)
    assert C.source(released.cells[0]) == "# A tiny assignment, revised"
    assert not any(c.get("outputs") for c in released.cells if c.cell_type == "code")
    record = json.loads((course.release / RECORD_NAME).read_text())
    assert f"{M.ASSIGNMENT}.ipynb" in record["assignments"][M.ASSIGNMENT]


def test_without_a_record_only_untouched_notebooks_are_regenerated(course):
    """A course released before records existed: nbgrader's checksums and the answer stubs decide."""
    (course.release / RECORD_NAME).unlink()
    proc = release_cli(course)
    assert proc.returncode == 0, f"an untouched release is regenerated: {proc.stderr}"
    (course.release / RECORD_NAME).unlink()
    path = course.release_notebook(M.ASSIGNMENT)
    nb = nbformat.read(path, as_version=4)
    answer_cell(nb, "why").source = "Because a memorised answer fails on new inputs."
    nbformat.write(nb, path)
    proc = release_cli(course)
    assert proc.returncode == 2 and "no record of the last release" in proc.stderr, proc.stderr
    assert "memorised" in path.read_text()


def test_release_writes_its_record_atomically_and_deterministically(course):
    record = course.release / RECORD_NAME
    first = record.read_bytes()
    assert release_cli(course).returncode == 0
    assert record.read_bytes() == first, "the record is committed with the release: no timestamps, stable order"
    assert not [p for p in os.listdir(course.release) if p.endswith(".tmp")]


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_the_committed_record_matches_the_committed_release(assignment):
    """Otherwise the next release would take the committed (generated) files for someone's edits."""
    recorded = read_record(COURSE.release).get(assignment)
    assert recorded is not None, f"release/{RECORD_NAME} lacks {assignment}: run `autograder release {assignment}`"
    fresh = {name: fingerprint(name, data) for name, data in release_files(COURSE, assignment).items()}
    assert recorded == fresh, f"release/{RECORD_NAME} is stale: run `autograder release {assignment}`"
