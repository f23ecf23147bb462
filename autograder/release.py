"""source/ -> release/: the student version of each assignment, made by nbgrader's preprocessors.

The release must carry no solution, no hidden test, no mark scheme and no output. Every file that
goes to release/ is checked: the graded notebook and any other notebook in the assignment's folder
go through nbgrader's preprocessors (a second notebook with graded parts is refused, since an
assignment is graded from one notebook), other files are copied as they are, and all of them must
pass the leak check against every source notebook's secret lines. Otherwise we refuse
(ReleaseLeakError) rather than write a release that leaks. The write is atomic: the new folder is
built beside the old one and swapped in. A file someone edited in release/ since the last release
is never replaced without --overwrite (release_record.py).
"""
from __future__ import annotations

import ast
import copy
import re
import shutil
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from autograder import cells as C
from autograder.errors import ReleaseLeakError, SourceNotebookError
from autograder.layout import Course
from autograder.release_record import refuse_to_overwrite, write_record

# nbgrader's GenerateAssignment pipeline, minus the gradebook (the grader registers source cells
# in the gradebook when it grades). Ordering rules:
# - LockCells before ClearSolutions: locking reads the solution/grade flags of the source cells.
# - ClearSolutions and ClearHiddenTests before ComputeChecksums: checksums describe exactly what
#   students receive, so nbgrader's own tools can tell whether they changed a locked cell.
# - CheckCellMetadata first and last: reject malformed metadata before and after rewriting.
# (Named here, imported from nbgrader.preprocessors on first use: importing nbgrader starts its
# whole server stack, about 1.5 s, which a grading worker never needs.)
RELEASE_PREPROCESSORS = (
    "CheckCellMetadata",
    "LockCells",
    "ClearSolutions",
    "ClearOutput",
    "ClearHiddenTests",
    "ClearMarkScheme",
    "ComputeChecksums",
    "CheckCellMetadata",
)

# The preprocessors above that change what a cell says (the others check metadata, lock cells,
# clear outputs and add checksums): enough to know what the student received in each cell.
CLEARING_PREPROCESSORS = ("ClearSolutions", "ClearHiddenTests", "ClearMarkScheme")


def nbgrader_preprocessors(names) -> list:
    """The nbgrader preprocessor classes of these names, in this order."""
    import nbgrader.preprocessors

    return [getattr(nbgrader.preprocessors, name) for name in names]

LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                "BEGIN MARK SCHEME", "END MARK SCHEME")
# Also catches misspelt markers (an author's typo leaves a block nbgrader does not recognise).
_LEAK_PATTERN = re.compile(r"(BEGIN|END)\s*(HIDDEN|SOLUTION|MARK\s*SCHEME)", re.I)
_SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)
_MARK_SCHEME_BLOCK = re.compile(r"=== BEGIN MARK SCHEME ===(.*?)=== END MARK SCHEME ===", re.S)


def _measure_problems(nb: nbformat.NotebookNode, cell, index: int, gid: str, locked: dict) -> list[str]:
    """A test cell's report() calls the grader could not read (autograder/measure.py); `locked`:
    the locked cells' import aliases (`assemble.locked_aliases`), parsed once for every test cell."""
    from autograder.assemble import import_aliases, test_measures
    from autograder.measure import DeclarationError

    try:
        test_measures(C.source(cell), import_aliases(nb, cell, locked), gid)
    except DeclarationError as error:
        return [f"cell {index}: {error}"]
    except SyntaxError:
        return []  # reported as the test's own failure when it runs
    return []


