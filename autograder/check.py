"""`autograder check NOTEBOOK`: a student's own run of the visible tests.

The notebook is checked the way it will be graded: it is rebuilt around the RELEASE's cells (the
visible tests as the student received them, never the student's copy of them, and never the
source with its hidden tests), gets the release's files (data/ included) plus the student's own
files beside it, and runs in the same engine with the same receipts. So a part that passes here
passes its visible tests when graded; the hidden tests run only at grading time. Edited, deleted
or doubled test cells are reported, as nbgrader's validate does.

The release is looked up by `layout.find_release`: a course checkout's release/, or the one a
student distribution installs with the `course` package. Nothing is written next to the notebook, and the notebook is not modified.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder import results as R
from autograder.assemble import assemble, imported_modules
from autograder.errors import UsageError
from autograder.execute import run_notebook
from autograder.policy import kernel_policy
from autograder.layout import ReleaseFolder, find_release
from autograder.notebook_file import parse_notebook
from autograder.sandbox.config import KernelConfig
from autograder.sandbox.isolation import detect
from autograder.score import score_parts

OWN_FILES_LIMIT = 50 * 1024**2  # what a submission may carry besides its notebook
OWN_FILES_COUNT = 2000
_SKIP = {".ipynb_checkpoints", "__pycache__", ".git", "__MACOSX"}


@dataclass
class CheckReport:
    assignment: str
    release_notebook: Path
    parts: list[R.PartResult]
    reason: str = ""
    changed_tests: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    own_files: list[str] = field(default_factory=list)  # the student's files the notebook also got
    in_release_copy: bool = False  # the notebook checked is the release's own file


def which_assignment(release: ReleaseFolder, path: Path, nb: nbformat.NotebookNode) -> str:
    """The assignment a notebook belongs to: by its file or folder name, else by its cells."""
    known = release.assignments()
    for name in (path.stem, path.parent.name):
        if name in known:
            return name
    ids = {C.grade_id(cell) for cell in nb.cells} - {None}
    shared = {}
    for name in known:
        if not release.notebook(name, path.name).is_file():
            continue
        released = nbformat.read(release.notebook(name, path.name), as_version=4)
        shared[name] = len(ids & {C.grade_id(cell) for cell in released.cells})
    best = max(shared, key=shared.get, default=None)
    if best is None or shared[best] == 0:
        raise UsageError(f"{path} matches none of the assignments released in {release.folder} "
                         f"({', '.join(known)}): by name or by cells. Check the notebook you meant, or pass "
                         "--release DIR for the course it belongs to")
    return best


def own_files(folder: Path) -> tuple[dict[str, bytes], list[str]]:
    """The student's files beside the notebook, as a submitted folder would carry them (hidden
    files, checkpoints, links and other notebooks left out; at most what a submission may carry)."""
    files: dict[str, bytes] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or name.endswith(".ipynb") or path.is_symlink() or not path.is_file():
                continue
            total += path.stat().st_size
            if total > OWN_FILES_LIMIT or len(files) >= OWN_FILES_COUNT:
                return files, [f"only the first {len(files)} files beside the notebook were used (a submission "
                               f"carries at most {OWN_FILES_LIMIT // 1024**2} MB besides its notebook)"]
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files, []


def changed_by_checksum(nb: nbformat.NotebookNode) -> list[str]:
    """Test cells whose text no longer matches the checksum the release gave them (nbgrader's
    own check, for when the notebook being checked is the release's copy itself)."""
    from nbgrader.utils import compute_checksum

    changed = []
    for cell in nb.cells:
        recorded = C.meta(cell).get("checksum")
        if C.is_test(cell) and recorded and compute_checksum(cell) != recorded:
            changed.append(C.grade_id(cell) or "?")
    return changed


def check_notebook(path: Path, config: KernelConfig | None = None, release: Path | None = None) -> CheckReport:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} does not exist; pass the notebook you are working on, e.g. "
                         "work/01-problem-framing/01-problem-framing.ipynb")
    try:
        nb = parse_notebook(path.read_bytes())
    except ValueError as error:
        raise UsageError(f"{path} cannot be checked: {error}") from None
    found = find_release(path, release)
    assignment = which_assignment(found, path, nb)
    release_path = found.notebook(assignment, path.name)
    release_nb = nbformat.read(release_path, as_version=4)
    assembled = assemble(release_nb, nb, released=True)
    if not assembled.recognised:
        raise UsageError(f"{path} shares no answer or test cell with {release_path}: is it an assignment notebook?")
    report = CheckReport(assignment, release_path, [], changed_tests=list(assembled.changed_tests),
                         notes=[n for n in assembled.notes if not n.startswith("test cell")])
    if release_path.resolve() == path.resolve():
        report.in_release_copy = True
        report.changed_tests = changed_by_checksum(nb)
        report.notes.append(f"you are working in the release's own copy ({release_path}), so its original tests "
                            "cannot be restored here: work on a copy in a folder of your own "
                            f"(`autograder fetch {assignment}` makes one)")
    files, notes = own_files(path.parent)
    report.notes += notes
    released_files = found.files(assignment)
    report.own_files = sorted(set(files) - set(released_files))
    files.update(released_files)  # the assignment's files win over same-named student files, as in grading
    execution, key = run_notebook(assembled.notebook, config=config or KernelConfig(),
                                  isolation=detect(sandbox_user=None, use_namespaces=False),
                                  files=files, preimports=imported_modules(release_nb), policy=kernel_policy(),
                                  nbgrader_execution="validate")
    report.parts, _ = score_parts(assembled, execution, key, set())
    report.reason = execution.reason
    return report


