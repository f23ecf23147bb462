"""Gradescope: the autograder zip (`autograder gradescope`), and its run_autograder in a folder laid
out as Gradescope documents it (/autograder/source, /autograder/submission in,
/autograder/results/results.json out), with $GRADESCOPE_ROOT standing in for /autograder."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import cells as C
from autograder.platforms.gradescope import merge_results
from tests import minicourse as M
from tests.venvs import borrowed_venv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HIDDEN_LINE = "np.testing.assert_allclose(float(add(a, b)), a + b, rtol=1e-12)"
SOLUTION_LINES = ["return sum(xs) / len(xs)", "return np.asarray(values, dtype=float) * factor"]
# passes the visible test of `mean` (the mean of 1, 2, 3 is 2), fails its hidden ones
VISIBLE_ONLY = {"mean": "def mean_of(xs):\n    return 2"}


def build_zip(tmp_path: Path, *extra: str, course=None, assignment: str = M.ASSIGNMENT) -> tuple:
    course = course or M.build(tmp_path / "course")
    (course.root / "pyproject.toml").write_bytes((PROJECT_ROOT / "pyproject.toml").read_bytes())
    (course.root / "constraints.txt").write_bytes((PROJECT_ROOT / "constraints.txt").read_bytes())
    out = tmp_path / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "gradescope",
                           assignment, "--out", str(out), *extra], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return course, out


def test_the_zip_has_setup_and_run_at_its_root_and_hidden_tests_without_solutions(tmp_path):
    course, out = build_zip(tmp_path, "--timeout", "300")
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder"} <= names, "Gradescope looks for both at the root of the archive"
        for name in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(name).external_attr >> 16
            assert mode & stat.S_IXUSR, f"{name} must be executable"
            assert archive.read(name).startswith(b"#!/usr/bin/env bash")
        texts = {n: archive.read(n).decode("utf-8", errors="replace") for n in names}
        config = json.loads(texts["gradescope.json"])
    assert config["assignment"] == M.ASSIGNMENT and config["hidden_visibility"] == "after_due_date"
    assert "--timeout=300.0" in config["grade_args"]
    grading = nbformat.reads(texts[f"grading/source/{M.ASSIGNMENT}/{M.ASSIGNMENT}.ipynb"], as_version=4)
    visible = nbformat.reads(texts[f"visible/source/{M.ASSIGNMENT}/{M.ASSIGNMENT}.ipynb"], as_version=4)
    grading_text = "\n".join(C.source(c) for c in grading.cells)
    assert HIDDEN_LINE in grading_text, "the hidden tests go to Gradescope's side"
    assert HIDDEN_LINE not in "\n".join(C.source(c) for c in visible.cells)
    for name, text in texts.items():
        cells = "\n".join(C.source(c) for c in nbformat.reads(text, as_version=4).cells) if name.endswith(".ipynb") else ""
        for line in SOLUTION_LINES:
            assert line not in text and line not in cells, f"{name} carries a solution line: {line}"
        assert M.MARK_SCHEME not in text and M.MARK_SCHEME not in cells, f"{name} carries the mark scheme"
        if name.startswith("dist/"):
            assert HIDDEN_LINE not in text and HIDDEN_LINE not in cells, f"{name}: the student distribution"
    assert f"dist/course/materials/release/{M.ASSIGNMENT}/{M.ASSIGNMENT}.ipynb" in texts
    assert "dist/pyproject.toml" in texts and "dist/autograder/cli.py" in texts


def test_results_show_visible_tests_now_and_scores_after_the_due_date():
    graded = {"score": 2.0, "execution_time": 3.0, "output": "status: graded", "tests": [
        {"name": "add", "number": "1", "score": 2.0, "max_score": 2.0, "status": "passed", "output": "passed"},
        {"name": "mean", "number": "2", "score": 0.0, "max_score": 3.0, "status": "failed",
         "output": "AssertionError: mean of one value"}]}
    visible = {"score": 5.0, "execution_time": 2.0, "output": "status: graded", "tests": [
        {"name": "add", "number": "1", "score": 2.0, "max_score": 2.0, "status": "passed", "output": "passed"},
        {"name": "mean", "number": "2", "score": 3.0, "max_score": 3.0, "status": "passed", "output": "passed"}]}
    merged = merge_results(graded, visible, "after_due_date")
    assert merged["score"] == 2.0 and merged["execution_time"] == 5.0
    checks = [t for t in merged["tests"] if t["name"].endswith("visible tests")]
    scored = [t for t in merged["tests"] if t["name"].endswith("all tests")]
    assert [t["status"] for t in checks] == ["passed", "passed"]
    assert all(t["visibility"] == "visible" and "score" not in t and "max_score" not in t for t in checks), \
        "an informational check: no points, so nothing about the score shows before the due date"
    assert [(t["score"], t["max_score"], t["visibility"]) for t in scored] == \
        [(2.0, 2.0, "after_due_date"), (0.0, 3.0, "after_due_date")]
    assert "mean of one value" not in json.dumps(checks), "a hidden test's message waits for the due date"
    assert merged["stdout_visibility"] == "hidden"
    # parts graded by hand never get their points inside Gradescope (no gradebook reaches it): they
    # are left out of the autograder's scored tests, and one note (no score) says to grade them with
    # Gradescope's own manually graded questions, with their points
    hand = [{"name": "why (graded by hand)", "number": "3", "max_score": 1.0, "score": 0.0,
             "output": "to be graded by hand later; counts 0 until then", "tags": ["why", "manual"],
             "visibility": "visible"},
            {"name": "task (graded by hand)", "number": "4", "max_score": 2.0, "score": 0.0, "status": "failed",
             "output": "No response.", "tags": ["task", "no_response"], "visibility": "visible"}]
    merged = merge_results({**graded, "tests": graded["tests"] + hand},
                           {**visible, "tests": visible["tests"] + hand}, "after_due_date")
    assert not [t for t in merged["tests"] if t.get("tags", [None, None])[1] in ("manual", "no_response")]
    assert sum(t.get("max_score", 0) for t in merged["tests"]) == 5.0, "the autograder's maximum: autograded parts"
    note = next(t for t in merged["tests"] if t["name"] == "Graded by hand on Gradescope")
    assert "score" not in note and "max_score" not in note and note["visibility"] == "visible"
    assert "why (graded by hand): 1 point" in note["output"] and "task (graded by hand): 2 points" in note["output"]
    assert "left blank" in note["output"]
    assert len([t for t in merged["tests"] if t["name"].endswith("visible tests")]) == 2
    broken = merge_results(None, None, "after_due_date", "0 submissions found")
    assert broken["score"] == 0.0 and "could not grade" in broken["output"] and broken["tests"] == []


def _gradescope_root(tmp_path: Path, bundle: Path, name: str = "autograder") -> Path:
    root = tmp_path / name
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        os.chmod(root / "source" / name, 0o755)  # zipfile does not restore modes; Gradescope's unzip does
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope's image build does
    return root


def _submit(root: Path, notebook, names: dict | None = None) -> dict:
    """`names`: file name -> notebook, for an assignment of several notebooks."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    if notebook is not None:
        nbformat.write(notebook, root / "submission" / f"{M.ASSIGNMENT}.ipynb")
    for name, nb in (names or {}).items():
        nbformat.write(nb, root / "submission" / name)
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "GRADESCOPE_ROOT": str(root)})
    assert proc.returncode == 0, proc.stderr
    results = root / "results" / "results.json"
    assert results.is_file(), f"run_autograder must always write results.json\n{proc.stdout}\n{proc.stderr}"
    text = results.read_text()
    assert HIDDEN_LINE not in text, "no hidden test line reaches what students see"
    return json.loads(text)


