"""source/ -> release/: the student version of each assignment, made by nbgrader's preprocessors.

The release must carry no solution, no hidden test and no output. After generating it we check
that, and refuse (ReleaseLeakError) rather than write a release that leaks. The write is atomic:
the new folder is built beside the old one and swapped in.
"""
from __future__ import annotations

import ast
import copy
import re
import shutil
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)

from autograder import cells as C
from autograder.errors import ReleaseLeakError, SourceNotebookError
from autograder.layout import Course

# nbgrader's GenerateAssignment pipeline, minus the gradebook (the grader registers source cells
# in the gradebook when it grades). Ordering rules:
# - LockCells before ClearSolutions: locking reads the solution/grade flags of the source cells.
# - ClearSolutions and ClearHiddenTests before ComputeChecksums: checksums describe exactly what
#   students receive, so nbgrader's own tools can tell whether they changed a locked cell.
# - CheckCellMetadata first and last: reject malformed metadata before and after rewriting.
RELEASE_PREPROCESSORS = [
    CheckCellMetadata,
    LockCells,
    ClearSolutions,
    ClearOutput,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]

LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                "BEGIN MARK SCHEME", "END MARK SCHEME")
# Also catches misspelt markers (an author's typo leaves a block nbgrader does not recognise).
_LEAK_PATTERN = re.compile(r"(BEGIN|END)\s*(HIDDEN|SOLUTION|MARK\s*SCHEME)", re.I)
_SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)
_MARK_SCHEME_BLOCK = re.compile(r"=== BEGIN MARK SCHEME ===(.*?)=== END MARK SCHEME ===", re.S)


def validate_source(nb: nbformat.NotebookNode, name: str) -> None:
    """Authoring rules the grader relies on; raise SourceNotebookError naming each violation."""
    problems = []
    seen: dict[str, int] = {}
    has_parameters = False
    for index, cell in enumerate(nb.cells):
        gid = C.grade_id(cell)
        if "parameters" in (cell.get("metadata", {}).get("tags") or []):
            has_parameters = True
        if gid:
            if gid in seen:
                problems.append(f"cell {index}: grade_id {gid!r} is also used by cell {seen[gid]}")
            seen[gid] = index
            if not re.fullmatch(r"[A-Za-z0-9_-]+", gid):
                problems.append(f"cell {index}: grade_id {gid!r} may only use letters, digits, '_' and '-'")
        if C.is_grade(cell) and C.points(cell) <= 0:
            problems.append(f"cell {index} ({gid}): a graded cell needs points > 0")
        if C.is_test(cell) and C.BEGIN_HIDDEN not in C.source(cell):
            problems.append(f"cell {index} ({gid}): a test cell needs a '{C.BEGIN_HIDDEN}' block")
        if C.is_solution(cell) and cell.cell_type == "code" and "### BEGIN SOLUTION" not in C.source(cell):
            problems.append(f"cell {index} ({gid}): a code answer cell needs '### BEGIN SOLUTION' markers")
        if cell.cell_type == "code" and not C.grade_id(cell):
            problems.append(f"cell {index}: every code cell must be locked, an answer or a test "
                            "(give it nbgrader metadata) so the grader can restore it")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"cell {index}: source notebooks are committed without outputs (clear them)")
    if not has_parameters:
        problems.append("no cell is tagged 'parameters' (papermill needs one to run the notebook small)")
    if not problems:
        released = make_release_notebook(nb)
        for index, cell in enumerate(released.cells):
            if cell.cell_type == "code" and C.is_solution(cell):
                try:
                    ast.parse(TransformerManager().transform_cell(C.source(cell)))
                except SyntaxError as error:
                    problems.append(f"cell {index} ({C.grade_id(cell)}): the released answer cell is not valid "
                                    f"Python ({error.msg}, line {error.lineno}); keep the solution markers around "
                                    "whole statements")
    if problems:
        raise SourceNotebookError(f"{name} breaks the authoring rules:\n  - " + "\n  - ".join(problems))


def make_release_notebook(source_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Apply nbgrader's release preprocessors to a copy of a source notebook."""
    nb = copy.deepcopy(source_nb)
    resources = {"language": "python"}
    for preprocessor in RELEASE_PREPROCESSORS:
        nb, resources = preprocessor().preprocess(nb, resources)
    for cell in nb.cells:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("autograder", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("papermill", None)
    return nb


def _distinctive_lines(text: str, min_length: int) -> set[str]:
    return {line.strip() for line in text.splitlines()
            if len(line.strip()) >= min_length and not line.strip().startswith("#")}


def find_leaks(source_nb: nbformat.NotebookNode, release_nb: nbformat.NotebookNode) -> list[str]:
    """Everything in `release_nb` that students must not see."""
    leaks = []
    for index, cell in enumerate(release_nb.cells):
        text = C.source(cell)
        for match in _LEAK_PATTERN.finditer(text):
            leaks.append(f"cell {index} contains the marker '{match.group(0)}'")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            leaks.append(f"cell {index} carries outputs or an execution count")
    released_lines = set()
    for cell in release_nb.cells:
        released_lines |= {line.strip() for line in C.source(cell).splitlines()}
    public_lines = set()  # lines that are fine to publish because the source shows them outside answers
    secret_lines = set()
    for cell in source_nb.cells:
        text = C.source(cell)
        if C.is_test(cell):
            public_lines |= {line.strip() for line in C.visible_part(text).splitlines()}
            secret_lines |= C.hidden_lines(nbformat.v4.new_notebook(cells=[cell]))
        elif C.is_solution(cell):
            for block in _SOLUTION_BLOCK.findall(text) + _MARK_SCHEME_BLOCK.findall(text):
                secret_lines |= _distinctive_lines(block, 30)
            outside = _MARK_SCHEME_BLOCK.sub("", _SOLUTION_BLOCK.sub("", text))
            public_lines |= {line.strip() for line in outside.splitlines()}
        else:
            public_lines |= {line.strip() for line in text.splitlines()}
    for line in sorted((secret_lines - public_lines) & released_lines):
        leaks.append(f"the release shows a line of a solution or hidden test: {line[:80]!r}")
    return leaks


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    tmp.replace(path)


def release_assignment(course: Course, assignment: str) -> Path:
    """Regenerate release/<assignment>/ from source/<assignment>/. Returns the release notebook path."""
    course.check_assignment(assignment)
    source_path = course.source_notebook(assignment)
    source_nb = nbformat.read(source_path, as_version=4)
    validate_source(source_nb, str(source_path.relative_to(course.root)))
    release_nb = make_release_notebook(source_nb)
    leaks = find_leaks(source_nb, release_nb)
    if leaks:
        raise ReleaseLeakError(
            f"refusing to release {assignment}: the student version would leak\n  - " + "\n  - ".join(leaks)
            + "\nFix the source notebook (solution and hidden-test markers) and run the release again.")

    final = course.release / assignment
    staging = course.release / f".{assignment}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    write_notebook(release_nb, staging / course.notebook_name(assignment))
    for path in course.supporting_files(assignment):
        target = staging / path.relative_to(course.source / assignment)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    old = course.release / f".{assignment}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final / course.notebook_name(assignment)


def release(course: Course, assignments: list[str] | None = None) -> list[Path]:
    return [release_assignment(course, a) for a in (assignments or course.assignments())]