def print_report(report: CheckReport, stream=None) -> None:
    stream = stream or sys.stdout
    parts = report.parts
    print(f"checked against {report.release_notebook} ({report.assignment})\n", file=stream)
    if report.changed_tests:
        what = ("The changed version ran here, so these results may not hold when graded, where the original "
                "tests run." if report.in_release_copy else
                "The release's version of each was run here; grading runs its own copy too.")
        print(f"WARNING: the contents of {len(report.changed_tests)} test cell(s) have changed "
              f"({', '.join(report.changed_tests)}). {what} Edits to tests never count: restore them from the "
              "release.\n", file=stream)
    for note in report.notes:
        print(f"note: {note}", file=stream)
    if report.own_files:
        shown = ", ".join(report.own_files[:8]) + (" ..." if len(report.own_files) > 8 else "")
        print(f"note: your own files beside the notebook were used too ({shown}); they count when graded only if "
              "you submit them with it", file=stream)
    if report.notes or report.own_files:
        print(file=stream)
    labels = {R.PASSED: "passed", R.FAILED: "FAILED", R.NOT_ATTEMPTED: "not attempted",
              R.NOT_RUN: "did not run", R.MANUAL: "graded by hand", R.NO_RESPONSE: "no response yet"}
    width = max([len(p.title) for p in parts] + [4])
    for p in parts:
        line = f"{p.title:<{width}}  {labels.get(p.outcome, p.outcome):<14} {p.max_points:g} pts"
        print(line, file=stream)
        if p.message and p.outcome not in (R.PASSED, R.MANUAL, R.NO_RESPONSE):
            for text in p.message.splitlines()[:6]:
                print(f"{'':<{width}}    {text}", file=stream)
    tests = [p for p in parts if p.kind == "test"]
    passed = [p for p in tests if p.passed]
    at_stake = sum(p.max_points for p in tests)
    print(f"\nvisible tests passed in {len(passed)} of {len(tests)} parts "
          f"({sum(p.max_points for p in passed):g} of {at_stake:g} points at stake).", file=stream)
    hand = sum(p.max_points for p in parts if p.kind == R.HAND)
    if hand:
        print(f"{hand:g} more points are graded by hand (written answers and tasks; a blank answer scores 0); "
              f"{at_stake + hand:g} points in all.", file=stream)
    print("Hidden tests run only when your notebook is graded, so full marks here are necessary, "
          "not sufficient.", file=stream)
    if report.reason:
        print(f"note: {report.reason}", file=stream)