@pytest.mark.slow
def test_run_autograder_in_a_gradescope_root_writes_results_json(tmp_path):
    """setup.sh installs the bundle's own student distribution into the root's venv (borrowing this
    project's third-party packages, see tests/venvs.py); run_autograder grades what is in
    submission/ and writes results/results.json. The bundle is built to grade without bubblewrap
    and without switching users: the borrowed packages live outside what a namespace sandbox
    mounts, and the test's interpreter is not readable by `nobody`; Gradescope's own image has
    neither problem."""
    course, bundle = build_zip(tmp_path, "--no-namespaces", "--sandbox-user", "")
    root = _gradescope_root(tmp_path, bundle)
    borrowed_venv(root / "venv")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source", capture_output=True,
                           text=True, timeout=900, env={**os.environ, "GRADESCOPE_ROOT": str(root),
                                                        "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"})
    assert setup.returncode == 0, setup.stderr
    where = subprocess.run([str(root / "venv" / "bin" / "python"), "-c", "import autograder; print(autograder.__file__)"],
                           capture_output=True, text=True, timeout=300, cwd=root)
    assert str(root / "venv") in where.stdout, "the grader that runs is the bundle's, installed by setup.sh"

    perfect = _submit(root, M.submission(course, M.PERFECT))
    assert perfect["score"] == M.MAX_SCORE
    checks = {t["name"]: t for t in perfect["tests"] if t["name"].endswith(": visible tests")}
    scored = {t["name"]: t for t in perfect["tests"] if t["name"].endswith(": all tests")}
    assert len(checks) == len(scored) == 3
    assert all(t["status"] == "passed" and t["visibility"] == "visible" and "score" not in t for t in checks.values())
    assert all(t["score"] == t["max_score"] and t["visibility"] == "after_due_date" for t in scored.values())

    sly = _submit(root, M.submission(course, {**M.PERFECT, **VISIBLE_ONLY}))
    mean_check = next(t for t in sly["tests"] if t["name"] == "mean: visible tests")
    mean_score = next(t for t in sly["tests"] if t["name"] == "mean: all tests")
    assert mean_check["status"] == "passed", "its visible test passes, and the student sees that now"
    assert (mean_score["score"], mean_score["status"], mean_score["visibility"]) == (0.0, "failed", "after_due_date"), \
        "the hidden tests fail it, shown after the due date"
    assert sly["score"] == M.MAX_SCORE - 3

    empty = _submit(root, None)
    assert empty["score"] == 0, empty
    assert empty["output"], "an empty submission still gets a results.json that says what happened"


