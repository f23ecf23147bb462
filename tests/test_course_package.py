"""The course package as a whole: the syllabus matches the assignments, data paths resolve from
anywhere, and every course module a notebook imports has tests of its own."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import cells as C
from course import paths
from course.syllabus import SYLLABUS, show
from tests.helpers import COURSE, ROOT


def test_syllabus_matches_the_assignments(capsys):
    assert [a.id for a in SYLLABUS] == COURSE.assignments() or set(COURSE.assignments()) <= {a.id for a in SYLLABUS}
    show()
    assert "01-problem-framing" in capsys.readouterr().out


def _course_modules_imported_by_notebooks() -> set[str]:
    found = set()
    for assignment in COURSE.assignments():
        nb = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(C.source(cell))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course"):
                    found.add(node.module)
                elif isinstance(node, ast.Import):
                    found.update(a.name for a in node.names if a.name.startswith("course"))
    return found


def test_every_course_module_a_notebook_imports_is_tested():
    tests_text = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    def tested(module: str) -> bool:
        package, _, name = module.rpartition(".")
        return (f"from {module} import" in tests_text or f"import {module}" in tests_text
                or f"from {package} import {name}" in tests_text)

    untested = sorted(m for m in _course_modules_imported_by_notebooks() if m != "course" and not tested(m))
    assert untested == [], f"course modules used by notebooks without tests: {untested}"


def test_data_dir_from_any_working_directory(tmp_path):
    code = "import course; print(course.data_dir())"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()) == ROOT / "datasets"


def test_data_dir_override_and_clear_errors(tmp_path, monkeypatch):
    (tmp_path / "x.csv").write_text("a\n1\n")
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path))
    assert paths.dataset_path("x.csv") == tmp_path / "x.csv"
    with pytest.raises(FileNotFoundError, match="available: x.csv"):
        paths.dataset_path("missing.csv")
    with pytest.raises(ValueError, match="relative file name"):
        paths.dataset_path("../etc/passwd")
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        paths.data_dir()