def validate_source(nb: nbformat.NotebookNode, name: str, rules: str = "strict") -> list[str]:
    """Authoring rules the grader relies on.

    Under this course's `strict` rules every violation is an error (SourceNotebookError naming
    each). Under `nbgrader` rules (an instructor's own nbgrader course) only what would make
    grading wrong is an error (a grade id used twice, markers nbgrader cannot clear, a kernel
    that is not Python); nbgrader's normal habits (code cells without metadata, tests without a
    hidden block, whole-cell solutions, no `parameters` cell) are returned as warnings.
    """
    from autograder.assemble import locked_aliases
    from autograder.nbgrader_course import kernel_problem

    errors, habits = [], []
    locked = None  # the locked cells' import aliases, parsed at the first test cell
    seen: dict[str, int] = {}
    has_parameters = False
    problem = kernel_problem(nb)
    if problem:
        raise SourceNotebookError(f"{name}: {problem}")
    for index, cell in enumerate(nb.cells):
        gid = C.grade_id(cell)
        if "parameters" in (cell.get("metadata", {}).get("tags") or []):
            has_parameters = True
        if gid:
            if gid in seen:
                errors.append(f"cell {index}: grade_id {gid!r} is also used by cell {seen[gid]}")
            seen[gid] = index
            if not re.fullmatch(r"[A-Za-z0-9_-]+", gid):
                habits.append(f"cell {index}: grade_id {gid!r} may only use letters, digits, '_' and '-'")
        if C.is_grade(cell) and C.points(cell) <= 0:
            habits.append(f"cell {index} ({gid}): a graded cell needs points > 0")
        if C.is_test(cell) and C.BEGIN_HIDDEN not in C.source(cell):
            habits.append(f"cell {index} ({gid}): a test cell needs a '{C.BEGIN_HIDDEN}' block")
        if C.is_test(cell):
            if locked is None:
                locked = locked_aliases(nb)
            errors += _measure_problems(nb, cell, index, gid, locked)
        if C.is_solution(cell) and cell.cell_type == "code" and "### BEGIN SOLUTION" not in C.source(cell):
            habits.append(f"cell {index} ({gid}): a code answer cell needs '### BEGIN SOLUTION' markers")
        if cell.cell_type == "code" and not C.grade_id(cell):
            habits.append(f"cell {index}: every code cell must be locked, an answer or a test "
                          "(give it nbgrader metadata) so the grader can restore it")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            habits.append(f"cell {index}: source notebooks are committed without outputs (clear them)")
    if not has_parameters:
        habits.append("no cell is tagged 'parameters' (papermill needs one to run the notebook small)")
    strict = rules == "strict"
    problems = errors + (habits if strict else [])
    if not problems:
        try:
            released = make_release_notebook(nb)
        except RuntimeError as error:  # nbgrader refuses markers outside cells marked for them
            raise SourceNotebookError(f"{name}: nbgrader cannot make the student version: {error}") from None
        for index, cell in enumerate(released.cells):
            if cell.cell_type == "code" and C.is_solution(cell):
                try:
                    ast.parse(TransformerManager().transform_cell(C.source(cell)))
                except SyntaxError as error:
                    (problems if strict else habits).append(
                        f"cell {index} ({C.grade_id(cell)}): the released answer cell is not valid "
                        f"Python ({error.msg}, line {error.lineno}); keep the solution markers around "
                        "whole statements")
    if problems:
        raise SourceNotebookError(f"{name} breaks the authoring rules:\n  - " + "\n  - ".join(problems))
    return [] if strict else habits


def load_source(course: Course, assignment: str, warnings: list[str] | None = None) -> nbformat.NotebookNode:
    """The source notebook of `course.notebook_name(assignment)` as release and grading use it:
    checked by the assignment's rules, AUTOTEST lines expanded, the course's answer stubs
    recorded (see nbgrader_course.py). Warnings under nbgrader's rules go to `warnings`."""
    from autograder.nbgrader_course import prepare_source

    path = course.source_notebook(assignment)
    nb = nbformat.read(path, as_version=4)
    try:
        shown = str(path.relative_to(course.root))
    except ValueError:
        shown = str(path)
    found = validate_source(nb, shown, course.rules(assignment))
    if warnings is not None:
        warnings += [f"{shown}: {w}" for w in found]
    return prepare_source(nb, path, course.root)