def _course_with_a_visible_only_part(root: Path):
    """The mini course under nbgrader's authoring rules, its `add` test without hidden tests."""
    from autograder.layout import Course
    from autograder.release import release_assignment

    nb = M.source_notebook()
    for cell in nb.cells:
        if C.grade_id(cell) == "test_add":
            cell.source = C.visible_part(C.source(cell))
    (root / "source" / M.ASSIGNMENT).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.Autograder.authoring_rules = "nbgrader"\n')
    nbformat.write(nb, root / "source" / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb")
    course = Course(root)
    release_assignment(course, M.ASSIGNMENT)
    return course


def test_a_graded_batch_results_json_is_valid_and_hides_hidden_tests_until_the_due_date(tmp_path):
    """results/<student>.json of `autograder grade` in Gradescope's format: a part whose test cell has
    hidden tests shows after the due date (its message may come from a hidden test), a part with
    visible tests only shows now; a written answer still to be graded by hand scores 0 and says so,
    so every test has a score and they add up to the total."""
    course = _course_with_a_visible_only_part(tmp_path / "course")
    nb = M.submission(course, {**M.PERFECT, "mean": M.WRONG["mean"]})
    for cell in nb.cells:
        if C.grade_id(cell) == "why":
            cell.source = "Fresh inputs catch hard-coded answers."
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / "ann" / f"{M.ASSIGNMENT}.ipynb")
    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT,
                           str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--quiet"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "out" / "results" / "ann.json").read_text())
    by_part = {t["tags"][0]: t for t in data["tests"]}
    assert all(isinstance(t.get("score"), (int, float)) and "max_score" in t for t in data["tests"]), data["tests"]
    assert sum(t["score"] for t in data["tests"]) == data["score"] == M.MAX_SCORE - 3
    assert by_part["test_add"]["visibility"] == "visible", "visible tests only: nothing to hide"
    assert by_part["test_mean"]["visibility"] == by_part["test_scale"]["visibility"] == "after_due_date"
    assert by_part["test_mean"]["score"] == 0
    why = by_part["why"]
    assert (why["score"], why["max_score"]) == (0, 1) and "graded by hand later" in why["output"]
    assert "status" not in why, "neither passed nor failed while it waits for a grader"