def make_release_notebook(source_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Apply nbgrader's release preprocessors to a copy of a source notebook."""
    from autograder.nbgrader_course import preprocessor_config

    nb = copy.deepcopy(source_nb)
    resources = {"language": "python"}
    config = preprocessor_config(source_nb)
    for preprocessor in nbgrader_preprocessors(RELEASE_PREPROCESSORS):
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    for cell in nb.cells:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("autograder", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("autograder", None)
    return nb


def cleared_sources(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """Each cell with a grade id as the release shows it (answer stubs, test cells without their
    hidden blocks, task cells without their mark scheme); cheaper than the whole release."""
    from autograder.nbgrader_course import preprocessor_config

    nb = copy.deepcopy(source_nb)
    resources = {"language": "python"}
    config = preprocessor_config(source_nb)
    for preprocessor in nbgrader_preprocessors(CLEARING_PREPROCESSORS):
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    return {C.grade_id(c): C.source(c) for c in nb.cells if C.grade_id(c)}


def _distinctive_lines(text: str, min_length: int) -> set[str]:
    return {line.strip() for line in text.splitlines()
            if len(line.strip()) >= min_length and not line.strip().startswith("#")}


def secret_lines(source_nb: nbformat.NotebookNode) -> tuple[set[str], set[str]]:
    """(secret, public): distinctive lines of solutions, hidden tests and mark schemes, and the
    lines the source shows outside them (fine to publish even where a secret block repeats them)."""
    public: set[str] = set()
    secret: set[str] = set()
    for cell in source_nb.cells:
        text = C.source(cell)
        if C.is_test(cell):
            public |= {line.strip() for line in C.visible_part(text).splitlines()}
            secret |= C.hidden_lines(nbformat.v4.new_notebook(cells=[cell]))
            continue
        for block in _MARK_SCHEME_BLOCK.findall(text):
            secret |= _distinctive_lines(block, 20)
        text = _MARK_SCHEME_BLOCK.sub("", text)
        if C.is_solution(cell):
            blocks = _SOLUTION_BLOCK.findall(text)
            if cell.cell_type != "code" and not blocks:
                blocks = [text]  # nbgrader replaces a whole written answer: all of it is the model answer
            for block in blocks:
                secret |= _distinctive_lines(block, 30)
            text = _SOLUTION_BLOCK.sub("", text) if cell.cell_type == "code" or _SOLUTION_BLOCK.search(text) else ""
        public |= {line.strip() for line in text.splitlines()}
    return secret, public


def _text_leaks(text: str, secret: set[str], where: str) -> list[str]:
    leaks = [f"{where} contains the marker '{match.group(0)}'" for match in _LEAK_PATTERN.finditer(text)]
    lines = {line.strip() for line in text.splitlines()}
    leaks += [f"{where} shows a line of a solution, hidden test or mark scheme: {line[:80]!r}"
              for line in sorted(secret & lines)]
    return leaks


def notebook_leaks(release_nb: nbformat.NotebookNode, secret: set[str]) -> list[str]:
    """Everything in a student notebook that students must not see, given the secret lines."""
    leaks = []
    for index, cell in enumerate(release_nb.cells):
        leaks += _text_leaks(C.source(cell), secret, f"cell {index}")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            leaks.append(f"cell {index} carries outputs or an execution count")
    return leaks


def file_leaks(data: bytes, secret: set[str]) -> list[str]:
    """What a file copied as is into the release would show that students must not see."""
    # latin-1 maps every byte, so markers are found in any file, text or binary
    return _text_leaks(data.decode("latin-1"), set(), "it") + \
        [leak for leak in _text_leaks(data.decode("utf-8", errors="replace"), secret, "it")
         if "contains the marker" not in leak]


def find_leaks(source_nb: nbformat.NotebookNode, release_nb: nbformat.NotebookNode) -> list[str]:
    """Everything in `release_nb` that students must not see."""
    secret, public = secret_lines(source_nb)
    return notebook_leaks(release_nb, secret - public)


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    tmp.replace(path)


def _graded_cells(nb: nbformat.NotebookNode) -> list[str]:
    return [C.grade_id(cell) or f"cell {index}" for index, cell in enumerate(nb.cells)
            if C.is_grade(cell) or C.meta(cell).get("task")]


def release_files(course: Course, assignment: str, warnings: list[str] | None = None) -> dict[str, bytes]:
    """Every file that goes to release/<assignment>/ (relative path -> bytes), each checked.

    The graded notebooks (one under this course's rules, every top-level notebook of an nbgrader
    assignment) and every other notebook in the folder go through nbgrader's release
    preprocessors; other files are copied as they are. All of them must pass the leak check
    against the secret lines of every source notebook of the assignment; otherwise
    ReleaseLeakError lists each problem and what to do about it. Warnings of nbgrader-rule
    notebooks are appended to `warnings`.
    """
    course.check_assignment(assignment)
    folder = course.source / assignment
    graded_names = course.notebooks(assignment)
    main = graded_names[0]
    problems: list[str] = []
    sources = {name: load_source(course.with_notebook(name), assignment, warnings) for name in graded_names}
    for path in course.extra_notebooks(assignment):
        name = path.relative_to(folder).as_posix()
        try:
            sources[name] = nbformat.read(path, as_version=4)
        except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
            problems.append(f"{name} is not a readable notebook ({type(error).__name__}); fix it or move it "
                            f"out of source/{assignment}/ (everything there is published)")
    secret: set[str] = set()
    public: set[str] = set()
    for nb in sources.values():
        more_secret, more_public = secret_lines(nb)
        secret |= more_secret
        public |= more_public
    secret -= public

    files: dict[str, bytes] = {}
    for name, nb in sources.items():
        if name not in graded_names:
            graded = _graded_cells(nb)
            if graded:
                problems.append(
                    f"{name} has graded parts ({', '.join(graded[:8])}), but `autograder grade` grades one "
                    f"notebook per assignment, {main}: move those parts into {main}, or make the notebook an "
                    f"assignment of its own (source/NN-name/NN-name.ipynb)")
                continue
        try:
            released = make_release_notebook(nb)
        except RuntimeError as error:  # nbgrader refuses markers outside cells marked for them
            problems.append(f"{name}: nbgrader cannot make a student version ({error}); mark its cells with "
                            "nbgrader's Create Assignment toolbar, or move it out of the assignment folder")
            continue
        leaks = notebook_leaks(released, secret)
        problems += [f"{name}: {leak}" for leak in leaks]
        files[name] = (nbformat.writes(released) + "\n").encode("utf-8")
    for path in course.supporting_files(assignment):
        name = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        leaks = file_leaks(data, secret)
        if leaks:
            problems += [f"{name} would be copied to release/ as is, and {leak}: remove that text or the file, "
                         f"or keep the file outside source/{assignment}/" for leak in leaks[:3]]
        files[name] = data
    if problems:
        raise ReleaseLeakError(
            f"refusing to release {assignment}: the student version would leak\n  - " + "\n  - ".join(problems)
            + "\nEverything in the assignment's folder is published. Fix the source (solution, hidden-test and "
            "mark-scheme markers inside cells marked for them) and run the release again.")
    return files


def release_assignment(course: Course, assignment: str, overwrite: bool = False,
                       warnings: list[str] | None = None) -> Path:
    """Regenerate release/<assignment>/ from source/<assignment>/. Returns the release notebook path.

    Nothing is written unless every file passes the leak check; the new folder is built beside
    the old one and swapped in. A file someone edited since the last release is never replaced
    (OverwriteError says how to keep it) unless `overwrite` (see release_record.py)."""
    files = release_files(course, assignment, warnings)
    if not overwrite:
        refuse_to_overwrite(course.release, assignment, files)
    folder = course.source / assignment
    final = course.release / assignment
    staging = course.release / f".{assignment}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, data in files.items():
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if not name.endswith(".ipynb"):
            shutil.copystat(folder / name, target)
    old = course.release / f".{assignment}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    write_record(course.release, assignment, files)
    return final / course.notebooks(assignment)[0]


def release(course: Course, assignments: list[str] | None = None, overwrite: bool = False,
            warnings: list[str] | None = None) -> list[Path]:
    return [release_assignment(course, a, overwrite, warnings) for a in (assignments or course.assignments())]