def _two_notebook_course(root: Path):
    """An nbgrader assignment `hw` of two notebooks (nbgrader's layout allows several): part1 and
    part2, each the mini notebook."""
    from autograder.layout import Course
    from autograder.release import release_assignment

    (root / "source" / "hw").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    for name in ("part1", "part2"):
        nbformat.write(M.source_notebook(), root / "source" / "hw" / f"{name}.ipynb")
    course = Course(root)
    assert course.notebooks("hw") == ["part1.ipynb", "part2.ipynb"]
    release_assignment(course, "hw")
    return course


def _release_of(course, name: str, answers: dict):
    nb = nbformat.read(course.release / "hw" / name, as_version=4)
    for cell in nb.cells:
        if C.grade_id(cell) in answers:
            cell.source = answers[C.grade_id(cell)]
    return nb


def _setup(root: Path) -> None:
    borrowed_venv(root / "venv")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source", capture_output=True,
                           text=True, timeout=900, env={**os.environ, "GRADESCOPE_ROOT": str(root),
                                                        "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"})
    assert setup.returncode == 0, setup.stderr


@pytest.mark.slow
def test_an_assignment_of_several_notebooks_is_graded_notebook_by_notebook(tmp_path):
    """An nbgrader assignment with two notebooks: the bundle carries both, run_autograder grades each
    notebook the student uploaded and reports every part of both, the score adding them up; a
    notebook missing from the upload scores 0 and says so, the other is still graded."""
    course = _two_notebook_course(tmp_path / "course")
    _, bundle = build_zip(tmp_path, "--no-namespaces", "--sandbox-user", "", course=course, assignment="hw")
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    for label in ("grading", "visible"):
        assert {f"{label}/source/hw/part1.ipynb", f"{label}/source/hw/part2.ipynb"} <= names
    root = _gradescope_root(tmp_path, bundle)
    _setup(root)
    results = _submit(root, None, {"part1.ipynb": _release_of(course, "part1.ipynb", M.PERFECT),
                                   "part2.ipynb": _release_of(course, "part2.ipynb", {**M.PERFECT, **VISIBLE_ONLY})})
    scored = {t["name"]: t for t in results["tests"] if t["name"].endswith(": all tests")}
    assert set(scored) == {f"{nb}: {part}: all tests" for nb in ("part1", "part2") for part in ("add", "mean", "scale")}
    assert scored["part2: mean: all tests"]["score"] == 0 and scored["part1: mean: all tests"]["score"] == 3
    assert results["score"] == 2 * M.MAX_SCORE - 3
    assert len({t["number"] for t in results["tests"]}) == len(results["tests"]), "numbers stay unique"
    note = [t for t in results["tests"] if t["name"].endswith("Graded by hand on Gradescope")]
    assert len(note) == 2 and all("why" in t["output"] for t in note)

    half = _submit(root, None, {"part1.ipynb": _release_of(course, "part1.ipynb", M.PERFECT)})
    assert half["score"] == M.MAX_SCORE
    assert "part2.ipynb was not submitted" in half["output"], "part1 is not graded a second time as part2"
